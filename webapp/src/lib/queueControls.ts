// The supervisors' queue controls on the wallboard (the service's /api/queue/* routes, queue/controls.py): force an
// operator's pause or logout, raise a waiting call's priority, pull a waiting call to a chosen phone. The pure
// choice of who can take a pulled call lives here too, so it is unit-tested without a browser.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { components } from "../api/schema";
import { stateAt, type OperatorStateName } from "./wallboard";

export type PauseReason = components["schemas"]["ForcePauseRequest"]["reason"];
export const PAUSE_REASONS: readonly PauseReason[] = ["break", "training", "wrap-up", "meal", "other"];

interface BoardOperator {
  username: string;
  name: string;
  state: OperatorStateName;
  wrap_up_until: string | null;
  phone_registered: boolean | null;
}

/** Whose phone a waiting call can be pulled to now: a phone that is registered (or not known to be missing) and
 * not ringing or on a call. The signed-in supervisor (`me`) first, when they have a phone; then by name. */
export function pullTargets<T extends BoardOperator>(operators: readonly T[], me: string | null, now: number): T[] {
  const free = operators.filter((operator) => {
    const state = stateAt(operator, now);
    return operator.phone_registered !== false && state !== "on_call" && state !== "ringing";
  });
  return free.sort((a, b) => Number(b.username === me) - Number(a.username === me) || a.name.localeCompare(b.name));
}

/** Which operator controls apply: a pause to anyone in the queue and not paused, a logout to anyone in it (a
 * supervisor out of the queue on a pulled call is on a call, yet has neither). */
export function operatorControls(state: OperatorStateName, inQueue: boolean): { pause: boolean; logout: boolean } {
  return { pause: inQueue && state !== "paused", logout: inQueue };
}

type Outcome = ApiFailure | null;

async function outcome(request: Promise<{ error?: unknown; response: Response }>): Promise<Outcome> {
  try {
    const { error, response } = await request;
    return response.ok ? null : failureOf(error, response);
  } catch {
    return NETWORK_FAILURE;
  }
}

export function forcePause(username: string, reason: PauseReason): Promise<Outcome> {
  return outcome(
    api.POST("/api/queue/operators/{username}/force-pause", { params: { path: { username } }, body: { reason } }),
  );
}

export function forceLogout(username: string): Promise<Outcome> {
  return outcome(api.POST("/api/queue/operators/{username}/force-logout", { params: { path: { username } } }));
}

/** Raise a waiting call above every other waiting call (answered next). */
export function raisePriority(callId: string): Promise<Outcome> {
  return outcome(
    api.POST("/api/queue/calls/{call_id}/priority", { params: { path: { call_id: callId } }, body: { priority: null } }),
  );
}

export function pullCall(callId: string, to: string): Promise<Outcome> {
  return outcome(api.POST("/api/queue/calls/{call_id}/pull", { params: { path: { call_id: callId } }, body: { to } }));
}
