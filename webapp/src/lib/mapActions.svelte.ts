// The best fix's coordinates, copied or opened in an external map: by the map's buttons and by keys alike.

import { externalMapUrl, formatCoordinates } from "./format";

export interface Point {
  lat: number | null;
  lon: number | null;
}

// The coordinates text just copied (the button says so for a moment), whichever way it was copied.
export const coordinates = $state<{ copied: string | null }>({ copied: null });
let copiedTimer: ReturnType<typeof setTimeout> | undefined;

export async function copyCoordinates(point: Point | null | undefined): Promise<void> {
  if (point?.lat == null || point.lon == null) {
    return;
  }
  const text = formatCoordinates(point.lat, point.lon);
  await navigator.clipboard.writeText(text);
  coordinates.copied = text;
  clearTimeout(copiedTimer);
  copiedTimer = setTimeout(() => (coordinates.copied = null), 1500);
}

/** A new tab on OpenStreetMap; nothing leaves the page unless the operator asks. */
export function openExternalMap(point: Point | null | undefined): void {
  if (point?.lat == null || point.lon == null) {
    return;
  }
  window.open(externalMapUrl(point.lat, point.lon), "_blank", "noopener,noreferrer");
}
