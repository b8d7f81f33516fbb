// One live stream websocket (GET /api/stream) that keeps itself open: frames parsed (streamProtocol.ts), reconnects
// with backoff and jitter, 4401 (the session ended) sends the page to the login. Shared by the console
// (stream.svelte.ts) and the agency screen; what a frame means is the page's business. After every (re)connect the
// server says `hello` first: that is when a page resyncs everything from REST.

import { loadSession, session } from "./session.svelte";
import { CLOSE_SIGNED_OUT, parseServerMessage, reconnectDelay, type ServerMessage } from "./streamProtocol";

export interface LiveSocket {
  /** Send a client frame if the connection is open (dropped otherwise: the next hello resyncs). */
  send(message: object): void;
  /** Close for good (the page left). */
  close(): void;
}

export function openLiveSocket(handlers: {
  onMessage: (message: ServerMessage) => void;
  onDisconnected?: () => void;
}): LiveSocket {
  let socket: WebSocket | null = null;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let running = true;

  function connect(): void {
    const url = new URL("/api/stream", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = (event) => {
      if (socket !== ws) {
        return;
      }
      const message = parseServerMessage(String(event.data));
      if (message === null) {
        return;
      }
      if (message.type === "hello") {
        attempt = 0;
      }
      handlers.onMessage(message);
    };
    ws.onclose = (event) => {
      if (socket !== ws) {
        return; // replaced or closed on purpose
      }
      socket = null;
      handlers.onDisconnected?.();
      if (!running) {
        return;
      }
      if (event.code === CLOSE_SIGNED_OUT) {
        void loadSession(); // the session ended: the page goes to the login
        return;
      }
      reconnectLater();
    };
  }

  function reconnectLater(): void {
    reconnectTimer = setTimeout(() => void reconnect(), reconnectDelay(attempt, Math.random()));
    attempt += 1;
  }

  /** Reconnect if the session still holds: a websocket handshake refused for want of a session says nothing the
   * page can read, so ask the session route first (a signed-out page goes to the login and stops the stream). A
   * service that cannot answer yet (restarting, the network down) is asked again later, with the same backoff. */
  async function reconnect(): Promise<void> {
    const reached = await loadSession();
    if (!running || socket !== null) {
      return;
    }
    if (!reached) {
      reconnectLater();
    } else if (session.user !== null) {
      connect();
    }
  }

  connect();
  return {
    send(message) {
      if (socket?.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify(message));
      }
    },
    close() {
      running = false;
      clearTimeout(reconnectTimer);
      const open = socket;
      socket = null;
      open?.close(1000, "page left");
    },
  };
}
