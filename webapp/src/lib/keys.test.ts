import { describe, expect, it } from "vitest";
import {
  actionFor,
  BINDINGS,
  incidentKeys,
  isTextField,
  wallboardActionFor,
  WALLBOARD_BINDINGS,
  type KeyContext,
  type KeyPress,
} from "./keys";
import { DICTIONARIES } from "./i18n";

const press = (key: string, extra: Partial<KeyPress> = {}): KeyPress => ({
  key,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  inTextField: false,
  ...extra,
});
const idle: KeyContext = { choice: null, cardOpen: false };
const choosing: KeyContext = { choice: "reason", cardOpen: false };
const card: KeyContext = { choice: null, cardOpen: true };

describe("actionFor", () => {
  it("maps the frame's keys, either case", () => {
    expect(actionFor(press("?"), idle)).toEqual({ kind: "help" });
    expect(actionFor(press("F1"), idle)).toEqual({ kind: "help" });
    expect(actionFor(press("Escape"), idle)).toEqual({ kind: "close" });
    expect(actionFor(press("l"), idle)).toEqual({ kind: "queueToggle" });
    expect(actionFor(press("L"), idle)).toEqual({ kind: "queueToggle" });
    expect(actionFor(press("p"), idle)).toEqual({ kind: "pause" });
    expect(actionFor(press("r"), idle)).toEqual({ kind: "resume" });
    expect(actionFor(press("b", { altKey: true }), idle)).toEqual({ kind: "language" });
    expect(actionFor(press("Q", { altKey: true }), idle)).toEqual({ kind: "signOut" });
  });

  it("opens the callback list and the search, and calls back by digit while the list is open", () => {
    expect(actionFor(press("h"), idle)).toEqual({ kind: "callbacks" });
    expect(actionFor(press("F"), card)).toEqual({ kind: "search" });
    const listOpen: KeyContext = { choice: "callback", cardOpen: true };
    expect(actionFor(press("1"), listOpen)).toEqual({ kind: "callBack", slot: 0 });
    expect(actionFor(press("9"), listOpen)).toEqual({ kind: "callBack", slot: 8 });
    expect(actionFor(press("0"), listOpen)).toBeNull();
    expect(actionFor(press("f", { inTextField: true }), idle)).toBeNull();
  });

  it("picks pause reasons by digit only while the choice is open", () => {
    expect(actionFor(press("1"), choosing)).toEqual({ kind: "reason", reason: "break" });
    expect(actionFor(press("5"), choosing)).toEqual({ kind: "reason", reason: "other" });
    expect(actionFor(press("6"), choosing)).toBeNull();
    expect(actionFor(press("1"), idle)).toBeNull();
  });

  it("classifies the card by digit, outcomes by X then a digit, further incidents by K then a digit", () => {
    expect(actionFor(press("1"), card)).toEqual({ kind: "classify", slot: 0 });
    expect(actionFor(press("0"), card)).toEqual({ kind: "classify", slot: 9 });
    expect(actionFor(press("x"), card)).toEqual({ kind: "outcomes" });
    expect(actionFor(press("1"), { choice: "outcome", cardOpen: true })).toEqual({ kind: "outcome", slot: 0 });
    expect(actionFor(press("0"), { choice: "outcome", cardOpen: true })).toBeNull();
    expect(actionFor(press("K"), card)).toEqual({ kind: "moreIncidents" });
    expect(actionFor(press("2"), { choice: "moreIncidents", cardOpen: true })).toEqual({ kind: "classify", slot: 11 });
    // Pause reasons win while their choice is open, even with a card.
    expect(actionFor(press("1"), { choice: "reason", cardOpen: true })).toEqual({ kind: "reason", reason: "break" });
    for (const [key, kind] of [["m", "pin"], ["d", "done"], ["c", "copyNumber"], ["a", "editIncident"], ["v", "playRecording"], ["y", "copyCoordinates"], ["o", "openMap"]] as const) {
      expect(actionFor(press(key), card)).toEqual({ kind });
      expect(actionFor(press(key), idle)).toBeNull(); // no card, no card keys
    }
    expect(actionFor(press("3", { inTextField: true }), card)).toBeNull();
    expect(actionFor(press("x", { inTextField: true }), card)).toBeNull();
  });

  it("starts and steers a dispatch with one letter each, only with a card open", () => {
    const expected = [
      ["b", { kind: "dispatch", mode: "blind" }],
      ["T", { kind: "dispatch", mode: "attended" }],
      ["g", { kind: "dispatch", mode: "conference" }],
      ["s", { kind: "dispatchCommand", command: "complete" }],
      ["u", { kind: "dispatchCommand", command: "cancel" }],
      ["e", { kind: "dispatchCommand", command: "leave" }],
      ["i", { kind: "handOver" }],
    ] as const;
    for (const [key, action] of expected) {
      expect(actionFor(press(key), card)).toEqual(action);
      expect(actionFor(press(key), idle)).toBeNull();
      expect(actionFor(press(key, { inTextField: true }), card)).toBeNull();
    }
    // Alt+B stays the language switch.
    expect(actionFor(press("b", { altKey: true }), card)).toEqual({ kind: "language" });
  });

  it("gives every letter one meaning: no two bindings share a key", () => {
    const single = BINDINGS.filter((binding) => binding.join === "or").flatMap((binding) => binding.keys);
    const letters = single.filter((key) => /^[A-Z?]$/.test(key));
    expect(new Set(letters).size).toBe(letters.length);
  });

  it("names the keys shown on the card for each incident slot", () => {
    expect(incidentKeys(0)).toEqual(["1"]);
    expect(incidentKeys(9)).toEqual(["0"]);
    expect(incidentKeys(10)).toEqual(["K", "1"]);
    expect(incidentKeys(19)).toEqual(["K", "0"]);
    expect(incidentKeys(20)).toBeNull();
  });

  it("leaves letters to fields and to browser shortcuts", () => {
    expect(actionFor(press("l", { inTextField: true }), idle)).toBeNull();
    expect(actionFor(press("1", { inTextField: true }), choosing)).toBeNull();
    expect(actionFor(press("r", { ctrlKey: true }), idle)).toBeNull();
    expect(actionFor(press("l", { metaKey: true }), idle)).toBeNull();
    expect(actionFor(press("x", { altKey: true }), idle)).toBeNull();
    expect(actionFor(press("F1", { inTextField: true }), idle)).toEqual({ kind: "help" });
    expect(actionFor(press("Escape", { inTextField: true }), idle)).toEqual({ kind: "close" });
  });

  it("lists in the help every key it handles, each with a label in the dictionary", () => {
    const listed = BINDINGS.flatMap((binding) => binding.keys);
    for (const key of ["?", "F1", "Esc", "L", "P", "R", "1", "5", "1…9", "0", "K", "X", "A", "M", "C", "D", "Alt", "B", "Q", "T", "G", "S", "U", "E", "V", "H", "F"]) {
      expect(listed).toContain(key);
    }
    for (const binding of BINDINGS) {
      expect(Object.keys(DICTIONARIES.id)).toContain(binding.label);
    }
  });
});

