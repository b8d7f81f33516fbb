import { describe, expect, it } from "vitest";
import { serverNow, syncServerClock } from "./clock.svelte";

describe("serverNow", () => {
  it("reads the server's time from a browser clock that is slow", () => {
    const browser = Date.now();
    syncServerClock(new Date(browser + 180_000).toISOString()); // the phone is 3 minutes slow
    expect(serverNow(browser) - browser).toBeGreaterThanOrEqual(179_000);
    expect(serverNow(browser) - browser).toBeLessThanOrEqual(181_000);
  });

  it("keeps the last known offset when the server's time cannot be read", () => {
    const before = serverNow(0);
    syncServerClock("not a time");
    expect(serverNow(0)).toBe(before);
  });
});
