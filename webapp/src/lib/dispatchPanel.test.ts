import { describe, expect, it } from "vitest";
import type { CallDetail, Card, IncidentView } from "./cards";
import type { Category } from "./classify";
import {
  attemptsOf,
  dispatchState,
  dispatchTouched,
  explainQuery,
  agenciesWithoutTicket,
  handoverAgencies,
  panelActions,
  queryKey,
  routeSummary,
  type DispatchView,
  type Explanation,
} from "./dispatchPanel";

const CALL = "00000000-0000-4000-8000-00000000000a";
const categories = [
  { id: "medical", kind: "incident" },
  { id: "fire", kind: "incident" },
  { id: "prank", kind: "outcome" },
] as Category[];

function cardWith(incident: Partial<IncidentView> | null | undefined, kecamatan: string | null = "Pamulang"): Card {
  const detail = { id: CALL, area: kecamatan === null ? null : { kecamatan }, timeline: [] } as unknown as CallDetail;
  return {
    callId: CALL,
    reason: "answered",
    detail,
    incident: incident === undefined || incident === null ? incident : ({ area: null, ...incident } as IncidentView),
    addedAt: 1,
  };
}

let eventId = 0;
const event = (type: string, data: Record<string, unknown>): CallDetail["timeline"][number] => ({
  id: `e${(eventId += 1)}`,
  at: "2026-12-04T10:00:00Z",
  type,
  data,
});

function view(state: string, mode: DispatchView["mode"]): DispatchView {
  return {
    call_id: CALL,
    mode,
    state,
    decision: mode === null ? null : "route",
    rule_id: null,
    table_version: 1,
    attempts: [],
    requested_by: "rina",
  };
}

describe("explainQuery", () => {
  it("asks nothing before classification nor for a call outcome", () => {
    expect(explainQuery(cardWith(undefined), categories)).toBeNull();
    expect(explainQuery(cardWith(null), categories)).toBeNull();
    expect(explainQuery(cardWith({ category: "prank" }), categories)).toBeNull();
    expect(explainQuery(cardWith({ category: "no-longer-in-the-table" }), categories)).toBeNull();
  });

  it("routes with the incident's area, else the call's kecamatan, else none", () => {
    expect(explainQuery(cardWith({ category: "fire", area: "Ciputat" }), categories)).toEqual({ category: "fire", area: "Ciputat" });
    expect(explainQuery(cardWith({ category: "fire" }), categories)).toEqual({ category: "fire", area: "Pamulang" });
    expect(explainQuery(cardWith({ category: "fire" }, null), categories)).toEqual({ category: "fire", area: null });
  });

  it("keys a query by category and area", () => {
    expect(queryKey({ category: "fire", area: null })).not.toBe(queryKey({ category: "fire", area: "Pamulang" }));
    expect(queryKey({ category: "fire", area: "x" })).toBe(queryKey({ category: "fire", area: "x" }));
  });
});

describe("routeSummary", () => {
  const decision = {
    kind: "route",
    category: "fire",
    area: "Pamulang",
    local_time: "2026-12-04T17:00:00+07:00",
    table_version: 3,
    rule_id: "fire",
    chain: [
      { target: { id: "damkar-desk", agency: "damkar", kind: "hunt_group" }, timeout: 5, rule_id: "fire" },
      { target: { id: "damkar-113", agency: "damkar", kind: "external" }, timeout: 20, rule_id: "fire" },
    ],
    message: null,
    ticket_agency: null,
    checks: [],
    explanation: [],
  };

  it("lists the chain's targets in order with their ring times", () => {
    const summary = routeSummary({ decision, text: "" } as unknown as Explanation);
    expect(summary.kind).toBe("route");
    expect(summary.ruleId).toBe("fire");
    expect(summary.tableVersion).toBe(3);
    expect(summary.chain).toEqual([
      { target: "damkar-desk", agency: "damkar", timeout: 5, ruleId: "fire" },
      { target: "damkar-113", agency: "damkar", timeout: 20, ruleId: "fire" },
    ]);
  });

  it("carries the after-hours message and ticket agency", () => {
    const afterHours = { ...decision, kind: "after_hours", chain: [], message: "Kantor tutup.", ticket_agency: "bpbd" };
    const summary = routeSummary({ decision: afterHours, text: "" } as unknown as Explanation);
    expect(summary).toMatchObject({ kind: "after_hours", chain: [], message: "Kantor tutup.", ticketAgency: "bpbd" });
  });
});

describe("handoverAgencies", () => {
  const step = (agency: string, ruleId: string | null) => ({ target: `${agency}-x`, agency, timeout: 5, ruleId });
  const route = (chain: ReturnType<typeof step>[]) => ({
    kind: "route" as const,
    ruleId: "r",
    tableVersion: 1,
    chain,
    message: null,
    ticketAgency: null,
  });

  it("hands over to the first agency of each rule walked, not to the fallbacks", () => {
    expect(handoverAgencies(route([step("damkar", "fire"), step("damkar", "fire"), step("bpbd", "fire")]))).toEqual([
      "damkar",
    ]);
    // A traffic accident: the police, then (continuation) the ambulance chain.
    const accident = [step("polres", "traffic"), step("polres", "traffic"), step("psc119", "medical"), step("rsud", "medical")];
    expect(handoverAgencies(route(accident))).toEqual(["polres", "psc119"]);
    expect(handoverAgencies(route([step("ntpd112", null)]))).toEqual(["ntpd112"]);
  });

  it("hands an after-hours case to the rule's ticket agency, and nothing when nothing is dispatched", () => {
    expect(handoverAgencies({ ...route([]), kind: "after_hours", ticketAgency: "dishub" })).toEqual(["dishub"]);
    expect(handoverAgencies({ ...route([]), kind: "no_dispatch" })).toEqual([]);
  });
});

