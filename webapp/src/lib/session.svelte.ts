// The browser session (cookie set by the service): who is signed in, signing in and out, the forced password change.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure, type SessionUser } from "../api/client";

export const session = $state<{ user: SessionUser | null; loaded: boolean; unreachable: boolean }>({
  user: null,
  loaded: false,
  unreachable: false,
});

export async function loadSession(): Promise<void> {
  try {
    const { data, response } = await api.GET("/api/session");
    session.user = data?.user ?? null;
    session.unreachable = data === undefined && response.status !== 401;
  } catch {
    session.user = null;
    session.unreachable = true;
  }
  session.loaded = true;
}

export type SignInResult = { ok: true } | { ok: false; failure: ApiFailure; retryAfter: string | null };

export async function signIn(username: string, password: string): Promise<SignInResult> {
  try {
    const { data, error, response } = await api.POST("/api/session", { body: { username, password } });
    if (data !== undefined) {
      session.user = data.user;
      return { ok: true };
    }
    return { ok: false, failure: failureOf(error, response), retryAfter: response.headers.get("Retry-After") };
  } catch {
    return { ok: false, failure: NETWORK_FAILURE, retryAfter: null };
  }
}

export async function signOut(): Promise<void> {
  try {
    await api.DELETE("/api/session");
  } finally {
    session.user = null;
  }
}

/** Change the password; null when done (the session is then read again, with must_change_password cleared). */
export async function changePassword(currentPassword: string, newPassword: string): Promise<ApiFailure | null> {
  try {
    const { error, response } = await api.POST("/api/session/password", {
      body: { current_password: currentPassword, new_password: newPassword },
    });
    if (!response.ok) {
      return failureOf(error, response);
    }
  } catch {
    return NETWORK_FAILURE;
  }
  await loadSession();
  return null;
}
