// The signed-in operator's own queue state (GET /api/operators, the session actions). Read on load and after each
// action; the live stream tells when it changed elsewhere (stream.svelte.ts).

import { api, failureOf, NETWORK_FAILURE, type ApiFailure, type OperatorView } from "../api/client";
import type { PauseReason } from "./keys";
import { loadSession } from "./session.svelte";

export const operatorState = $state<{
  me: OperatorView | null;
  loaded: boolean;
  // The actions asked for and not yet answered, oldest first (e.g. "pause:break"); the panel's buttons wait while
  // there are any.
  pending: string[];
  failure: ApiFailure | null;
  updatedAt: Date | null;
}>({ me: null, loaded: false, pending: [], failure: null, updatedAt: null });

export async function refreshOperatorState(username: string): Promise<void> {
  try {
    const { data, error, response } = await api.GET("/api/operators");
    if (data === undefined) {
      await noteFailure(failureOf(error, response));
      return;
    }
    operatorState.me = data.find((operator) => operator.username === username) ?? null;
    operatorState.failure = null;
    operatorState.loaded = true;
    operatorState.updatedAt = new Date();
  } catch {
    operatorState.failure = NETWORK_FAILURE;
  }
}

/** Keep a refusal for the panel to show; a session that ended (expired, revoked) sends the page to the login. */
async function noteFailure(failure: ApiFailure): Promise<void> {
  operatorState.failure = failure;
  if (failure.status === 401) {
    await loadSession();
  }
}

export type SessionAction = "login" | "logout" | "pause" | "resume";

/** Apply a queue action to the operator's own membership; the answer is the new state. A refusal (already
 * paused, on a call, Asterisk down) is kept for the panel to show, and the state is read again.
 *
 * An action asked for while another is on its way waits its turn instead of being dropped: the live stream can show
 * the new state before the first action's answer arrives, and a key pressed on that state must still act. The
 * same action asked again while it waits is a repeated key, not a second wish. */
export function applyAction(username: string, action: SessionAction, reason?: PauseReason): Promise<void> {
  const wish = `${action}:${reason ?? ""}`;
  if (operatorState.pending.includes(wish)) {
    return lastQueued;
  }
  operatorState.pending.push(wish);
  lastQueued = lastQueued.then(async () => {
    try {
      await sendAction(username, action, reason);
    } finally {
      operatorState.pending.shift();
    }
  });
  return lastQueued;
}

// The end of the chain of pending actions: each starts when the one before it has its answer.
let lastQueued: Promise<void> = Promise.resolve();

async function sendAction(username: string, action: SessionAction, reason?: PauseReason): Promise<void> {
  try {
    const params = { path: { username } };
    const { data, error, response } =
      action === "pause"
        ? await api.POST("/api/operators/{username}/pause", { params, body: { reason: reason ?? "other" } })
        : await api.POST(`/api/operators/{username}/${action}`, { params });
    if (data !== undefined) {
      operatorState.me = data;
      operatorState.failure = null;
      operatorState.updatedAt = new Date();
    } else {
      const failure = failureOf(error, response);
      await refreshOperatorState(username);
      await noteFailure(failure);
    }
  } catch {
    operatorState.failure = NETWORK_FAILURE;
  }
}
