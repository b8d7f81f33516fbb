import { describe, expect, it } from "vitest";
import { dayIn, niceCeiling, presetRange, reportDuration, reportQuery } from "./reports";

describe("report ranges", () => {
  it("picks whole days of the room's calendar", () => {
    expect(presetRange("today", "2026-12-04")).toEqual({ from: "2026-12-04", to: "2026-12-04" });
    expect(presetRange("last7", "2026-12-04")).toEqual({ from: "2026-11-28", to: "2026-12-04" });
    expect(presetRange("thisMonth", "2026-12-04")).toEqual({ from: "2026-12-01", to: "2026-12-04" });
    expect(presetRange("lastMonth", "2026-12-04")).toEqual({ from: "2026-11-01", to: "2026-11-30" });
    expect(presetRange("lastMonth", "2027-01-15")).toEqual({ from: "2026-12-01", to: "2026-12-31" });
    expect(presetRange("lastMonth", "2028-03-31")).toEqual({ from: "2028-02-01", to: "2028-02-29" });
  });

  it("reads the day in the room's zone, not the browser's", () => {
    const lateUtc = new Date("2026-11-30T17:30:00Z"); // 00:30 WIB on 1 December
    expect(dayIn(lateUtc, "Asia/Jakarta")).toBe("2026-12-01");
    expect(dayIn(lateUtc, "UTC")).toBe("2026-11-30");
  });
});

describe("charts and links", () => {
  it("tops the value axis at 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 3, 10, 11, 51, 1200].map(niceCeiling)).toEqual([1, 1, 5, 10, 20, 100, 2000]);
  });

  it("builds the export links and durations", () => {
    expect(reportQuery({ from: "2026-11-01", to: "2026-11-30" }, "pdf")).toBe(
      "/api/reports?from=2026-11-01&to=2026-11-30&format=pdf",
    );
    expect(reportQuery({ from: "2026-11-01", to: "2026-11-30" })).toBe("/api/reports?from=2026-11-01&to=2026-11-30");
    expect([reportDuration(null), reportDuration(12.34), reportDuration(3725)]).toEqual(["-", "12.3 s", "1:02:05"]);
  });
});
