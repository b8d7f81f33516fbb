// The supervisor's listen (web/supervisor_listen_routes.py): whose call their phone listens to, whispers to or barges
// into. Read again whenever the wallboard's snapshot changes (the service sends operator_changed when the phone
// answers, ChanSpy starts or stops, or the listen ends), and after each action; no polling.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { components } from "../api/schema";

export type SpyView = components["schemas"]["SpyView"];
export type SpyMode = SpyView["mode"];
export const SPY_MODES: readonly SpyMode[] = ["listen", "whisper", "barge"];

export const spy = $state<{ listening: SpyView | null; busy: boolean; failure: ApiFailure | null }>({
  listening: null,
  busy: false,
  failure: null,
});

export async function refreshSpy(): Promise<void> {
  try {
    const { data, error, response } = await api.GET("/api/supervisor/spy");
    if (data === undefined) {
      spy.failure = failureOf(error, response);
      return;
    }
    spy.listening = data.listening ?? null;
  } catch {
    spy.failure = NETWORK_FAILURE;
  }
}

/** Ring the supervisor's phone into `username`'s call in `mode`, or switch the listen already on (no new ring). */
export async function startSpy(username: string, mode: SpyMode): Promise<void> {
  await act(async () => {
    const { data, error, response } = await api.POST("/api/supervisor/operators/{username}/spy/{mode}", {
      params: { path: { username, mode } },
    });
    if (data === undefined) {
      return failureOf(error, response);
    }
    spy.listening = data;
    return null;
  });
}

export async function stopSpy(): Promise<void> {
  await act(async () => {
    const { error, response } = await api.DELETE("/api/supervisor/spy");
    if (!response.ok) {
      return failureOf(error, response);
    }
    spy.listening = null;
    return null;
  });
}

async function act(action: () => Promise<ApiFailure | null>): Promise<void> {
  if (spy.busy) {
    return;
  }
  spy.busy = true;
  try {
    spy.failure = await action();
    if (spy.failure !== null) {
      await refreshSpy();
    }
  } catch {
    spy.failure = NETWORK_FAILURE;
  } finally {
    spy.busy = false;
  }
}
