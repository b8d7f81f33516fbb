"""A thin ARI client on aiohttp: REST with timeouts, the events websocket with a watchdog, reconnect with capped
backoff, resync after reconnect and in-order handling of the events of each channel.

Why not a library: ari-py does not import on Python 3, and aioari, asyncari and ari-client go deaf or freeze the
event loop when the websocket drops. Asterisk does not replay events missed while disconnected, so after every
(re)connect the owner's `on_connected` hook resyncs from the REST state.

The requests every call makes (its subscription, its `continue`) go over the events websocket as ARI's RESTRequest
messages (Asterisk 20.14/21.9/22.4 on) while it is up, the others over HTTP: an HTTP request cost the service about
0.8 ms of CPU, the most of any step of a call (docs/BENCHMARKS.md, issue 12).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from pydantic import SecretStr

from ntpd112.backoff import Backoff
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import SILENCE_LIMIT, WATCHDOG_INTERVAL
from ntpd112.pbx.ari_models import (
    HANDLED_EVENT_TYPES,
    AriEvent,
    AriEventError,
    Channel,
    event_channel_id,
    parse_event,
)
from ntpd112.tasks import KeyedSerialExecutor, TaskSet

log = get_logger(__name__)

EventHandler = Callable[[AriEvent], Awaitable[None]]
ConnectedHook = Callable[[], Awaitable[None]]

# The events websocket's watchdog is AMI's (the same interval and silence limit): a ping after WATCHDOG_INTERVAL with
# nothing from Asterisk, and the connection dropped only once nothing at all (no event, no pong) has come for
# SILENCE_LIMIT. aiohttp's own heartbeat dropped it when one pong was 2.5 s late: with 1,000 callers' media
# saturating Asterisk (the `thousand` load profile), Asterisk sent nothing for that long and the service reconnected,
# then waited 34 s for the new websocket. A connection Asterisk closes (killed, restarted) ends at once either way;
# only a half-open one waits for the silence limit.
# Asterisk quirk: its HTTP server listens with a backlog of 10 (tcptls.c's listen(fd, 10); `ss -ltn` shows it on
# 8088), so a burst of new connections (intake reads nine values of a call at once, calls arrive together)
# overflows it; the kernel drops the SYNs (TcpExtListenOverflows) and those requests wait for TCP's SYN retry, 1 s
# and then 3 s. A pool of kept-alive connections opens them once; past it, requests wait here for a free one.
# Fewer than intake's nine reads split every intake into two rounds (the surge profile's intake p99 was 356 ms with
# 8 connections, 40 ms with 16); more than the backlog can still overflow it when the pool refills at once after
# an idle spell (Asterisk closes idle connections): a 112 call's intake then stalled past a second (seen in CI: the
# caller, answered by the dialplan, hung up before intake queued the call). Ten: both hold.
REST_CONNECTIONS = 10
# Asterisk closes an HTTP connection after 15 s idle (http.conf session_keep_alive): drop it here well before, so a
# request is never sent on a connection Asterisk is closing.
KEEPALIVE_SECONDS = 10.0
# The requests that go over the events websocket (`_request_on_websocket`): Asterisk runs the requests of a
# websocket one after another in its reading thread, so none of them may wait on a channel (an answer or a bridge
# move waits for the channel's Stasis thread; a subscription and a `continue` do not).
# Asterisk quirk: the app's eventFilter applies to RESTResponse as to any event; a filter without it lets no
# answer through, and every request on the websocket then times out (seen on 22.10 with a probe app).
REST_RESPONSE = "RESTResponse"
# Events of no channel (ApplicationReplaced, ...) share one serial lane.
_GLOBAL_LANE = "-"


@dataclass
class _LastHeard:
    """When anything (an event, a pong) last came on the events websocket."""

    at: float


class AriError(Exception):
    def __init__(self, status: int, message: str, method: str, path: str) -> None:
        super().__init__(f"ARI {method} {path}: {status} {message}")
        self.status = status


class AriUnavailable(AriError):
    """Asterisk could not be reached or did not answer in time."""


class AriClient:
    def __init__(
        self,
        base_url: str,
        username: str,
        password: SecretStr,
        app: str,
        *,
        request_timeout: float,
        backoff: Backoff,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._auth_header = {"Authorization": aiohttp.encode_basic_auth(username, password.get_secret_value())}
        self.app = app
        self._request_timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None
        self._tasks = TaskSet("ari")
        self._executor: KeyedSerialExecutor[AriEvent] | None = None
        self._on_connected: ConnectedHook | None = None
        self.connected = False
        self.connections = 0
        self.last_error: str | None = None
        # The events websocket once it has answered a RESTRequest (Asterisk 22.4 on); None: every request over HTTP.
        self._rest_websocket: aiohttp.ClientWebSocketResponse | None = None
        # RESTRequests sent on the websocket and not answered yet, by request_id: (status, body) once answered,
        # ConnectionError if the websocket ends first.
        self._awaiting: dict[str, asyncio.Future[tuple[int, str]]] = {}
        self._request_ids = itertools.count(1)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self, on_event: EventHandler, on_connected: ConnectedHook) -> None:
        # One more connection than REST_CONNECTIONS: the events websocket holds one for good.
        connector = aiohttp.TCPConnector(limit=REST_CONNECTIONS + 1, keepalive_timeout=KEEPALIVE_SECONDS)
        self._session = aiohttp.ClientSession(
            headers=self._auth_header, timeout=self._request_timeout, connector=connector
        )
        self._executor = KeyedSerialExecutor(on_event, self._tasks)
        self._on_connected = on_connected
        self._tasks.spawn(self._events_loop(), name="ari-events")

    async def stop(self) -> None:
        await self._tasks.aclose()
        if self._session is not None:
            await self._session.close()
        self.connected = False

    @property
    def reconnects(self) -> int:
        return max(self.connections - 1, 0)

    @property
    def requests_over_websocket(self) -> bool:
        """Whether a call's subscription and continue go over the events websocket now (else over HTTP)."""
        return self._rest_websocket is not None and not self._rest_websocket.closed

    def health(self) -> dict[str, Any]:
        return {
            "ok": self.connected,
            "connections": self.connections,
            "last_error": self.last_error,
            "requests_over_websocket": self.requests_over_websocket,
        }

    # -- events -------------------------------------------------------------------------------------------

    async def _events_loop(self) -> None:
        assert self._session is not None and self._executor is not None and self._on_connected is not None
        ws_url = self._base_url.replace("http", "ws", 1) + "/events"
        params = {"app": self.app, "subscribeAll": "false"}
        while True:
            try:
                async with self._session.ws_connect(
                    ws_url, params=params, autoping=False, timeout=aiohttp.ClientWSTimeout(ws_close=5)
                ) as websocket:
                    self.connected = True
                    self.connections += 1
                    self.last_error = None
                    self._backoff.reset()
                    log.info("ari connected", app=self.app, connections=self.connections)
                    # Resync in the background: the websocket must keep being read while REST calls run.
                    self._tasks.spawn(self._connected(websocket), name="ari-resync")
                    self.last_error = await self._read_events(websocket)
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                self.last_error = f"{type(error).__name__}: {error}"
            finally:
                if self.connected:
                    log.warning("ari disconnected", reason=self.last_error)
                self.connected = False
                self._rest_websocket = None
                self._unanswered(f"websocket ended ({self.last_error})")
            delay = self._backoff.next_delay()
            log.info("ari reconnecting", delay=round(delay, 2), reason=self.last_error)
            await asyncio.sleep(delay)

    async def _read_events(self, websocket: aiohttp.ClientWebSocketResponse) -> str:
        """Hand every event on until the websocket ends or Asterisk has been silent for SILENCE_LIMIT, pinging it
        whenever it has been quiet for WATCHDOG_INTERVAL; why it ended. The watch wakes once an interval, not once
        an event (a timeout per receive costs a timer per event)."""
        heard = _LastHeard(time.monotonic())
        reader = asyncio.ensure_future(self._receive(websocket, heard))
        try:
            while True:
                done, _ = await asyncio.wait([reader], timeout=WATCHDOG_INTERVAL)
                if done:
                    return reader.result()
                silent_for = time.monotonic() - heard.at
                if silent_for >= SILENCE_LIMIT:
                    return f"watchdog: nothing from Asterisk for {silent_for:.0f} s; dropping the connection"
                if silent_for >= WATCHDOG_INTERVAL:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await websocket.ping()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _receive(self, websocket: aiohttp.ClientWebSocketResponse, heard: _LastHeard) -> str:
        async for message in websocket:  # ends at a close frame
            heard.at = time.monotonic()
            if message.type == aiohttp.WSMsgType.TEXT:
                self._dispatch(message.data)
            elif message.type == aiohttp.WSMsgType.PING:
                await websocket.pong(message.data)
            elif message.type == aiohttp.WSMsgType.ERROR:
                return f"websocket error: {message.data}"
        return f"websocket closed ({websocket.close_code})"

    async def _connected(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        assert self._on_connected is not None
        await self._filter_events()
        await self._offer_rest_on(websocket)
        await self._on_connected()

    async def _offer_rest_on(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        """Send the per-call requests over this websocket if Asterisk answers a RESTRequest on it (22.4 on)."""
        try:
            await self._exchange(websocket, "GET", "/asterisk/ping", {})
        except AriError as error:
            log.warning("ari requests over the events websocket unanswered; all of them over HTTP", error=str(error))
            return
        if not websocket.closed:
            self._rest_websocket = websocket

    async def _filter_events(self) -> None:
        """Only the events the service handles: a subscribed channel otherwise sends one for every dialplan step
        and variable of its time in the queue (a dozen per call that Asterisk sends and the service parses, and
        under load the app's event queue in Asterisk reached its high-water mark, which makes PJSIP ignore new
        INVITEs until it drains). Set on every connect; without it (an Asterisk that refuses it) every event
        still comes and the ones not handled are dropped here, as before."""
        body = {"allowed": [{"type": event_type} for event_type in (*HANDLED_EVENT_TYPES, REST_RESPONSE)]}
        try:
            await self.request("PUT", f"/applications/{self.app}/eventFilter", body=body)
        except AriError as error:
            log.warning("ari event filter not set; every event of the app's channels comes", error=str(error))

    def _dispatch(self, raw: str) -> None:
        assert self._executor is not None
        try:
            payload = orjson.loads(raw)
            if isinstance(payload, dict) and payload.get("type") == REST_RESPONSE:
                self._answered(payload)
                return
            event = parse_event(payload)
        except (ValueError, AriEventError) as error:
            log.warning("ari event ignored", reason=str(error))
            return
        if event.type == "ApplicationReplaced":
            # Another client registered the same app name and took our events; say so loudly.
            log.error("ari application replaced by another connection", app=self.app)
        self._executor.submit(event_channel_id(event) or _GLOBAL_LANE, event)

    # -- REST ---------------------------------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None) -> Any:
        if self._session is None:
            raise AriUnavailable(0, "client not started", method, path)
        try:
            async with self._session.request(method, self._base_url + path, params=params, json=body) as response:
                text = await response.text()
                if response.status >= 400:
                    raise AriError(response.status, _error_message(text), method, path)
                return orjson.loads(text) if text else None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise AriUnavailable(0, f"{type(error).__name__}: {error}", method, path) from error

    async def _request_on_websocket(self, method: str, path: str, params: dict[str, str]) -> Any:
        """As `request`, over the events websocket while it is up (over HTTP otherwise): no body, and only for
        requests that do not wait on a channel (see the quirk above). A websocket that ends before the answer, or
        no answer within the request timeout, is AriUnavailable, as an HTTP request that went unanswered."""
        if not self.requests_over_websocket:
            return await self.request(method, path, params=params)
        assert self._rest_websocket is not None
        return await self._exchange(self._rest_websocket, method, path, params)

    async def _exchange(
        self, websocket: aiohttp.ClientWebSocketResponse, method: str, path: str, params: dict[str, str]
    ) -> Any:
        request_id = str(next(self._request_ids))
        uri = path.lstrip("/") + ("?" + urlencode(params) if params else "")
        message = {"type": "RESTRequest", "request_id": request_id, "method": method, "uri": uri}
        answer: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._awaiting[request_id] = answer
        try:
            await websocket.send_str(orjson.dumps(message).decode())
            status, text = await asyncio.wait_for(answer, self._request_timeout.total)
        except (ConnectionError, RuntimeError) as error:  # not sent, or the websocket ended before the answer
            raise AriUnavailable(0, f"{type(error).__name__}: {error}", method, path) from error
        except TimeoutError as error:
            raise AriUnavailable(0, "no answer on the events websocket in time", method, path) from error
        finally:
            self._awaiting.pop(request_id, None)
        if status >= 400:
            raise AriError(status, _error_message(text), method, path)
        return orjson.loads(text) if text else None

    def _answered(self, response: dict[str, Any]) -> None:
        answer = self._awaiting.get(str(response.get("request_id")))
        if answer is None or answer.done():
            return  # answered after its timeout: the caller has moved on
        status = response.get("status_code")
        body = response.get("message_body")
        answer.set_result(
            (status if isinstance(status, int) and status > 0 else 500, body if isinstance(body, str) else "")
        )

    def _unanswered(self, reason: str) -> None:
        for answer in self._awaiting.values():
            if not answer.done():
                answer.set_exception(ConnectionError(reason))

    async def startup_time(self) -> str | None:
        """When this Asterisk started (GET /asterisk/info): another value after a reconnect means it restarted."""
        info = await self.request("GET", "/asterisk/info", params={"only": "status"})
        status = info.get("status") if isinstance(info, dict) else None
        return str(status["startup_time"]) if isinstance(status, dict) and status.get("startup_time") else None

    async def list_channels(self) -> list[Channel]:
        return [Channel.model_validate(item) for item in await self.request("GET", "/channels")]

    async def get_channel(self, channel_id: str) -> Channel | None:
        try:
            return Channel.model_validate(await self.request("GET", f"/channels/{channel_id}"))
        except AriError as error:
            if error.status == 404:
                return None
            raise

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        """A channel variable or dialplan function value; None when it does not exist.

        Quirk: reading a function whose value does not exist, such as PJSIP_HEADER(read,X) for a header the INVITE
        did not carry, answers HTTP 500 "Unable to read provided function" instead of an empty value.
        """
        try:
            result = await self.request("GET", f"/channels/{channel_id}/variable", params={"variable": variable})
        except AriError as error:
            if error.status in (404, 500) and not isinstance(error, AriUnavailable):
                return None
            raise
        value = result.get("value") if isinstance(result, dict) else None
        return value if isinstance(value, str) else None

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/variable", params={"variable": variable, "value": value})

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str, priority: int = 1) -> None:
        params = {"context": context, "extension": extension, "priority": str(priority)}
        await self._request_on_websocket("POST", f"/channels/{channel_id}/continue", params)

    async def subscribe_channel(self, channel_id: str) -> None:
        """Keep receiving this channel's events (ChannelDestroyed with the hangup cause) after it leaves Stasis."""
        params = {"eventSource": f"channel:{channel_id}"}
        await self._request_on_websocket("POST", f"/applications/{self.app}/subscription", params)

    # -- bridges and originate (dispatch holds the call in Stasis bridges) -----------------------------------

    async def create_bridge(self, bridge_type: str = "mixing") -> str:
        # A mixing bridge with two channels runs natively (simple/native RTP) and moves to softmix by itself when a
        # third joins, so one bridge type serves transfers and conferences.
        bridge = await self.request("POST", "/bridges", params={"type": bridge_type})
        return str(bridge["id"])

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/addChannel", params={"channel": channel_id})

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/removeChannel", params={"channel": channel_id})

    async def start_bridge_moh(self, bridge_id: str, moh_class: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/moh", params={"mohClass": moh_class})

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}/moh")

    async def play(self, channel_id: str, media: str) -> None:
        # To one channel, also while it is in a bridge. (Playing to a whole bridge needs chan_bridge_media's
        # Announcer channel: "Could not create playback channel" without it.)
        await self.request("POST", f"/channels/{channel_id}/play", params={"media": media})

    async def originate(
        self, channel_id: str, endpoint: str, app_args: str, *, timeout: int, caller_id: str, originator: str
    ) -> None:
        """Dial `endpoint`; once it answers the channel enters our app (StasisStart with `app_args`). A channel
        that never answers only ever shows up as ChannelDestroyed, with the reason in its hangup cause."""
        params = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "channelId": channel_id,
            "timeout": str(timeout),
            "callerId": caller_id,
            # Same linkedid as the 112 call, so CDR/CEL keep the agency leg with the call.
            "originator": originator,
        }
        await self.request("POST", "/channels", params=params)

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", params={"reason": reason})


def _error_message(text: str) -> str:
    try:
        payload = orjson.loads(text)
    except ValueError:
        return text[:200]
    return str(payload.get("message", text[:200])) if isinstance(payload, dict) else text[:200]
