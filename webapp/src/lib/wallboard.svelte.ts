// The wallboard's live state: one snapshot (GET /api/wallboard), re-read when the live stream says something
// changed. After `hello` the page asks to follow the whole room (`follow_room`: every call's changes come as
// room_changed) and resyncs; queue, operator, callback and ticket frames ask for a re-read too. A burst of frames
// (a surge) is read once: the first frame waits REFRESH_DELAY_MS for the rest, and frames that arrive during a
// read cause exactly one more (lib/coalesce). No polling: between frames nothing is fetched.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { components } from "../api/schema";
import { coalesced } from "./coalesce";
import { openLiveSocket, type LiveSocket } from "./liveSocket";
import { loadSession } from "./session.svelte";
import type { ServerMessage } from "./streamProtocol";

export type Wallboard = components["schemas"]["Wallboard"];

export const REFRESH_DELAY_MS = 150;

export const wallboard = $state<{
  snapshot: Wallboard | null;
  connected: boolean;
  failure: ApiFailure | null;
}>({ snapshot: null, connected: false, failure: null });

let socket: LiveSocket | null = null;
let pending: ReturnType<typeof setTimeout> | undefined;

const refresh = coalesced(readOnce);

export function startWallboard(): void {
  socket = openLiveSocket({ onMessage, onDisconnected: () => (wallboard.connected = false) });
}

export function stopWallboard(): void {
  clearTimeout(pending);
  pending = undefined;
  socket?.close();
  socket = null;
  wallboard.connected = false;
}

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case "hello":
      wallboard.connected = true;
      socket?.send({ type: "follow_room" });
      void refresh();
      return;
    case "queue":
    case "room_changed":
    case "operator_changed":
    case "callbacks_changed":
    case "tickets_changed":
      soon();
      return;
    case "card":
    case "call_changed":
    case "resync":
    case "error":
      // card/call_changed: this supervisor's own phone (the console's business). resync: the server closes the
      // stream next (4409) and the reconnect resyncs. error: a refused frame.
      return;
  }
}

function soon(): void {
  pending ??= setTimeout(() => {
    pending = undefined;
    void refresh();
  }, REFRESH_DELAY_MS);
}

async function readOnce(): Promise<void> {
  try {
    const { data, error, response } = await api.GET("/api/wallboard");
    if (data === undefined) {
      wallboard.failure = failureOf(error, response);
      if (response.status === 401) {
        await loadSession();
      }
      return;
    }
    wallboard.snapshot = data;
    wallboard.failure = null;
  } catch {
    wallboard.failure = NETWORK_FAILURE;
  }
}
