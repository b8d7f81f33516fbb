// The Reports page's pure parts: the ranges a supervisor picks most (today, the last 7 days, this and last month,
// as days of the room's calendar), the value axis of a bar chart, and the export links.

export type ReportFormat = "csv" | "xlsx" | "pdf";
export const EXPORT_FORMATS: readonly ReportFormat[] = ["csv", "xlsx", "pdf"];

export interface DayRange {
  from: string; // YYYY-MM-DD, inclusive
  to: string;
}

export type Preset = "today" | "last7" | "thisMonth" | "lastMonth";
export const PRESETS: readonly Preset[] = ["today", "last7", "thisMonth", "lastMonth"];

function iso(year: number, month: number, day: number): string {
  // Date.UTC normalises month/day overflow (day 0 is the last day of the month before).
  return new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
}

/** `today`: the room's calendar day as YYYY-MM-DD. */
export function presetRange(preset: Preset, today: string): DayRange {
  const [year, month, day] = today.split("-").map(Number) as [number, number, number];
  const m = month - 1;
  switch (preset) {
    case "today":
      return { from: today, to: today };
    case "last7":
      return { from: iso(year, m, day - 6), to: today };
    case "thisMonth":
      return { from: iso(year, m, 1), to: today };
    case "lastMonth":
      return { from: iso(year, m - 1, 1), to: iso(year, m, 0) };
  }
}

/** The calendar day of `instant` in `timeZone` (an IANA name). */
export function dayIn(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    instant,
  );
}

/** The top of a chart's value axis: 1, 2 or 5 times a power of ten, at least the largest bar (and at least 1). */
export function niceCeiling(value: number): number {
  if (value <= 1) {
    return 1;
  }
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value) ?? 10 * power;
}

export function reportQuery(range: DayRange, format?: ReportFormat): string {
  const query = new URLSearchParams({ from: range.from, to: range.to });
  if (format !== undefined) {
    query.set("format", format);
  }
  return `/api/reports?${query.toString()}`;
}

/** Seconds as h:mm:ss (operator time), or in seconds with one decimal under a minute; null: "-". */
export function reportDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) {
    return "-";
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const whole = Math.round(seconds);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return `${Math.floor(whole / 3600)}:${String(minutes).padStart(2, "0")}:${String(rest).padStart(2, "0")}`;
}
