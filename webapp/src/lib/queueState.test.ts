import { describe, expect, it } from "vitest";
import type { OperatorView } from "../api/client";
import { canPause, inQueue, phoneOffline, queueStateOf, wrapUpSecondsLeft } from "./queueState";

const NOW = Date.parse("2026-12-04T10:00:00Z");

function operator(change: Partial<OperatorView> = {}): OperatorView {
  return {
    username: "rina",
    name: "Rina",
    role: "operator",
    contact: null,
    logged_in: true,
    paused: false,
    pause_reason: null,
    phone_state: "idle",
    wrapup_until: null,
    ...change,
  };
}

describe("queueStateOf", () => {
  it("is ready only with an idle phone in the queue", () => {
    expect(queueStateOf(operator(), true, NOW)).toBe("ready");
    expect(queueStateOf(operator({ phone_state: "unknown" }), true, NOW)).toBe("ready");
  });

  it("shows a call on the phone, never ready (the bug: an operator on a call showed as ready)", () => {
    expect(queueStateOf(operator({ phone_state: "on_call" }), true, NOW)).toBe("onCall");
    expect(queueStateOf(operator({ phone_state: "ringing" }), true, NOW)).toBe("ringing");
    // A pause taken elsewhere while talking: the call is what the operator is doing.
    expect(queueStateOf(operator({ phone_state: "on_call", paused: true, pause_reason: "break" }), true, NOW)).toBe(
      "onCall",
    );
  });

  it("counts the wrap-up down and is ready once it has passed", () => {
    const wrapping = operator({ phone_state: "wrap_up", wrapup_until: "2026-12-04T10:00:07Z" });
    expect(queueStateOf(wrapping, true, NOW)).toBe("wrapUp");
    expect(wrapUpSecondsLeft(wrapping, NOW)).toBe(7);
    expect(wrapUpSecondsLeft(wrapping, NOW + 6_500)).toBe(1);
    expect(queueStateOf(wrapping, true, NOW + 7_000)).toBe("ready");
    expect(wrapUpSecondsLeft(operator(), NOW)).toBe(0);
  });

  it("keeps paused, out, no phone and not yet loaded", () => {
    expect(queueStateOf(operator({ paused: true, pause_reason: "meal" }), true, NOW)).toBe("paused");
    expect(queueStateOf(operator({ logged_in: false, phone_state: "on_call" }), true, NOW)).toBe("out");
    expect(queueStateOf(null, true, NOW)).toBe("noPhone");
    expect(queueStateOf(operator(), false, NOW)).toBe("unknown");
  });
});

describe("what the operator may do", () => {
  it("pauses when free or wrapping up, leaves the queue from any state in it", () => {
    expect(canPause("ready") && canPause("wrapUp")).toBe(true);
    expect(canPause("onCall") || canPause("ringing") || canPause("paused")).toBe(false);
    expect(inQueue("onCall") && inQueue("paused") && inQueue("wrapUp")).toBe(true);
    expect(inQueue("out") || inQueue("unknown") || inQueue("noPhone")).toBe(false);
  });

  it("alerts on an unregistered phone only while in the queue", () => {
    expect(phoneOffline(operator({ phone_state: "unavailable" }))).toBe(true);
    expect(phoneOffline(operator({ phone_state: "unavailable", logged_in: false }))).toBe(false);
    expect(phoneOffline(operator())).toBe(false);
    expect(phoneOffline(null)).toBe(false);
  });
});
