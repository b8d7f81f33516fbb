import { describe, expect, it } from "vitest";
import { operatorControls, pullTargets } from "./queueControls";
import type { OperatorStateName } from "./wallboard";

const NOW = Date.parse("2026-12-04T10:00:00Z");

function operator(username: string, name: string, state: OperatorStateName, phone: boolean | null = true, wrapUpUntil: string | null = null) {
  return { username, name, state, wrap_up_until: wrapUpUntil, phone_registered: phone };
}

describe("pullTargets", () => {
  it("offers free phones only, the supervisor's own first, then by name", () => {
    const operators = [
      operator("budi", "Budi", "available"),
      operator("ani", "Ani", "logged_out"),
      operator("cici", "Cici", "on_call"),
      operator("dedi", "Dedi", "ringing"),
      operator("eka", "Eka", "paused", false),
      operator("fajar", "Fajar", "paused", null),
      operator("chief", "Zainal", "logged_out"),
    ];
    expect(pullTargets(operators, "chief", NOW).map((o) => o.username)).toEqual(["chief", "ani", "budi", "fajar"]);
  });

  it("counts a wrap-up that ended on the clock as free, and a supervisor without a phone is not listed", () => {
    const operators = [
      operator("budi", "Budi", "wrap_up", true, "2026-12-04T09:59:59Z"),
      operator("ani", "Ani", "wrap_up", true, "2026-12-04T10:00:05Z"),
    ];
    expect(pullTargets(operators, "chief", NOW).map((o) => o.username)).toEqual(["ani", "budi"]);
    expect(pullTargets([], "chief", NOW)).toEqual([]);
  });
});

describe("operatorControls", () => {
  it("pauses anyone in the queue and not paused, logs out anyone in the queue", () => {
    expect(operatorControls("on_call", true)).toEqual({ pause: true, logout: true });
    expect(operatorControls("paused", true)).toEqual({ pause: false, logout: true });
    expect(operatorControls("logged_out", false)).toEqual({ pause: false, logout: false });
    // A supervisor out of the queue on a call pulled to them: nothing to pause or log out.
    expect(operatorControls("on_call", false)).toEqual({ pause: false, logout: false });
  });
});
