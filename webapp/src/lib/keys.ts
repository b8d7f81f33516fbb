// The keyboard map: one table drives both the handling and the help overlay, so the help never lies.
// Plain letters act only when no modifier is held (browser shortcuts stay the browser's) and never while the
// operator types in a field; F1, Escape and Alt combinations work everywhere.

import type { DispatchCommand, DispatchMode } from "./dispatchPanel";
import type { MessageKey } from "./i18n";

export const PAUSE_REASONS = ["break", "training", "wrap-up", "meal", "other"] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export type Action =
  | { kind: "help" }
  | { kind: "close" }
  | { kind: "queueToggle" }
  | { kind: "pause" }
  | { kind: "reason"; reason: PauseReason }
  | { kind: "resume" }
  | { kind: "language" }
  | { kind: "signOut" }
  // The call card on top: `slot` counts in the table's order among incident categories (or among outcomes).
  | { kind: "classify"; slot: number }
  | { kind: "moreIncidents" }
  | { kind: "outcomes" }
  | { kind: "outcome"; slot: number }
  | { kind: "pin" }
  | { kind: "done" }
  | { kind: "copyNumber" }
  | { kind: "copyCoordinates" }
  | { kind: "openMap" }
  | { kind: "editIncident" }
  // The dispatch panel: start a dispatch of the classified call, then act on the one running.
  | { kind: "dispatch"; mode: DispatchMode }
  | { kind: "dispatchCommand"; command: DispatchCommand }
  | { kind: "playRecording" }
  // Hand the incident over to its agencies as tickets.
  | { kind: "handOver" }

  // The callback list and the call search, each opened and closed by its key.
  | { kind: "callbacks" }
  | { kind: "callBack"; slot: number }
  | { kind: "search" };

export interface KeyPress {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  // Focus is in an input, textarea, select or contenteditable element.
  inTextField: boolean;
}

/** What digits pick right now: a pause reason, a call outcome, an incident category past the tenth, a callback
 * to call back (the list is open), or (with a card open and no choice) one of the first ten incident categories. */
export type Choice = "reason" | "outcome" | "moreIncidents" | "callback" | null;

export interface KeyContext {
  choice: Choice;
  // A call card is on screen: the classification and card keys act on it.
  cardOpen: boolean;
}

/** Digits in keyboard order: 1..9 then 0, so "0" is the tenth slot. */
export const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"] as const;
// The first ten incident categories have a digit each; `K` then a digit reaches the next ten.
export const DIRECT_INCIDENT_SLOTS = DIGITS.length;

/** The key(s) that classify as the incident category in `slot` (table order among incidents), e.g. ["3"] or
 * ["K", "1"]; null when the slot is past what the keyboard reaches. */
export function incidentKeys(slot: number): readonly string[] | null {
  if (slot < DIRECT_INCIDENT_SLOTS) {
    return [DIGITS[slot] as string];
  }
  const more = DIGITS[slot - DIRECT_INCIDENT_SLOTS];
  return more === undefined ? null : ["K", more];
}

export interface Binding {
  // What the help overlay shows, e.g. ["?", "F1"] (either), ["Alt", "B"] (a chord), ["X", "1…9"] (one then the
  // other).
  keys: readonly string[];
  join: "or" | "chord" | "then";
  label: MessageKey;
}

export const BINDINGS: readonly Binding[] = [
  { keys: ["?", "F1"], join: "or", label: "key.help" },
  { keys: ["Esc"], join: "or", label: "key.close" },
  { keys: ["L"], join: "or", label: "key.queueToggle" },
  { keys: ["P"], join: "or", label: "key.pause" },
  { keys: ["1", "2", "3", "4", "5"], join: "or", label: "key.reason" },
  { keys: ["R"], join: "or", label: "key.resume" },
  { keys: ["1…9", "0"], join: "or", label: "key.classify" },
  { keys: ["K", "1…0"], join: "then", label: "key.moreIncidents" },
  { keys: ["X", "1…9"], join: "then", label: "key.outcome" },
  { keys: ["A"], join: "or", label: "key.editIncident" },
  { keys: ["M"], join: "or", label: "key.pin" },
  { keys: ["C"], join: "or", label: "key.copyNumber" },
  { keys: ["Y"], join: "or", label: "key.copyCoordinates" },
  { keys: ["O"], join: "or", label: "key.openMap" },
  { keys: ["D"], join: "or", label: "key.done" },
  { keys: ["B"], join: "or", label: "key.dispatchBlind" },
  { keys: ["T"], join: "or", label: "key.dispatchAttended" },
  { keys: ["G"], join: "or", label: "key.dispatchConference" },
  { keys: ["S"], join: "or", label: "key.dispatchComplete" },
  { keys: ["U"], join: "or", label: "key.dispatchCancel" },
  { keys: ["E"], join: "or", label: "key.dispatchLeave" },
  { keys: ["V"], join: "or", label: "key.playRecording" },
  { keys: ["I"], join: "or", label: "key.handOver" },
  { keys: ["H"], join: "or", label: "key.callbacks" },
  { keys: ["H", "1…9"], join: "then", label: "key.callBack" },
  { keys: ["F"], join: "or", label: "key.search" },
  { keys: ["Alt", "B"], join: "chord", label: "key.language" },
  { keys: ["Alt", "Q"], join: "chord", label: "key.signOut" },
];

