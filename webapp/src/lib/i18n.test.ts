import { describe, expect, it } from "vitest";
import { DICTIONARIES, errorMessage, hangupCause, LANGUAGES, translate } from "./i18n";

describe("the dictionary", () => {
  const idKeys = Object.keys(DICTIONARIES.id).sort();

  it.each(LANGUAGES)("has every key in %s, each with a text", (language) => {
    const dictionary = DICTIONARIES[language];
    expect(Object.keys(dictionary).sort()).toEqual(idKeys);
    for (const [key, text] of Object.entries(dictionary)) {
      expect(text.trim(), key).not.toBe("");
    }
  });

  it("uses the same placeholders in both languages", () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of idKeys) {
      const k = key as keyof typeof DICTIONARIES.id;
      expect(placeholders(DICTIONARIES.en[k]), key).toEqual(placeholders(DICTIONARIES.id[k]));
    }
  });

  it("is really translated: English differs from Indonesian where it is words", () => {
    expect(translate("id", "call.waiting")).toBe("Menunggu panggilan");
    expect(translate("en", "call.waiting")).toBe("Waiting for calls");
  });
});

describe("translate", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translate("en", "login.tooManyAttempts", { wait: "45 seconds" })).toBe(
      "Too many attempts. Try again in 45 seconds.",
    );
    expect(translate("en", "login.tooManyAttempts")).toBe("Too many attempts. Try again in {wait}.");
  });
});

describe("errorMessage", () => {
  it("has our words for the ids it knows and the service's message for the others", () => {
    expect(errorMessage("id", "operator_on_call", "x")).toBe("Tidak bisa jeda saat sedang menerima panggilan.");
    expect(errorMessage("en", "something_new", "the service said so")).toBe(
      "Something went wrong: the service said so",
    );
  });
});

describe("hangupCause", () => {
  it("names Asterisk's causes by code in each language, never in Asterisk's English", () => {
    expect(hangupCause("id", 16)).toBe("ditutup normal");
    expect(hangupCause("en", 16)).toBe("hung up normally");
    expect(hangupCause("id", 17)).toBe("sibuk");
    expect(hangupCause("id", 99)).toBe("kode sebab 99");
    expect(hangupCause("en", 99)).toBe("cause code 99");
  });
});
