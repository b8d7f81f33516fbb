// The wallboard's pure parts: the TV mode's options and rotation, the grid clustering of the map's incidents, an
// operator's state as of now (a wrap-up ends on the clock, with no event), and the longest wait.

export const TV_PANELS = ["queue", "today", "map", "dispatches"] as const;
export type TvPanel = (typeof TV_PANELS)[number];

export const TV_DEFAULT_SECONDS = 15;
const TV_MIN_SECONDS = 5;
const TV_MAX_SECONDS = 300;

export interface TvOptions {
  tv: boolean;
  everySeconds: number;
}

/** The TV mode from the address (`/wallboard?tv=1&every=20`), so the wall's PC starts straight in it with no mouse;
 * a missing or unreadable period is the default, an out-of-range one is held to 5-300 s. */
export function tvOptions(search: string): TvOptions {
  const params = new URLSearchParams(search);
  const every = Number.parseInt(params.get("every") ?? "", 10);
  return {
    tv: params.get("tv") === "1",
    everySeconds: Number.isFinite(every) ? Math.min(TV_MAX_SECONDS, Math.max(TV_MIN_SECONDS, every)) : TV_DEFAULT_SECONDS,
  };
}

/** The panel shown at `now` (epoch ms) when the rotation started at `startedAt`: each for `everySeconds`, in
 * order, round and round. Derived from the clock alone, so the shared one-second tick drives it. */
export function tvPanelAt(startedAt: number, now: number, everySeconds: number): TvPanel {
  const elapsed = Math.max(0, now - startedAt);
  const index = Math.floor(elapsed / (everySeconds * 1000)) % TV_PANELS.length;
  return TV_PANELS[index] as TvPanel;
}

export interface Point<T> {
  lat: number;
  lon: number;
  item: T;
}

export interface Cluster<T> {
  lat: number; // the mean of its points
  lon: number;
  items: T[];
}

/** Points grouped by the square of a `cellPx` grid their projection (`project`: to screen pixels at the map's zoom)
 * falls in: one cluster per occupied cell, at its points' mean position. Enough for a room's open incidents (tens,
 * not thousands), without a clustering library. */
export function gridClusters<T>(
  points: readonly Point<T>[],
  project: (lat: number, lon: number) => { x: number; y: number },
  cellPx: number,
): Cluster<T>[] {
  const cells = new Map<string, Point<T>[]>();
  for (const point of points) {
    const { x, y } = project(point.lat, point.lon);
    const key = `${Math.floor(x / cellPx)}:${Math.floor(y / cellPx)}`;
    const cell = cells.get(key);
    if (cell === undefined) {
      cells.set(key, [point]);
    } else {
      cell.push(point);
    }
  }
  return [...cells.values()].map((cell) => ({
    lat: cell.reduce((sum, p) => sum + p.lat, 0) / cell.length,
    lon: cell.reduce((sum, p) => sum + p.lon, 0) / cell.length,
    items: cell.map((p) => p.item),
  }));
}

export type OperatorStateName = "available" | "ringing" | "on_call" | "wrap_up" | "paused" | "logged_out";

/** The state to show at `now`: a wrap-up that has run out is available again (app_queue sends no event then). */
export function stateAt(
  operator: { state: OperatorStateName; wrap_up_until: string | null },
  now: number,
): OperatorStateName {
  if (operator.state === "wrap_up" && operator.wrap_up_until !== null && Date.parse(operator.wrap_up_until) <= now) {
    return "available";
  }
  return operator.state;
}

/** Seconds the longest-waiting caller has waited at `now`; null when nobody waits. */
export function longestWaitSeconds(waiting: readonly { offered_at: string }[], now: number): number | null {
  if (waiting.length === 0) {
    return null;
  }
  const earliest = Math.min(...waiting.map((call) => Date.parse(call.offered_at)));
  return Math.max(0, (now - earliest) / 1000);
}

/** A share as a percentage for the wall: "83%" / "–" when nothing counts yet. */
export function formatShare(share: number | null | undefined): string {
  return share === null || share === undefined ? "–" : `${Math.round(share * 100)}%`;
}
