// The operator's queue state as the badge and the keys see it: the database's session (in the queue, paused) and
// what app_queue says the phone does (ringing, on a call, in wrap-up). An operator on a call is never "ready".

import type { OperatorView } from "../api/client";

export type QueueState = "unknown" | "noPhone" | "out" | "ringing" | "onCall" | "paused" | "wrapUp" | "ready";

export function queueStateOf(me: OperatorView | null, loaded: boolean, now: number): QueueState {
  if (!loaded) {
    return "unknown";
  }
  if (me === null) {
    return "noPhone";
  }
  if (!me.logged_in) {
    return "out";
  }
  // The phone first: a paused operator finishing a call is on that call.
  if (me.phone_state === "ringing") {
    return "ringing";
  }
  if (me.phone_state === "on_call") {
    return "onCall";
  }
  if (me.paused) {
    return "paused";
  }
  return wrapUpSecondsLeft(me, now) > 0 ? "wrapUp" : "ready";
}

/** Seconds of app_queue's wrap-up left (0: none); the badge counts them down on the page's clock. */
export function wrapUpSecondsLeft(me: OperatorView, now: number): number {
  if (me.phone_state !== "wrap_up" || !me.wrapup_until) {
    return 0;
  }
  return Math.max(0, Math.ceil((Date.parse(me.wrapup_until) - now) / 1000));
}

/** The phone is not registered (or does not exist in Asterisk): no call can reach the operator. */
export function phoneOffline(me: OperatorView | null): boolean {
  return me?.logged_in === true && me.phone_state === "unavailable";
}

/** In the queue (whatever the phone does): L leaves it. */
export function inQueue(state: QueueState): boolean {
  return !["unknown", "noPhone", "out"].includes(state);
}

/** Free to take a pause: not while the phone rings or a call is on (the service refuses that too). */
export function canPause(state: QueueState): boolean {
  return state === "ready" || state === "wrapUp";
}