const LETTER_ACTIONS: Readonly<Record<string, Action>> = {
  l: { kind: "queueToggle" },
  p: { kind: "pause" },
  r: { kind: "resume" },
  h: { kind: "callbacks" },
  f: { kind: "search" },
  "?": { kind: "help" },
};

const CARD_ACTIONS: Readonly<Record<string, Action>> = {
  k: { kind: "moreIncidents" },
  x: { kind: "outcomes" },
  m: { kind: "pin" },
  d: { kind: "done" },
  c: { kind: "copyNumber" },
  y: { kind: "copyCoordinates" },
  o: { kind: "openMap" },
  a: { kind: "editIncident" },
  // Blind, Transfer after talking (attended), Gabung (join: conference); Serahkan (complete), Urungkan (cancel),
  // Exit (leave the conference).
  b: { kind: "dispatch", mode: "blind" },
  t: { kind: "dispatch", mode: "attended" },
  g: { kind: "dispatch", mode: "conference" },
  s: { kind: "dispatchCommand", command: "complete" },
  u: { kind: "dispatchCommand", command: "cancel" },
  e: { kind: "dispatchCommand", command: "leave" },
  v: { kind: "playRecording" },
  // OPD: the agencies' tickets.
  i: { kind: "handOver" },
};

/** The action a key press stands for, or null (then the browser keeps the key). */
export function actionFor(press: KeyPress, context: KeyContext): Action | null {
  if (press.key === "F1") {
    return { kind: "help" };
  }
  if (press.key === "Escape") {
    return { kind: "close" };
  }
  if (press.ctrlKey || press.metaKey) {
    return null;
  }
  if (press.altKey) {
    // Alt+letter: compare the letter, whatever the layout's shifted character.
    switch (press.key.toLowerCase()) {
      case "b":
        return { kind: "language" };
      case "q":
        return { kind: "signOut" };
      default:
        return null;
    }
  }
  if (press.inTextField) {
    return null;
  }
  const digit = (DIGITS as readonly string[]).indexOf(press.key);
  if (digit >= 0) {
    return digitAction(digit, context);
  }
  const letter = press.key.toLowerCase();
  return LETTER_ACTIONS[letter] ?? (context.cardOpen ? (CARD_ACTIONS[letter] ?? null) : null);
}

function digitAction(digit: number, context: KeyContext): Action | null {
  switch (context.choice) {
    case "reason":
      return digit < PAUSE_REASONS.length ? { kind: "reason", reason: PAUSE_REASONS[digit] as PauseReason } : null;
    case "outcome":
      return digit < 9 ? { kind: "outcome", slot: digit } : null;
    case "moreIncidents":
      return { kind: "classify", slot: DIRECT_INCIDENT_SLOTS + digit };
    case "callback":
      return digit < 9 ? { kind: "callBack", slot: digit } : null;
    case null:
      return context.cardOpen ? { kind: "classify", slot: digit } : null;
  }
}

/** Whether focus is in a place where letters are text, not commands. */
export function isTextField(element: Element | null): boolean {
  if (element === null) {
    return false;
  }
  const tag = element.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select") {
    return true;
  }
  if (tag === "input") {
    const type = (element.getAttribute("type") ?? "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio"].includes(type);
  }
  return element.getAttribute("contenteditable") === "true";
}

/** A browser key event as the key map reads it. */
export function pressOf(
  event: Pick<KeyboardEvent, "key" | "altKey" | "ctrlKey" | "metaKey">,
  focused: Element | null,
): KeyPress {
  return {
    key: event.key,
    altKey: event.altKey,
    ctrlKey: event.ctrlKey,
    metaKey: event.metaKey,
    inTextField: isTextField(focused),
  };
}

/** The wallboard's keys (its own screen, so its own short table; its letters mean nothing else anywhere). */
export type WallboardAction = { kind: "tv" } | { kind: "close" } | { kind: "language" } | { kind: "signOut" };

export const WALLBOARD_BINDINGS: readonly Binding[] = [
  { keys: ["W"], join: "or", label: "key.tvMode" },
  { keys: ["Esc"], join: "or", label: "key.tvLeave" },
  { keys: ["Alt", "B"], join: "chord", label: "key.language" },
  { keys: ["Alt", "Q"], join: "chord", label: "key.signOut" },
];

export function wallboardActionFor(press: KeyPress): WallboardAction | null {
  if (press.key === "Escape") {
    return { kind: "close" };
  }
  if (press.ctrlKey || press.metaKey || press.inTextField) {
    return null;
  }
  const letter = press.key.toLowerCase();
  if (press.altKey) {
    return letter === "b" ? { kind: "language" } : letter === "q" ? { kind: "signOut" } : null;
  }
  return letter === "w" ? { kind: "tv" } : null;
}
