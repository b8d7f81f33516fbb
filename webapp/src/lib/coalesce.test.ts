import { describe, expect, it } from "vitest";
import { coalesced } from "./coalesce";

describe("coalesced", () => {
  it("runs once more after a burst, never two at once", async () => {
    let runs = 0;
    let active = 0;
    let most = 0;
    let release: () => void = () => {};
    const read = coalesced(async () => {
      runs += 1;
      active += 1;
      most = Math.max(most, active);
      await new Promise<void>((resolve) => (release = resolve));
      active -= 1;
    });
    const first = read();
    void read();
    void read();
    void read();
    expect(runs).toBe(1);
    release();
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(runs).toBe(2); // the burst became one more read
    release();
    await first;
    expect(runs).toBe(2);
    expect(most).toBe(1);
  });

  it("runs again for a later ask, and after a failure", async () => {
    let runs = 0;
    const read = coalesced(async () => {
      runs += 1;
      if (runs === 1) {
        throw new Error("network");
      }
    });
    await expect(read()).rejects.toThrow("network");
    await read();
    expect(runs).toBe(2);
  });
});
