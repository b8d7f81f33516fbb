// Pure formatting: phone numbers, durations, the wall clock in Indonesia's three time zones.

import { translate, type Language } from "./i18n";

export const ZONES = {
  WIB: "Asia/Jakarta", // UTC+7
  WITA: "Asia/Makassar", // UTC+8
  WIT: "Asia/Jayapura", // UTC+9
} as const;
export type Zone = keyof typeof ZONES;
export const DEFAULT_ZONE: Zone = "WIB";

export function isZone(value: unknown): value is Zone {
  return typeof value === "string" && Object.hasOwn(ZONES, value);
}

/** The Indonesian zone for a browser's UTC offset in minutes east (-Date.getTimezoneOffset()), or null. */
export function zoneForOffset(minutesEast: number): Zone | null {
  switch (minutesEast) {
    case 420:
      return "WIB";
    case 480:
      return "WITA";
    case 540:
      return "WIT";
    default:
      return null;
  }
}

/** "21:05:09" in the zone, 24-hour, whatever the browser's own zone. */
export function formatClock(instant: Date, zone: Zone): string {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONES[zone],
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${part("hour")}:${part("minute")}:${part("second")}`;
}

/** "Selasa, 1 Desember 2026" / "Tuesday, 1 December 2026" in the zone. */
export function formatDate(instant: Date, zone: Zone, language: Language): string {
  return new Intl.DateTimeFormat(language === "id" ? "id-ID" : "en-GB", {
    timeZone: ZONES[zone],
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(instant);
}

/** A timer: "0:07", "12:34", "1:02:03". Negative or non-finite input counts as zero. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Number.isFinite(totalSeconds) && totalSeconds > 0 ? Math.floor(totalSeconds) : 0;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** A wait in words: "45 detik", "2 menit" (rounded up, so nobody retries a second too early). */
export function formatWait(totalSeconds: number, language: Language): string {
  const seconds = Math.max(1, Math.ceil(totalSeconds));
  if (seconds < 60) {
    return translate(language, "duration.seconds", { n: seconds });
  }
  return translate(language, "duration.minutes", { n: Math.ceil(seconds / 60) });
}

/** An Indonesian number as people write it locally: +6281234567890 -> "0812-3456-7890", +62215551234 ->
 * "021-5551234" (Jakarta's area code 21; 2-digit codes are the big cities', other codes take 3 digits). Numbers
 * from elsewhere, and anything that is not a plain E.164 number, are shown as they came. */
export function formatLocalNumber(e164: string): string {
  const match = /^\+62(\d{6,13})$/.exec(e164);
  if (match === null) {
    return e164;
  }
  const national = match[1] as string;
  if (national.startsWith("8")) {
    const groups = national.match(/^(\d{3})(\d{4})(\d+)$/);
    return groups === null ? `0${national}` : `0${groups[1]}-${groups[2]}-${groups[3]}`;
  }
  const areaLength = /^(21|22|24|31|61)/.test(national) ? 2 : 3;
  return `0${national.slice(0, areaLength)}-${national.slice(areaLength)}`;
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: Date): number | null {
  if (header === null || header.trim() === "") {
    return null;
  }
  if (/^\d+$/.test(header.trim())) {
    return Number(header.trim());
  }
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

/** How long ago, in words, rounded down to the largest unit: "45 detik", "3 menit", "2 jam", "1 hari". */
export function formatAge(totalSeconds: number, language: Language): string {
  const seconds = Number.isFinite(totalSeconds) && totalSeconds > 0 ? Math.floor(totalSeconds) : 0;
  if (seconds < 60) {
    return translate(language, "duration.seconds", { n: seconds });
  }
  if (seconds < 3600) {
    return translate(language, "duration.minutes", { n: Math.floor(seconds / 60) });
  }
  if (seconds < 86400) {
    return translate(language, "duration.hours", { n: Math.floor(seconds / 3600) });
  }
  return translate(language, "duration.days", { n: Math.floor(seconds / 86400) });
}

/** Seconds from an ISO instant to `now` (epoch ms), or null without an instant. */
export function secondsSince(iso: string | null | undefined, now: number): number | null {
  if (iso === null || iso === undefined) {
    return null;
  }
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : (now - at) / 1000;
}

/** An accuracy radius: "±35 m", "±1,2 km" (Indonesian decimal comma) / "±1.2 km"; "" when unknown. */
export function formatAccuracy(radiusMetres: number | null | undefined, language: Language): string {
  if (radiusMetres === null || radiusMetres === undefined || !Number.isFinite(radiusMetres) || radiusMetres < 0) {
    return "";
  }
  if (radiusMetres < 1000) {
    return `±${Math.round(radiusMetres)} m`;
  }
  const km = new Intl.NumberFormat(language === "id" ? "id-ID" : "en-GB", { maximumFractionDigits: 1 });
  return `±${km.format(radiusMetres / 1000)} km`;
}

/** Coordinates to copy and read out: "-6.28850, 106.71800" (5 decimals, about a metre). */
export function formatCoordinates(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

/** Whether a timeline event was written by reconciliation from Asterisk's own records (its CDRs or its queue log)
 * rather than followed live: the card marks such facts. */
export function fromAsteriskRecords(data: Readonly<Record<string, unknown>>): boolean {
  return data.source === "queue_log" || data.source === "asterisk_cdr";
}

/** The point on OpenStreetMap's site, marked, at street level: opened only when the operator asks (it leaves the
 * room's network). */
export function externalMapUrl(lat: number, lon: number): string {
  const [y, x] = [lat.toFixed(5), lon.toFixed(5)];
  return `https://www.openstreetmap.org/?mlat=${y}&mlon=${x}#map=17/${y}/${x}`;
}
