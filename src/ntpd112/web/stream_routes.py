"""The live stream of the console and the agency screen: one websocket per browser session (GET /api/stream), fed
by the event hub (live.py).

Open to staff (operator or above) and to agency users bound to an agency, who are told of their agency's tickets
only (stream_messages.AgencyListener). A browser's cookie session must also come from the service's own page (the
Origin rule of state-changing requests, web/auth.check_origin), since a websocket handshake is a GET that any
site's script may start with the user's cookie (cross-site websocket hijacking). Refusals are JSON answers before
the upgrade. The stream never reads the database for its frames: it forwards hub events (the listeners). It does
check its credential: every `HttpPolicy.stream_liveness_interval` seconds, and against the known expiry before
every frame; an ended session or token closes the stream with 4401 (sign in again). A connection that falls behind
gets `resync` and is closed with 4409. At shutdown every stream is closed with 1001 (going away).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel

from ntpd112.clock import utcnow
from ntpd112.live import Overflowed
from ntpd112.logs import get_logger
from ntpd112.web.auth import check_origin
from ntpd112.web.common import DEPS, IDENTITY_KEY, ApiError, Identity
from ntpd112.web.endpoints import HTTP_POLICY, JSON_MEDIA_TYPE, RouteTable
from ntpd112.web.stream_messages import (
    AgencyListener,
    ErrorMessage,
    HelloMessage,
    Listener,
    ResyncMessage,
    ServerMessage,
    encode,
)

log = get_logger(__name__)
routes = RouteTable()

CLOSE_SIGNED_OUT = 4401
CLOSE_OVERFLOWED = 4409
HEARTBEAT_SECONDS = 20.0
MAX_FRAME_BYTES = 4096
STREAMS = web.AppKey("streams", set[web.WebSocketResponse])

_PROTOCOL = (
    "Upgrades to a websocket (send the websocket handshake; a plain GET is refused with 400 websocket_required). "
    "For staff (operator or above) and agency users bound to an agency; anyone else 403 forbidden. "
    "Server frames are JSON text, each one of the schemas of the 101 answer. Staff: `hello` first, then `queue`; "
    "`card` when this user's phone rings with a call or they answer it; `call_changed` for calls this user was "
    "rung for or answered and calls watched; `operator_changed` (the user themself; supervisors: everyone); "
    "`queue` on every change of the waiting count; `tickets_changed` when any ticket is created, moved or "
    "commented on; `room_changed` for every call's change once a supervisor sent `follow_room` (the wallboard). "
    "Agency users: `hello`, then only `tickets_changed` for their own agency's tickets (no call, "
    "queue or operator frames). Everyone: `resync` before a close with 4409 (the connection fell behind). "
    'Client frames (staff): {"type": "watch" | "unwatch", "call_id": "<uuid>"} (at most 50 watches, 4 KiB a '
    'frame); {"type": "follow_room"} (supervisors; from an operator it gets an `error` frame); anything else, '
    "and any frame of an agency user, gets an `error` frame. Close codes: 4401 the session "
    "or token ended (sign in again), 4409 resync, 1001 the service stops. Cookie sessions must send the service's "
    "own Origin."
)


def listener_for(identity: Identity) -> Listener | AgencyListener | None:
    """Staff hear of calls, operators, the queue and every ticket; an agency user bound to an agency of that
    agency's tickets only; anyone else is refused the stream (None)."""
    if identity.has_role("operator"):
        return Listener(identity.username, identity.has_role("supervisor"))
    if identity.has_role("agency") and identity.agency is not None:
        return AgencyListener(identity.agency)
    return None


def _stream_precheck(request: web.Request) -> None:
    """Someone the stream has frames for; then a cookie session's Origin."""
    identity: Identity = request[IDENTITY_KEY]
    if listener_for(identity) is None:
        raise ApiError(403, "forbidden", "the stream is for staff and agency users", {"roles": list(identity.roles)})
    if identity.via == "session":
        check_origin(request, request.app[DEPS].accounts)


