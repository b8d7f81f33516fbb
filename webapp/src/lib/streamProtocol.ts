// The live stream's frames (GET /api/stream, web/stream_messages.py) read defensively, and the reconnect delay.
// Pure: the websocket itself lives in liveSocket.ts.

export type ServerMessage =
  | { type: "hello"; user: string; server_time: string }
  | { type: "card"; call_id: string; reason: "ringing" | "answered" }
  | { type: "call_changed"; call_id: string }
  | { type: "operator_changed"; username: string }
  | { type: "queue"; waiting: number }
  | { type: "callbacks_changed" }
  | { type: "tickets_changed"; ticket_id: string }
  | { type: "room_changed"; call_id: string }
  | { type: "resync" }
  | { type: "error"; id: string; message: string };

/** Close code of a stream whose session or token ended: sign in again. */
export const CLOSE_SIGNED_OUT = 4401;

const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/** A server frame, or null for anything this client does not understand (a newer server's frame is skipped). */
export function parseServerMessage(text: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) {
    return null;
  }
  const frame = value as Record<string, unknown>;
  switch (frame.type) {
    case "hello":
      return isText(frame.user) && isText(frame.server_time)
        ? { type: "hello", user: frame.user, server_time: frame.server_time }
        : null;
    case "card":
      return isText(frame.call_id) && (frame.reason === "ringing" || frame.reason === "answered")
        ? { type: "card", call_id: frame.call_id, reason: frame.reason }
        : null;
    case "call_changed":
      return isText(frame.call_id) ? { type: "call_changed", call_id: frame.call_id } : null;
    case "operator_changed":
      return isText(frame.username) ? { type: "operator_changed", username: frame.username } : null;
    case "queue":
      return Number.isInteger(frame.waiting) && (frame.waiting as number) >= 0
        ? { type: "queue", waiting: frame.waiting as number }
        : null;
    case "callbacks_changed":
      return { type: "callbacks_changed" };
    case "tickets_changed":
      return isText(frame.ticket_id) ? { type: "tickets_changed", ticket_id: frame.ticket_id } : null;
    case "room_changed":
      return isText(frame.call_id) ? { type: "room_changed", call_id: frame.call_id } : null;
    case "resync":
      return { type: "resync" };
    case "error":
      return isText(frame.id) ? { type: "error", id: frame.id, message: String(frame.message ?? "") } : null;
    default:
      return null;
  }
}

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

/** Milliseconds before reconnect attempt `attempt` (0 = the first after a drop): capped exponential backoff with
 * "equal jitter" (half fixed, half random), so a restarted service is not hit by every console at the same instant
 * and no console waits longer than the cap. `random` is in [0, 1). */
export function reconnectDelay(attempt: number, random: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
