// The browser session (cookie set by the service): who is signed in, signing in and out, the forced password change.

import { NETWORK_FAILURE, sessionRequest, type ApiFailure, type SessionUser, type SessionView } from "../api/client";

export const session = $state<{ user: SessionUser | null; loaded: boolean; unreachable: boolean }>({
  user: null,
  loaded: false,
  unreachable: false,
});

/** Read who is signed in. False when the service could not answer (down, restarting, a network fault): a page
 * already signed in then stays as it is (its live stream shows it offline and tries again); a page that knows no
 * user yet says the service is unreachable. */
export async function loadSession(): Promise<boolean> {
  let answer: Awaited<ReturnType<typeof sessionRequest<SessionView>>> | null = null;
  try {
    answer = await sessionRequest<SessionView>("GET", "/api/session");
  } catch {
    // no answer at all
  }
  // 401: simply not signed in. Anything else means the service cannot say.
  const reached = answer !== null && (answer.ok || answer.failure.status === 401);
  if (reached) {
    session.user = answer?.ok ? (answer.data?.user ?? null) : null;
    session.unreachable = false;
  } else if (session.user === null) {
    session.unreachable = true;
  }
  session.loaded = true;
  return reached;
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
