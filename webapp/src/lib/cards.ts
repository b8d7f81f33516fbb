// The operator's open call cards as a pure reducer: the live stream (stream.svelte.ts) turns websocket frames and
// REST answers into actions, and this decides what is on screen. Cards are keyed by call id and ordered: the last
// one is on top (a new card pops over the current one). Nothing here does I/O, so every race is a unit test.

import type { components } from "../api/schema";

export type CallDetail = components["schemas"]["CallDetail"];
export type CallSummary = components["schemas"]["CallSummary"];
export type IncidentView = components["schemas"]["IncidentView"];
export type CardReason = "ringing" | "answered" | "restored";

export interface Card {
  callId: string;
  reason: CardReason;
  detail: CallDetail | null;
  // undefined: not read yet; null: read, the call has no incident.
  incident: IncidentView | null | undefined;
  // The action counter when the card came: a resync started before it does not know it and must not drop it.
  addedAt: number;
}

export interface CardsState {
  cards: readonly Card[];
  // Counts the actions applied; a resync names the count at the moment its request left.
  seq: number;
  // Cards the operator closed, newest last: late answers and stale lists must not bring them back.
  closed: readonly string[];
}

export type CardAction =
  | { type: "card"; callId: string; reason: "ringing" | "answered" }
  | { type: "detail"; detail: CallDetail; me: string }
  | { type: "incident"; callId: string; incident: IncidentView | null }
  | { type: "resync"; open: readonly CallSummary[]; since: number }
  | { type: "raise"; callId: string }
  | { type: "close"; callId: string };

export const EMPTY_CARDS: CardsState = { cards: [], seq: 0, closed: [] };
const CLOSED_MEMORY = 200;

export function cardsReducer(state: CardsState, action: CardAction): CardsState {
  const seq = state.seq + 1;
  switch (action.type) {
    case "card": {
      const existing = state.cards.find((card) => card.callId === action.callId);
      if (existing !== undefined) {
        // The same call again (answered after ringing, a repeated frame): one card, updated, and on top.
        const updated = { ...existing, reason: action.reason };
        return { ...state, seq, cards: [...state.cards.filter((card) => card !== existing), updated] };
      }
      const card: Card = { callId: action.callId, reason: action.reason, detail: null, incident: undefined, addedAt: seq };
      // A fresh ring for a call closed here reopens it: the server only sends a card when the phone rings or answers.
      const closed = state.closed.filter((id) => id !== action.callId);
      return { seq, closed, cards: [...state.cards, card] };
    }
    case "detail": {
      const callId = action.detail.id;
      const card = state.cards.find((c) => c.callId === callId);
      if (card === undefined) {
        return { ...state, seq }; // a late answer for a closed or unknown card
      }
      if (takenByAnother(action.detail, action.me)) {
        // It rang here too, but another operator answered: not this operator's card any more.
        return { ...state, seq, cards: state.cards.filter((c) => c !== card) };
      }
      return { ...state, seq, cards: state.cards.map((c) => (c === card ? { ...c, detail: action.detail } : c)) };
    }
    case "incident":
      return {
        ...state,
        seq,
        cards: state.cards.map((c) => (c.callId === action.callId ? { ...c, incident: action.incident } : c)),
      };
    case "resync": {
      // The server's list is the truth, except for cards that arrived after the list was asked for.
      const listed = action.open.filter((summary) => !state.closed.includes(summary.id));
      const kept = new Map(state.cards.map((card) => [card.callId, card]));
      const fromList = listed.map(
        (summary): Card =>
          kept.get(summary.id) ?? { callId: summary.id, reason: "restored", detail: null, incident: undefined, addedAt: seq },
      );
      const listedIds = new Set(listed.map((summary) => summary.id));
      const newer = state.cards.filter((card) => card.addedAt > action.since && !listedIds.has(card.callId));
      return { ...state, seq, cards: [...fromList, ...newer] };
    }
    case "raise": {
      const card = state.cards.find((c) => c.callId === action.callId);
      return card === undefined ? { ...state, seq } : { ...state, seq, cards: [...state.cards.filter((c) => c !== card), card] };
    }
    case "close":
      return {
        seq,
        cards: state.cards.filter((card) => card.callId !== action.callId),
        closed: [...state.closed.filter((id) => id !== action.callId), action.callId].slice(-CLOSED_MEMORY),
      };
  }
}

/** The operator who answered the call, from its timeline (the call's answered_at is the service's own answer,
 * which comes before the queue; handled_by names the service or the fail-safe, not a person). */
export function answeringOperator(detail: CallDetail): string | null {
  const operator = operatorAnswer(detail)?.data.operator;
  return typeof operator === "string" ? operator : null;
}

/** When an operator answered (the end of the wait in queue, the start of the talk), or null. */
export function operatorAnsweredAt(detail: CallDetail): string | null {
  return operatorAnswer(detail)?.at ?? null;
}

function operatorAnswer(detail: CallDetail): CallDetail["timeline"][number] | undefined {
  return detail.timeline.filter((event) => event.type === "operator_answered").at(-1);
}

function takenByAnother(detail: CallDetail, me: string): boolean {
  const operator = answeringOperator(detail);
  return operator !== null && operator !== me;
}

/** The card on top, or null. */
export function currentCard(state: CardsState): Card | null {
  return state.cards.at(-1) ?? null;
}

export type Closability = "ok" | "callLive" | "unclassified" | "loading";

/** Whether the Done key may close the card: the call has ended and, if an operator answered it, it is classified
 * (a call that rang here and ended unanswered needs no classification from this operator). */
export function closability(card: Card): Closability {
  if (card.detail === null || card.incident === undefined) {
    return "loading";
  }
  if (card.detail.ended_at === null) {
    return "callLive";
  }
  if (answeringOperator(card.detail) !== null && card.incident === null) {
    return "unclassified";
  }
  return "ok";
}
