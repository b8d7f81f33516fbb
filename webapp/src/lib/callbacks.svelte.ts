// The room's callback list (GET /api/callbacks): re-read when the live stream says it changed (callbacks_changed)
// and after every (re)connect, never on a timer. Taking an item rings the operator's phone, then the service calls
// the caller back and bridges them (queue/callbacks.py).

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { components } from "../api/schema";

export type CallbackItem = components["schemas"]["CallbackItem"];

export const callbacks = $state<{
  items: CallbackItem[];
  loaded: boolean;
  failure: ApiFailure | null;
  taking: string | null;
}>({ items: [], loaded: false, failure: null, taking: null });

// A read in flight: true when another change came meanwhile (one more read after it, never two at once).
let again: boolean | null = null;

export async function refreshCallbacks(): Promise<void> {
  if (again !== null) {
    again = true;
    return;
  }
  try {
    do {
      again = false;
      await readOnce();
    } while (again);
  } finally {
    again = null;
  }
}

async function readOnce(): Promise<void> {
  try {
    const { data, error, response } = await api.GET("/api/callbacks");
    if (data === undefined) {
      callbacks.failure = failureOf(error, response);
      return;
    }
    callbacks.items = data;
    callbacks.loaded = true;
    callbacks.failure = null;
  } catch {
    callbacks.failure = NETWORK_FAILURE;
  }
}

/** Call the caller back: the service rings `me`'s phone first. */
export async function takeCallback(callId: string): Promise<void> {
  if (callbacks.taking !== null) {
    return;
  }
  callbacks.taking = callId;
  try {
    const { data, error, response } = await api.POST("/api/callbacks/{call_id}/take", {
      params: { path: { call_id: callId } },
      body: { operator: null }, // whoever asks: the signed-in operator
    });
    callbacks.failure = data === undefined ? failureOf(error, response) : null;
  } catch {
    callbacks.failure = NETWORK_FAILURE;
  } finally {
    callbacks.taking = null;
  }
  await refreshCallbacks();
}
