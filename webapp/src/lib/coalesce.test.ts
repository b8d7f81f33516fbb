import { describe, expect, it } from "vitest";
import { coalesced, coalescedByKey } from "./coalesce";

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

  it("keeps keys apart: a read of one call never waits for, nor swallows, a read of another", async () => {
    const started: string[] = [];
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const read = coalescedByKey(async (key: string) => {
      started.push(key);
      if (key === "a") {
        await blocked;
      }
    });
    const a = read("a");
    await read("b");
    void read("a"); // asked again while a runs: one more run of a, after it
    expect(started).toEqual(["a", "b"]);
    release();
    await a;
    expect(started).toEqual(["a", "b", "a"]);
  });
});
