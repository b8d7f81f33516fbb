// The service's API, typed from its OpenAPI document (src/api/openapi.json -> schema.d.ts, generated at build).
// Same origin only: the session cookie rides along, and the browser adds the Origin header the service checks on
// state-changing requests.

import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type SessionView = components["schemas"]["SessionView"];
export type SessionUser = components["schemas"]["SessionUser"];
export type OperatorView = components["schemas"]["OperatorView"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

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
