// The console's live stream: one websocket per page (GET /api/stream, kept open by liveSocket.ts). Frames only say
// what changed; the state is always re-read over REST, and after every (re)connect everything is resynced (the open
// cards, the operator's state, each card's call), so a dropped connection loses nothing. No polling: between frames
// nothing is fetched. Which cards show is decided by the pure reducer in cards.ts.

import { api, failureOf, type ApiFailure } from "../api/client";
import type { components } from "../api/schema";
import { refreshCallbacks } from "./callbacks.svelte";
import { cardsReducer, EMPTY_CARDS, type CardAction, type CardsState } from "./cards";
import { coalescedByKey } from "./coalesce";
import { forgetDispatch, readDispatch } from "./dispatch.svelte";
import { dispatchTouched } from "./dispatchPanel";
import { refreshOperatorState } from "./operatorState.svelte";
import { forgetHandover, ticketChanged } from "./handover.svelte";
import { openLiveSocket, type LiveSocket } from "./liveSocket";
import { loadSession } from "./session.svelte";
import type { ServerMessage } from "./streamProtocol";

export type Category = components["schemas"]["Category"];

export const live = $state<{
  cards: CardsState;
  connected: boolean;
  waiting: number | null;
  categories: Category[];
  failure: ApiFailure | null;
}>({ cards: EMPTY_CARDS, connected: false, waiting: null, categories: [], failure: null });

let me = "";
let socket: LiveSocket | null = null;

export function dispatch(action: CardAction): void {
  live.cards = cardsReducer(live.cards, action);
}

/** Open the stream for the signed-in `username` (the page's operator). */
export function startStream(username: string): void {
  me = username;
  void loadCategories();
  socket = openLiveSocket({ onMessage, onDisconnected: () => (live.connected = false) });
}

export function stopStream(): void {
  socket?.close();
  socket = null;
  live.cards = EMPTY_CARDS;
  live.connected = false;
}

function onMessage(message: ServerMessage): void {
  switch (message.type) {
    case "hello":
      live.connected = true;
      void resync();
      return;
    case "card":
      dispatch({ type: "card", callId: message.call_id, reason: message.reason });
      void readCall(message.call_id);
      return;
    case "call_changed":
      if (live.cards.cards.some((card) => card.callId === message.call_id)) {
        void readCall(message.call_id);
      }
      return;
    case "operator_changed":
      if (message.username === me) {
        void refreshOperatorState(me);
      }
      return;
    case "queue":
      live.waiting = message.waiting;
      return;
    case "callbacks_changed":
      void refreshCallbacks();
      return;
    case "tickets_changed":
      ticketChanged(message.ticket_id); // a ticket on an open card moved, or escalated
      return;
    case "resync":
    case "error":
    case "room_changed":
      // resync: the server closes the stream next (4409) and the reconnect resyncs. error: a refused watch.
      // room_changed: the wallboard's (the console never sends follow_room).
      return;
  }
}

/** Everything again from REST: the open cards replace the list (cards that arrived meanwhile stay), then each
 * card's call is read and watched on this connection. */
async function resync(): Promise<void> {
  const since = live.cards.seq;
  void refreshOperatorState(me);
  void refreshCallbacks();
  const { data, error, response } = await api.GET("/api/operators/{username}/cards", {
    params: { path: { username: me } },
  });
  if (data === undefined) {
    await noteFailure(failureOf(error, response));
    return;
  }
  dispatch({ type: "resync", open: data, since });
  for (const card of live.cards.cards) {
    send({ type: "watch", call_id: card.callId });
    void readCall(card.callId);
  }
}

/** Read a card's call and incident; changes that come while reading cause one more read, not a parallel one. */
export const readCall: (callId: string) => Promise<void> = coalescedByKey(readOnce);

async function readOnce(callId: string): Promise<void> {
  const params = { params: { path: { call_id: callId } } };
  try {
    const [call, incident] = await Promise.all([
      api.GET("/api/calls/{call_id}", params),
      api.GET("/api/calls/{call_id}/incident", params),
    ]);
    if (call.data === undefined) {
      await noteFailure(failureOf(call.error, call.response));
      return;
    }
    dispatch({ type: "detail", detail: call.data, me });
    if (incident.data !== undefined) {
      dispatch({ type: "incident", callId, incident: incident.data });
    } else if (incident.response.status === 404) {
      dispatch({ type: "incident", callId, incident: null });
    }
    // The dispatch's live state (ringing, consulting, connected) is not in the call: read it once dispatch has
    // taken the call over (after the card is up, so the screen pop does not wait for it).
    if (dispatchTouched(call.data)) {
      await readDispatch(callId);
    }
  } catch {
    live.failure = { status: 0, id: "network", message: "network error" };
  }
}

async function loadCategories(): Promise<void> {
  const { data, error, response } = await api.GET("/api/categories");
  if (data === undefined) {
    await noteFailure(failureOf(error, response));
    return;
  }
  live.categories = data;
}

/** Close a card here and stop following its call. */
export function closeCard(callId: string): void {
  dispatch({ type: "close", callId });
  forgetDispatch(callId);
  forgetHandover(callId);
  send({ type: "unwatch", call_id: callId });
}

function send(message: { type: "watch" | "unwatch"; call_id: string }): void {
  socket?.send(message);
}

async function noteFailure(failure: ApiFailure): Promise<void> {
  live.failure = failure;
  if (failure.status === 401) {
    await loadSession();
  }
}
