import { describe, expect, it } from "vitest";
import { formatShare, gridClusters, longestWaitSeconds, stateAt, tvOptions, tvPanelAt } from "./wallboard";

describe("tvOptions", () => {
  it("reads the TV mode and its period from the address, held to 5-300 s", () => {
    expect(tvOptions("?tv=1&every=20")).toEqual({ tv: true, everySeconds: 20 });
    expect(tvOptions("")).toEqual({ tv: false, everySeconds: 15 });
    expect(tvOptions("?tv=1&every=1")).toEqual({ tv: true, everySeconds: 5 });
    expect(tvOptions("?tv=1&every=99999")).toEqual({ tv: true, everySeconds: 300 });
    expect(tvOptions("?tv=yes&every=abc")).toEqual({ tv: false, everySeconds: 15 });
  });
});

describe("tvPanelAt", () => {
  const start = 1_000_000;
  it("shows each panel for the period, in order, round and round", () => {
    expect(tvPanelAt(start, start, 10)).toBe("queue");
    expect(tvPanelAt(start, start + 9_999, 10)).toBe("queue");
    expect(tvPanelAt(start, start + 10_000, 10)).toBe("today");
    expect(tvPanelAt(start, start + 20_000, 10)).toBe("map");
    expect(tvPanelAt(start, start + 30_000, 10)).toBe("dispatches");
    expect(tvPanelAt(start, start + 40_000, 10)).toBe("queue");
    expect(tvPanelAt(start, start + 75_000, 15)).toBe("today"); // 5th period: 5 % 4 = 1
  });
  it("starts at the first panel when the clock is behind the start", () => {
    expect(tvPanelAt(start, start - 5_000, 10)).toBe("queue");
  });
});

describe("gridClusters", () => {
  // A flat projection: 100 px per degree, so a 50 px cell is half a degree.
  const project = (lat: number, lon: number) => ({ x: lon * 100, y: -lat * 100 });

  it("puts the points of one grid cell in one cluster at their mean", () => {
    const clusters = gridClusters(
      [
        { lat: -6.1, lon: 106.1, item: "a" },
        { lat: -6.3, lon: 106.3, item: "b" },
        { lat: -6.9, lon: 107.9, item: "c" },
      ],
      project,
      50,
    );
    expect(clusters).toHaveLength(2);
    const [pair, single] = clusters;
    expect(pair?.items).toEqual(["a", "b"]);
    expect(pair?.lat).toBeCloseTo(-6.2);
    expect(pair?.lon).toBeCloseTo(106.2);
    expect(single).toEqual({ lat: -6.9, lon: 107.9, items: ["c"] });
  });

  it("splits them apart when the cells get smaller (zooming in)", () => {
    const points = [
      { lat: -6.1, lon: 106.1, item: 1 },
      { lat: -6.3, lon: 106.3, item: 2 },
    ];
    expect(gridClusters(points, project, 50)).toHaveLength(1);
    expect(gridClusters(points, project, 10)).toHaveLength(2);
    expect(gridClusters([], project, 50)).toEqual([]);
  });
});

describe("stateAt", () => {
  const now = Date.parse("2026-12-04T09:00:00Z");
  it("ends a wrap-up on the clock", () => {
    expect(stateAt({ state: "wrap_up", wrap_up_until: "2026-12-04T09:00:05Z" }, now)).toBe("wrap_up");
    expect(stateAt({ state: "wrap_up", wrap_up_until: "2026-12-04T09:00:00Z" }, now)).toBe("available");
    expect(stateAt({ state: "paused", wrap_up_until: null }, now)).toBe("paused");
  });
});

describe("longestWaitSeconds", () => {
  const now = Date.parse("2026-12-04T09:00:00Z");
  it("is the earliest offered call's wait", () => {
    const waiting = [{ offered_at: "2026-12-04T08:59:50Z" }, { offered_at: "2026-12-04T08:58:30Z" }];
    expect(longestWaitSeconds(waiting, now)).toBe(90);
    expect(longestWaitSeconds([], now)).toBeNull();
  });
});

describe("formatShare", () => {
  it("rounds to a whole percent; nothing counted yet is a dash", () => {
    expect(formatShare(0.4167)).toBe("42%");
    expect(formatShare(null)).toBe("–");
  });
});
