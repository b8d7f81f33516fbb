import { describe, expect, it } from "vitest";
import { EMPTY_SEARCH, pickedSlot, SEARCH_LIMIT, searchQuery } from "./search";

describe("searchQuery", () => {
  it("sends only the filled fields, trimmed", () => {
    expect(searchQuery(EMPTY_SEARCH)).toEqual({ limit: SEARCH_LIMIT });
    expect(
      searchQuery({ ...EMPTY_SEARCH, number: " 0812-3456-7890 ", from: "2026-11-10", outcome: "abandoned", kecamatan: "  " }),
    ).toEqual({ limit: SEARCH_LIMIT, number: "0812-3456-7890", from: "2026-11-10", outcome: "abandoned" });
  });
});

describe("pickedSlot", () => {
  it("picks within the list and the nine digits only", () => {
    expect(pickedSlot(0, 3)).toBe(0);
    expect(pickedSlot(2, 3)).toBe(2);
    expect(pickedSlot(3, 3)).toBeNull();
    expect(pickedSlot(9, 20)).toBeNull();
    expect(pickedSlot(-1, 3)).toBeNull();
  });
});