class _Connection:
    """One open stream: sends frames one at a time and closes with the right code."""

    def __init__(self, request: web.Request, socket: web.WebSocketResponse, identity: Identity) -> None:
        self._request = request
        self._socket = socket
        self._identity = identity
        self._expires_at: datetime = identity.expires_at
        self.closing = False
        listener = listener_for(identity)
        assert listener is not None  # the precheck refused everyone else
        self.listener = listener

    async def send(self, message: BaseModel) -> bool:
        """Send a frame, unless the credential has expired meanwhile (then the stream closes): False when closed."""
        if utcnow() >= self._expires_at:
            await self.close(CLOSE_SIGNED_OUT, "signed out")
            return False
        if self._socket.closed:
            return False
        # aiohttp writes each frame whole: the two tasks of a connection may both send.
        try:
            await self._socket.send_str(encode(message))
        except ConnectionResetError:  # the client went away mid-send
            return False
        return True

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        await self._socket.close(code=code, message=reason.encode())

    async def still_signed_in(self) -> bool:
        accounts = self._request.app[DEPS].accounts
        try:
            if self._identity.via == "session":
                expires_at = await accounts.sessions.live_until(self._identity.credential_id)
            else:
                expires_at = await accounts.tokens.live_until(self._identity.credential_id)
        except Exception as error:
            # PostgreSQL unavailable: keep the stream (a 112 room keeps working); the known expiry still holds.
            log.warning("stream credential check failed; next interval retries", error=type(error).__name__)
            return True
        if expires_at is None:
            await self.close(CLOSE_SIGNED_OUT, "signed out")
            return False
        self._expires_at = expires_at
        return True

    async def forward(self) -> None:
        """Hub events to frames until the stream closes. A fault closes the stream (1011): the client reconnects
        and resyncs, rather than waiting on a stream that says nothing."""
        try:
            await self._forward()
        except Exception:
            log.exception("stream failed; closing it", user=self._identity.username)
            await self.close(WSCloseCode.INTERNAL_ERROR, "internal error")

    async def _forward(self) -> None:
        deps, interval = self._request.app[DEPS], self._request.app[HTTP_POLICY].stream_liveness_interval
        loop = asyncio.get_running_loop()
        with deps.hub.subscribe() as subscription:
            hello = HelloMessage(user=self._identity.username, server_time=utcnow())
            for message in [hello, *self.listener.opening(deps.hub.queue_waiting)]:
                if not await self.send(message):
                    return
            next_check = loop.time() + interval
            while not self._socket.closed:
                try:
                    async with asyncio.timeout(max(next_check - loop.time(), 0)):
                        event = await subscription.get()
                except TimeoutError:
                    if not await self.still_signed_in():
                        return
                    next_check = loop.time() + interval
                    continue
                except Overflowed:
                    log.warning("stream fell behind; closing it for a resync", user=self._identity.username)
                    if await self.send(ResyncMessage()):
                        await self.close(CLOSE_OVERFLOWED, "resync")
                    return
                for message in self.listener.messages_for(event):
                    if not await self.send(message):
                        return

    async def receive(self) -> None:
        """The client's frames until it closes; a refused frame gets an error frame, never a closed stream."""
        async for frame in self._socket:
            if frame.type == WSMsgType.TEXT:
                refused = self.listener.receive(frame.data)
            elif frame.type == WSMsgType.BINARY:
                refused = ErrorMessage(id="bad_message", message="send JSON text frames")
            else:  # ERROR (a frame over the size limit, a protocol error): aiohttp closes the socket itself
                return
            if refused is not None and not await self.send(refused):
                return


@routes.get(
    "/api/stream",
    access="signed_in",
    summary="The live stream of the console and the agency screen (websocket)",
    status=101,
    response_model=ServerMessage,
    produces=JSON_MEDIA_TYPE,
    precheck=_stream_precheck,
    refusals={400: ("websocket_required",), 403: ("forbidden", "bad_origin")},
    description=_PROTOCOL,
)
async def open_stream(request: web.Request, identity: Identity) -> web.StreamResponse:
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=MAX_FRAME_BYTES)
    if not socket.can_prepare(request).ok:
        raise ApiError(400, "websocket_required", "this route is a websocket: send the websocket handshake")
    await socket.prepare(request)
    streams = request.app[STREAMS]
    streams.add(socket)
    connection = _Connection(request, socket, identity)
    forwarding = asyncio.create_task(connection.forward(), name=f"stream:{identity.username}")
    try:
        await connection.receive()
    finally:
        # The client left: stop forwarding. Or forward is closing the socket (which ended receive): let it finish
        # the closing handshake.
        if not connection.closing:
            forwarding.cancel()
        await asyncio.wait({forwarding})
        streams.discard(socket)
        if not socket.closed:
            await socket.close()
    return socket


async def _close_streams(app: web.Application) -> None:
    streams = app[STREAMS]
    for socket in tuple(streams):
        await socket.close(code=WSCloseCode.GOING_AWAY, message=b"the service stops")


def install(app: web.Application) -> None:
    """The set of open streams, closed when the service shuts down (aiohttp would wait for them otherwise)."""
    app[STREAMS] = set()
    app.on_shutdown.append(_close_streams)
