// The operator's own choices, remembered in this browser: language and time zone.

import { DEFAULT_LANGUAGE, hangupCause, isLanguage, isMessageKey, translate, type Language, type MessageKey } from "./i18n";
import { DEFAULT_ZONE, isZone, zoneForOffset, type Zone } from "./format";

const LANGUAGE_KEY = "ntpd112.language";
const ZONE_KEY = "ntpd112.zone";

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage disabled: the defaults hold for this page
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled: the choice holds until the page is reloaded
  }
}

function initialLanguage(): Language {
  const saved = stored(LANGUAGE_KEY);
  return isLanguage(saved) ? saved : DEFAULT_LANGUAGE;
}

function initialZone(): Zone {
  const saved = stored(ZONE_KEY);
  return isZone(saved) ? saved : (zoneForOffset(-new Date().getTimezoneOffset()) ?? DEFAULT_ZONE);
}

export const preferences = $state<{ language: Language; zone: Zone }>({
  language: initialLanguage(),
  zone: initialZone(),
});

export function setLanguage(language: Language): void {
  preferences.language = language;
  document.documentElement.lang = language;
  store(LANGUAGE_KEY, language);
}

export function toggleLanguage(): void {
  setLanguage(preferences.language === "id" ? "en" : "id");
}

export function setZone(zone: Zone): void {
  preferences.zone = zone;
  store(ZONE_KEY, zone);
}

/** Translate in the current language (reactive where it is read in a component). */
export function t(key: MessageKey, values?: Readonly<Record<string, string | number>>): string {
  return translate(preferences.language, key, values);
}

/** The label of a pause reason; a reason this build does not know is shown as the service named it. */
export function reasonLabel(reason: string): string {
  return labelOf("reason", reason);
}

/** The label of `value` under `prefix` (e.g. outcome.answered); a value this build does not know shows as named. */
export function labelOf(prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return isMessageKey(key) ? t(key) : value;
}

/** The label of a timeline event; an event type this build does not name is shown as the service wrote it. */
export function timelineLabel(type: string): string {
  const key = `timeline.${type}`;
  return isMessageKey(key) ? t(key) : type.replaceAll("_", " ");
}

/** A timeline line: its label and, for an event that carries a hangup cause (the call ended, a leg left), the
 * cause in words by its Q.850 code, never Asterisk's English text ("Normal Clearing"). */
export function timelineText(event: { type: string; data: Readonly<Record<string, unknown>> }): string {
  const cause = event.data["cause"];
  const label = timelineLabel(event.type);
  return typeof cause === "number" ? `${label} · ${hangupCause(preferences.language, cause)}` : label;
}
