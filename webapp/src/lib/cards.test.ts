import { describe, expect, it } from "vitest";
import {
  cardsReducer,
  closability,
  currentCard,
  EMPTY_CARDS,
  type CallDetail,
  type CallSummary,
  type CardAction,
  type CardsState,
  type IncidentView,
} from "./cards";

const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";
const C = "00000000-0000-4000-8000-00000000000c";

function summary(id: string, extra: Partial<CallSummary> = {}): CallSummary {
  return {
    id,
    uniqueid: `u-${id}`,
    linkedid: null,
    trunk: "telkomsel",
    carrier: "Telkomsel",
    dialed_number: "112",
    caller_number_raw: "081234567890",
    caller_number: "+6281234567890",
    caller_name: null,
    caller_presentation: "allowed",
    handled_by: null,
    offered_at: "2026-12-04T10:00:00Z",
    answered_at: null,
    ended_at: null,
    hangup_cause: null,
    hangup_cause_text: null,
    ...extra,
  };
}

function detail(id: string, extra: Partial<CallDetail> = {}): CallDetail {
  return {
    ...summary(id),
    best_location: null,
    area: null,
    fixes: [],
    history: { repeat_caller: false, calls_24h: 0, calls_30d: 0, previous_calls: [] },
    timeline: [],
    ...extra,
  };
}

const incident = { id: "i", call_id: A, category: "fire" } as IncidentView;
const ANSWERED = "2026-12-04T10:00:01Z";
// The service answers every call itself (intake); the operator who took it is on the timeline.
const answeredBy = (operator: string): Partial<CallDetail> => ({
  answered_at: ANSWERED,
  handled_by: "service",
  timeline: [{ id: "e1", at: "2026-12-04T10:00:05Z", type: "operator_answered", data: { operator } }],
});
const run = (...actions: CardAction[]): CardsState => actions.reduce(cardsReducer, EMPTY_CARDS);
const ids = (state: CardsState) => state.cards.map((card) => card.callId);

describe("cardsReducer", () => {
  it("pops a new card over the current one", () => {
    const state = run({ type: "card", callId: A, reason: "ringing" }, { type: "card", callId: B, reason: "ringing" });
    expect(ids(state)).toEqual([A, B]);
    expect(currentCard(state)?.callId).toBe(B);
  });

  it("keeps one card per call when frames repeat, with the newest reason, on top", () => {
    const state = run(
      { type: "card", callId: A, reason: "ringing" },
      { type: "card", callId: B, reason: "ringing" },
      { type: "card", callId: A, reason: "ringing" },
      { type: "card", callId: A, reason: "answered" },
    );
    expect(ids(state)).toEqual([B, A]);
    expect(currentCard(state)?.reason).toBe("answered");
  });

  it("ignores details and changes of calls it has no card for", () => {
    const before = run({ type: "card", callId: A, reason: "ringing" });
    const after = cardsReducer(before, { type: "detail", detail: detail(C), me: "ani" });
    expect(after.cards).toEqual(before.cards);
  });

  it("fills a card's detail and drops it when another operator answered", () => {
    let state = run({ type: "card", callId: A, reason: "ringing" });
    state = cardsReducer(state, { type: "detail", detail: detail(A, { answered_at: ANSWERED }), me: "ani" });
    expect(state.cards[0]?.detail?.id).toBe(A); // answered by the service (intake), no operator yet
    const mine = cardsReducer(state, { type: "detail", detail: detail(A, answeredBy("ani")), me: "ani" });
    expect(ids(mine)).toEqual([A]);
    const theirs = cardsReducer(state, { type: "detail", detail: detail(A, answeredBy("budi")), me: "ani" });
    expect(ids(theirs)).toEqual([]);
  });

  it("replaces the cards with the server's list on resync, keeping what it already read", () => {
    let state = run({ type: "card", callId: A, reason: "answered" }, { type: "card", callId: B, reason: "ringing" });
    state = cardsReducer(state, { type: "detail", detail: detail(A), me: "ani" });
    const since = state.seq;
    state = cardsReducer(state, { type: "resync", open: [summary(A), summary(C)], since });
    expect(ids(state)).toEqual([A, C]);
    expect(state.cards[0]?.detail?.id).toBe(A);
    expect(state.cards[1]?.reason).toBe("restored");
  });

  it("keeps a card that came while the resync's list was on its way, and never doubles it", () => {
    let state = run({ type: "card", callId: A, reason: "answered" });
    const since = state.seq;
    state = cardsReducer(state, { type: "card", callId: B, reason: "ringing" });
    const lateList = cardsReducer(state, { type: "resync", open: [summary(A)], since });
    expect(ids(lateList)).toEqual([A, B]);
    const listHasIt = cardsReducer(state, { type: "resync", open: [summary(A), summary(B)], since });
    expect(ids(listHasIt)).toEqual([A, B]);
  });

  it("closes a card for good: late answers and stale lists do not bring it back, a new ring does", () => {
    let state = run({ type: "card", callId: A, reason: "answered" }, { type: "close", callId: A });
    expect(ids(state)).toEqual([]);
    state = cardsReducer(state, { type: "detail", detail: detail(A), me: "ani" });
    state = cardsReducer(state, { type: "resync", open: [summary(A)], since: state.seq });
    expect(ids(state)).toEqual([]);
    state = cardsReducer(state, { type: "card", callId: A, reason: "ringing" });
    expect(ids(state)).toEqual([A]);
  });

  it("raises a card on top", () => {
    const state = run(
      { type: "card", callId: A, reason: "answered" },
      { type: "card", callId: B, reason: "ringing" },
      { type: "raise", callId: A },
    );
    expect(ids(state)).toEqual([B, A]);
  });
});

describe("closability", () => {
  const open = (extra: Partial<CallDetail>, incidentOf: IncidentView | null) =>
    run(
      { type: "card", callId: A, reason: "answered" },
      { type: "detail", detail: detail(A, extra), me: "ani" },
      { type: "incident", callId: A, incident: incidentOf },
    ).cards[0]!;

  it("lets the card close only once the call ended and, if answered, was classified", () => {
    const answered = answeredBy("ani");
    expect(closability(open(answered, null))).toBe("callLive");
    expect(closability(open({ ...answered, ended_at: "2026-12-04T10:02:00Z" }, null))).toBe("unclassified");
    expect(closability(open({ ...answered, ended_at: "2026-12-04T10:02:00Z" }, incident))).toBe("ok");
    // Rang here, the caller left before any operator answered.
    expect(closability(open({ answered_at: ANSWERED, ended_at: "2026-12-04T10:00:09Z" }, null))).toBe("ok");
    expect(closability(run({ type: "card", callId: A, reason: "ringing" }).cards[0]!)).toBe("loading");
  });
});
