// The service's API, typed from its OpenAPI document (src/api/openapi.json, written by `ntpd112 openapi`; the types
// in schema.d.ts are generated from it at build). Same origin only: the session cookie rides along, and the
// browser adds the Origin header the service checks on state-changing requests.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type OperatorView = components["schemas"]["OperatorView"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

// The session routes' answers (web/account_routes.py: SignedInUser, SessionView).
export type SessionUser = components["schemas"]["SignedInUser"];
export type SessionView = components["schemas"]["SessionView"];

export interface ApiFailure {
  status: number;
  id: string;
  message: string;
}

/** The service's `{"error": {"id", "message"}}` as a failure; anything else keeps at least the status. */
export function failureOf(body: unknown, response: Response): ApiFailure {
  if (typeof body === "object" && body !== null && "error" in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === "object" && error !== null && "id" in error && "message" in error) {
      return { status: response.status, id: String(error.id), message: String(error.message) };
    }
  }
  return { status: response.status, id: `http_${response.status}`, message: response.statusText };
}

export const NETWORK_FAILURE: ApiFailure = { status: 0, id: "network", message: "network error" };

/** A JSON request to the session routes: the answer's body (null for 204), or the failure. */
export async function sessionRequest<T>(
  method: "GET" | "POST" | "DELETE",
  path: "/api/session" | "/api/session/password",
  body?: unknown,
): Promise<{ ok: true; data: T | null } | { ok: false; failure: ApiFailure; response: Response }> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  return response.ok ? { ok: true, data: parsed as T | null } : { ok: false, failure: failureOf(parsed, response), response };
}

// The room's report (GET /api/reports; definitions in src/ntpd112/reports/rules.py).
export type Report = components["schemas"]["Report"];