describe("wallboardActionFor", () => {
  it("toggles the TV mode with W, leaves it with Esc, and keeps the frame's Alt chords", () => {
    expect(wallboardActionFor(press("w"))).toEqual({ kind: "tv" });
    expect(wallboardActionFor(press("W"))).toEqual({ kind: "tv" });
    expect(wallboardActionFor(press("Escape"))).toEqual({ kind: "close" });
    expect(wallboardActionFor(press("b", { altKey: true }))).toEqual({ kind: "language" });
    expect(wallboardActionFor(press("q", { altKey: true }))).toEqual({ kind: "signOut" });
    expect(wallboardActionFor(press("w", { ctrlKey: true }))).toBeNull();
    expect(wallboardActionFor(press("l"))).toBeNull();
  });

  it("gives its letters no other meaning on any screen", () => {
    const letters = (bindings: typeof BINDINGS) =>
      bindings.filter((b) => b.join === "or").flatMap((b) => b.keys.filter((key) => /^[A-Z]$/.test(key)));
    for (const letter of letters(WALLBOARD_BINDINGS)) {
      expect(letters(BINDINGS)).not.toContain(letter);
    }
    for (const binding of WALLBOARD_BINDINGS) {
      expect(Object.keys(DICTIONARIES.id)).toContain(binding.label);
    }
  });
});

describe("isTextField", () => {
  const element = (tag: string, attributes: Record<string, string> = {}) =>
    ({
      tagName: tag.toUpperCase(),
      getAttribute: (name: string) => attributes[name] ?? null,
    }) as unknown as Element;

  it("tells typing places from buttons", () => {
    expect(isTextField(element("input"))).toBe(true);
    expect(isTextField(element("input", { type: "password" }))).toBe(true);
    expect(isTextField(element("textarea"))).toBe(true);
    expect(isTextField(element("select"))).toBe(true);
    expect(isTextField(element("div", { contenteditable: "true" }))).toBe(true);
    expect(isTextField(element("input", { type: "checkbox" }))).toBe(false);
    expect(isTextField(element("button"))).toBe(false);
    expect(isTextField(null)).toBe(false);
  });
});
