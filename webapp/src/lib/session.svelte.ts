// The browser session (cookie set by the service): who is signed in, signing in and out, the forced password change.

import { NETWORK_FAILURE, sessionRequest, type ApiFailure, type SessionUser, type SessionView } from "../api/client";

export const session = $state<{ user: SessionUser | null; loaded: boolean; unreachable: boolean }>({
  user: null,
  loaded: false,
  unreachable: false,
});

export async function loadSession(): Promise<void> {
  try {
    const answer = await sessionRequest<SessionView>("GET", "/api/session");
    session.user = answer.ok ? (answer.data?.user ?? null) : null;
    // 401: simply not signed in. Anything else means the page cannot work: say so instead of a login form.
    session.unreachable = !answer.ok && answer.failure.status !== 401;
  } catch {
    session.user = null;
    session.unreachable = true;
  }
  session.loaded = true;
}

export type SignInResult = { ok: true } | { ok: false; failure: ApiFailure; retryAfter: string | null };

export async function signIn(username: string, password: string): Promise<SignInResult> {
  try {
    const answer = await sessionRequest<SessionView>("POST", "/api/session", { username, password });
    if (answer.ok) {
      session.user = answer.data?.user ?? null;
      return { ok: true };
    }
    return { ok: false, failure: answer.failure, retryAfter: answer.response.headers.get("Retry-After") };
  } catch {
    return { ok: false, failure: NETWORK_FAILURE, retryAfter: null };
  }
}

export async function signOut(): Promise<void> {
  try {
    await sessionRequest("DELETE", "/api/session");
  } finally {
    session.user = null;
  }
}

/** Change the password; null when done (the session is then read again, with must_change_password cleared). */
export async function changePassword(currentPassword: string, newPassword: string): Promise<ApiFailure | null> {
  try {
    const answer = await sessionRequest("POST", "/api/session/password", {
      current_password: currentPassword,
      new_password: newPassword,
    });
    if (!answer.ok) {
      return answer.failure;
    }
  } catch {
    return NETWORK_FAILURE;
  }
  await loadSession();
  return null;
}
