import { describe, expect, it } from "vitest";
import { formatBytes, photoUrl } from "./photos";

describe("photos", () => {
  it("addresses a photo under its ticket, ids encoded", () => {
    expect(photoUrl("a1", "b2")).toBe("/api/tickets/a1/photos/b2");
    expect(photoUrl("../x", "y?z")).toBe("/api/tickets/..%2Fx/photos/y%3Fz");
  });

  it("says a size as the room reads it, in its language", () => {
    expect(formatBytes(2.5 * 1024 * 1024, "id")).toBe("2,5 MB");
    expect(formatBytes(2.5 * 1024 * 1024, "en")).toBe("2.5 MB");
    expect(formatBytes(830 * 1024, "en")).toBe("830 KB");
    expect(formatBytes(10, "en")).toBe("1 KB");
  });
});