describe("agenciesWithoutTicket", () => {
  it("leaves out the agencies the call already has a ticket for, in the route's order", () => {
    const tickets = [{ agency: "psc119" }, { agency: "dishub" }];
    expect(agenciesWithoutTicket(["polres", "psc119", "damkar"], tickets)).toEqual(["polres", "damkar"]);
    expect(agenciesWithoutTicket(["psc119"], tickets)).toEqual([]);
    expect(agenciesWithoutTicket(["polres"], [])).toEqual(["polres"]);
  });
});

describe("attemptsOf", () => {
  const attempt = (n: number, target: string) => ({ attempt: n, target, agency: "damkar", devices: [], timeout: 5 });

  it("shows each attempt ringing until its end says busy, no answer, failed or answered", () => {
    const timeline = [
      event("operator_answered", { operator: "rina" }),
      event("dispatch_attempt", attempt(1, "damkar-desk")),
      event("dispatch_attempt_ended", { ...attempt(1, "damkar-desk"), outcome: "busy" }),
      event("dispatch_attempt", attempt(2, "damkar-113")),
      event("dispatch_attempt_ended", { ...attempt(2, "damkar-113"), outcome: "no_answer" }),
      event("dispatch_attempt", attempt(3, "bpbd-desk")),
    ];
    expect(attemptsOf(timeline).map((row) => [row.number, row.target, row.state])).toEqual([
      [1, "damkar-desk", "busy"],
      [2, "damkar-113", "no_answer"],
      [3, "bpbd-desk", "ringing"],
    ]);
    timeline.push(event("dispatch_attempt_ended", { ...attempt(3, "bpbd-desk"), outcome: "answered" }));
    expect(attemptsOf(timeline).at(-1)?.state).toBe("answered");
  });

  it("keeps a second dispatch's attempts apart from the first's (numbers restart)", () => {
    const timeline = [
      event("dispatch_attempt", attempt(1, "psc119-desk")),
      event("dispatch_attempt_ended", { ...attempt(1, "psc119-desk"), outcome: "cancelled" }),
      event("dispatch_attempt", attempt(1, "psc119-desk")),
      event("dispatch_attempt_ended", { ...attempt(1, "psc119-desk"), outcome: "failed" }),
    ];
    expect(attemptsOf(timeline).map((row) => row.state)).toEqual(["cancelled", "failed"]);
  });

  it("ignores events without an attempt number and unknown outcomes", () => {
    const timeline = [
      event("dispatch_attempt", { target: "x" }),
      event("dispatch_attempt", attempt(1, "damkar-desk")),
      event("dispatch_attempt_ended", { ...attempt(1, "damkar-desk"), outcome: "exploded" }),
    ];
    expect(attemptsOf(timeline)).toEqual([{ number: 1, target: "damkar-desk", agency: "damkar", state: "ringing" }]);
  });
});

describe("panelActions", () => {
  it("offers a dispatch once the call is live, classified and nothing runs", () => {
    expect(panelActions(null, true, true)).toEqual({ start: true, complete: false, cancel: false, leave: false });
    expect(panelActions(view("idle", null), true, true).start).toBe(true);
    expect(panelActions(null, true, false).start).toBe(false);
    expect(panelActions(null, false, true).start).toBe(false);
    expect(panelActions(view("ringing", "blind"), true, true).start).toBe(false);
  });

  it("lets an attended dispatch be cancelled while ringing, completed or cancelled while consulting", () => {
    expect(panelActions(view("ringing", "attended"), true, true)).toEqual({ start: false, complete: false, cancel: true, leave: false });
    expect(panelActions(view("consulting", "attended"), true, true)).toEqual({ start: false, complete: true, cancel: true, leave: false });
    expect(panelActions(view("consulting", "attended"), false, true).complete).toBe(false);
  });

  it("lets the operator leave a conference only once the agency is in", () => {
    expect(panelActions(view("ringing", "conference"), true, true).leave).toBe(false);
    expect(panelActions(view("connected", "conference"), true, true)).toEqual({ start: false, complete: false, cancel: false, leave: true });
    expect(panelActions(view("ringing", "blind"), true, true)).toEqual({ start: false, complete: false, cancel: false, leave: false });
  });
});

describe("dispatch state", () => {
  it("is none without a dispatch, else the service's state", () => {
    expect(dispatchState(null)).toBe("none");
    expect(dispatchState(view("idle", null))).toBe("none");
    expect(dispatchState(view("consulting", "attended"))).toBe("consulting");
  });

  it("is read from the service only once dispatch took the call", () => {
    const detail = { timeline: [event("operator_answered", {})] } as unknown as CallDetail;
    expect(dispatchTouched(detail)).toBe(false);
    expect(dispatchTouched({ timeline: [event("dispatch_requested", {})] } as unknown as CallDetail)).toBe(true);
  });
});
