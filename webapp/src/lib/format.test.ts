import { describe, expect, it } from "vitest";
import {
  formatAccuracy,
  formatAge,
  formatClock,
  externalMapUrl,
  formatCoordinates,
  formatDuration,
  formatLocalNumber,
  secondsSince,
  formatWait,
  fromAsteriskRecords,
  retryAfterSeconds,
  zoneForOffset,
} from "./format";

describe("formatLocalNumber", () => {
  it.each([
    ["+6281234567890", "0812-3456-7890"],
    ["+628123456789", "0812-3456-789"],
    ["+628571234567890", "0857-1234-567890"],
    ["+6285712345678901", "+6285712345678901"], // longer than E.164 allows: shown as it came
    ["+62215551234", "021-5551234"],
    ["+62328662112", "0328-662112"],
    ["+6531234567", "+6531234567"],
    ["112", "112"],
    ["", ""],
    ["+62abc", "+62abc"],
  ])("%s -> %s", (e164, local) => {
    expect(formatLocalNumber(e164)).toBe(local);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0:00"],
    [7, "0:07"],
    [59.9, "0:59"],
    [754, "12:34"],
    [3723, "1:02:03"],
    [43200, "12:00:00"],
    [-5, "0:00"],
    [Number.NaN, "0:00"],
  ])("%s s -> %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("formatWait", () => {
  it("rounds up, in words", () => {
    expect(formatWait(44.2, "id")).toBe("45 detik");
    expect(formatWait(0, "en")).toBe("1 seconds");
    expect(formatWait(61, "en")).toBe("2 minutes");
  });
});

describe("the clock", () => {
  const instant = new Date("2026-12-01T23:59:30Z");

  it("shows the same instant in WIB, WITA and WIT, across midnight", () => {
    expect(formatClock(instant, "WIB")).toBe("06:59:30");
    expect(formatClock(instant, "WITA")).toBe("07:59:30");
    expect(formatClock(instant, "WIT")).toBe("08:59:30");
    expect(formatClock(new Date("2026-12-01T17:00:00Z"), "WIB")).toBe("00:00:00");
  });

  it("knows the zone of an Indonesian browser and no other", () => {
    expect(zoneForOffset(420)).toBe("WIB");
    expect(zoneForOffset(480)).toBe("WITA");
    expect(zoneForOffset(540)).toBe("WIT");
    expect(zoneForOffset(0)).toBeNull();
  });
});

describe("retryAfterSeconds", () => {
  const now = new Date("2026-12-01T10:00:00Z");

  it("reads seconds and HTTP dates", () => {
    expect(retryAfterSeconds("30", now)).toBe(30);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 10:01:00 GMT", now)).toBe(60);
    expect(retryAfterSeconds("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("is null when there is nothing usable", () => {
    expect(retryAfterSeconds(null, now)).toBeNull();
    expect(retryAfterSeconds("", now)).toBeNull();
    expect(retryAfterSeconds("soon", now)).toBeNull();
  });
});

describe("call card formatting", () => {
  it("says ages in the largest whole unit", () => {
    expect(formatAge(0, "id")).toBe("0 detik");
    expect(formatAge(59.9, "id")).toBe("59 detik");
    expect(formatAge(60, "en")).toBe("1 minutes");
    expect(formatAge(3599, "id")).toBe("59 menit");
    expect(formatAge(7200, "id")).toBe("2 jam");
    expect(formatAge(90000, "en")).toBe("1 days");
    expect(formatAge(-5, "id")).toBe("0 detik");
  });

  it("measures seconds since an instant", () => {
    expect(secondsSince("2026-12-04T10:00:00Z", Date.parse("2026-12-04T10:01:30Z"))).toBe(90);
    expect(secondsSince(null, 0)).toBeNull();
    expect(secondsSince("not a date", 0)).toBeNull();
  });

  it("writes accuracy in metres, then kilometres with the language's decimal mark", () => {
    expect(formatAccuracy(35.4, "id")).toBe("±35 m");
    expect(formatAccuracy(1234, "id")).toBe("±1,2 km");
    expect(formatAccuracy(1234, "en")).toBe("±1.2 km");
    expect(formatAccuracy(null, "id")).toBe("");
    expect(formatAccuracy(-1, "id")).toBe("");
  });

  it("writes coordinates to five decimals", () => {
    expect(formatCoordinates(-6.2885, 106.718)).toBe("-6.28850, 106.71800");
  });

  it("links a point to OpenStreetMap, marked, at street level", () => {
    expect(externalMapUrl(-6.3426, 106.7108)).toBe(
      "https://www.openstreetmap.org/?mlat=-6.34260&mlon=106.71080#map=17/-6.34260/106.71080",
    );
  });
});

describe("fromAsteriskRecords", () => {
  it.each([
    [{ source: "queue_log", operator: "op1" }, true],
    [{ source: "asterisk_cdr" }, true],
    [{ source: "asterisk_channel" }, false], // followed again live after a restart, not reconciled
    [{ operator: "op1" }, false],
    [{}, false],
  ])("%j -> %s", (data, marked) => {
    expect(fromAsteriskRecords(data)).toBe(marked);
  });
});
