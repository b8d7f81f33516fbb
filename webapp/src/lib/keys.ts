// The keyboard map: one table drives both the handling and the help overlay, so the help never lies.
// Plain letters act only when no modifier is held (browser shortcuts stay the browser's) and never while the
// operator types in a field; F1, Escape and Alt combinations work everywhere.

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
  | { kind: "signOut" };

export interface KeyPress {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  // Focus is in an input, textarea, select or contenteditable element.
  inTextField: boolean;
}

export interface KeyContext {
  // The pause reason choice is open: digits pick a reason.
  choosingReason: boolean;
}

export interface Binding {
  // What the help overlay shows, e.g. ["?", "F1"] or ["Alt", "B"] for a chord.
  keys: readonly string[];
  chord: boolean;
  label: MessageKey;
}

export const BINDINGS: readonly Binding[] = [
  { keys: ["?", "F1"], chord: false, label: "key.help" },
  { keys: ["Esc"], chord: false, label: "key.close" },
  { keys: ["L"], chord: false, label: "key.queueToggle" },
  { keys: ["P"], chord: false, label: "key.pause" },
  { keys: ["1", "2", "3", "4", "5"], chord: false, label: "key.reason" },
  { keys: ["R"], chord: false, label: "key.resume" },
  { keys: ["Alt", "B"], chord: true, label: "key.language" },
  { keys: ["Alt", "Q"], chord: true, label: "key.signOut" },
];

const LETTER_ACTIONS: Readonly<Record<string, Action>> = {
  l: { kind: "queueToggle" },
  p: { kind: "pause" },
  r: { kind: "resume" },
  "?": { kind: "help" },
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
  if (context.choosingReason && /^[1-5]$/.test(press.key)) {
    return { kind: "reason", reason: PAUSE_REASONS[Number(press.key) - 1] as PauseReason };
  }
  return LETTER_ACTIONS[press.key.toLowerCase()] ?? null;
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
