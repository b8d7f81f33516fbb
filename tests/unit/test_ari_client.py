"""The ARI client against a stand-in for Asterisk's websocket (aiohttp on loopback).

The events websocket's watchdog: the stand-in answers pings late, not at all, or only sends events; a saturated
Asterisk must not cost the connection, a silent one must. The real Asterisk's side (a connection it closes) is in
tests/integration/test_faults.py.

Requests over the events websocket (RESTRequest/RESTResponse): a call's subscription and continue go there once
Asterisk answers there, over HTTP when it does not (before 22.4); an answer that never comes is AriUnavailable. The
real Asterisk's side is in tests/integration/test_intake.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from ntpd112.backoff import Backoff
from ntpd112.pbx import ari as ari_module
from ntpd112.pbx.ari import AriClient, AriError, AriUnavailable
from ntpd112.pbx.ari_models import AriEvent

APP = "ntpd112"


@dataclass
class FakeAriWebsocket:
    """pong_delay: seconds before a ping is answered (None: never); event_every: an event this often (None: none);
    answers_rest: whether RESTRequests on the websocket are answered (an Asterisk before 22.4 ignores them).
    A request for channel `gone` is answered 404; one for channel `cut` closes the websocket instead."""

    pong_delay: float | None = 0.0
    event_every: float | None = None
    answers_rest: bool = True
    connections: int = 0
    pings: int = 0
    rest_on_websocket: list[str] = field(default_factory=list)  # "METHOD uri" of each RESTRequest
    rest_over_http: list[str] = field(default_factory=list)  # "METHOD path?query" of each HTTP request

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(autoping=False)
        await websocket.prepare(request)
        self.connections += 1
        sender = asyncio.create_task(self._send_events(websocket))
        try:
            async for message in websocket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await self._rest(websocket, json.loads(message.data))
                elif message.type == aiohttp.WSMsgType.PING:
                    self.pings += 1
                    if self.pong_delay is not None:
                        await asyncio.sleep(self.pong_delay)
                        await websocket.pong(message.data)
        finally:
            sender.cancel()
        return websocket

    async def _send_events(self, websocket: web.WebSocketResponse) -> None:
        while self.event_every is not None and not websocket.closed:
            await asyncio.sleep(self.event_every)
            await websocket.send_str(json.dumps({"type": "ApplicationMoveFailed", "application": APP}))

    async def _rest(self, websocket: web.WebSocketResponse, request: dict[str, str]) -> None:
        assert request["type"] == "RESTRequest"
        self.rest_on_websocket.append(f"{request['method']} {request['uri']}")
        uri = unquote(request["uri"])
        if "channel:cut" in uri or "/cut/" in uri:
            await websocket.close()
            return
        if not self.answers_rest:
            return
        gone = "channel:gone" in uri or "/gone/" in uri
        status, body = (404, '{"message":"Channel not found"}') if gone else (204, None)
        answer = {"type": "RESTResponse", "request_id": request["request_id"], "status_code": status}
        await websocket.send_str(json.dumps(answer | ({"message_body": body} if body else {})))

    async def over_http(self, request: web.Request) -> web.Response:
        self.rest_over_http.append(f"{request.method} {request.path_qs.removeprefix('/ari/')}")
        return web.Response(status=204)

    @staticmethod
    async def event_filter(_: web.Request) -> web.Response:
        return web.json_response({})


@pytest.fixture
async def asterisk() -> AsyncIterator[tuple[FakeAriWebsocket, str]]:
    fake = FakeAriWebsocket()
    app = web.Application()
    app.router.add_get("/ari/events", fake.events)
    app.router.add_put(f"/ari/applications/{APP}/eventFilter", fake.event_filter)
    app.router.add_post(f"/ari/applications/{APP}/subscription", fake.over_http)
    app.router.add_post("/ari/channels/{channel}/continue", fake.over_http)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield fake, f"http://127.0.0.1:{port}/ari"
    finally:
        await runner.cleanup()


@pytest.fixture(autouse=True)
def fast_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ari_module, "WATCHDOG_INTERVAL", 0.1)
    monkeypatch.setattr(ari_module, "SILENCE_LIMIT", 0.6)


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling a test condition
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def _client(
    base_url: str, request_timeout: float = 2, *, requests_on_websocket: bool = False
) -> AsyncIterator[AriClient]:
    """A started client, connected to the stand-in (and sending requests on its websocket if asked), stopped
    afterwards."""

    async def on_event(_: AriEvent) -> None:
        return None

    async def on_connected() -> None:
        return None

    backoff = Backoff(0.01, 0.05)
    ari = AriClient(base_url, "ntpd112", SecretStr("secret"), APP, request_timeout=request_timeout, backoff=backoff)
    await ari.start(on_event, on_connected)
    try:
        await _until(lambda: ari.connected and ari.requests_over_websocket >= requests_on_websocket)
        yield ari
    finally:
        await ari.stop()


async def test_pongs_answered_late_keep_the_connection(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay = 0.3  # three heartbeats late, within the silence limit: a saturated Asterisk
    async with _client(base_url) as ari:
        await asyncio.sleep(1.5)
        assert (ari.connected, ari.connections, fake.connections) == (True, 1, 1)
        assert fake.pings >= 3


async def test_events_keep_the_connection_when_pings_go_unanswered(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay, fake.event_every = None, 0.05  # busy with events, too busy to answer pings
    async with _client(base_url) as ari:
        await asyncio.sleep(1.5)
        assert (ari.connected, fake.connections) == (True, 1)


async def test_a_silent_connection_is_dropped_and_made_again(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay = None  # half-open: the socket stays up, nothing comes back
    async with _client(base_url) as ari:
        connected_at = asyncio.get_running_loop().time()
        await _until(lambda: fake.connections == 2, timeout=5)
        # Not at the first unanswered ping (0.1 s in): only once nothing came for the silence limit (0.6 s).
        assert asyncio.get_running_loop().time() - connected_at >= 0.5
        assert fake.pings >= 3
        await _until(lambda: ari.connected and ari.connections == 2)
        assert ari.last_error is None


async def test_a_calls_requests_go_over_the_websocket_once_asterisk_answers_there(
    asterisk: tuple[FakeAriWebsocket, str],
) -> None:
    fake, base_url = asterisk
    async with _client(base_url, requests_on_websocket=True) as ari:
        await ari.subscribe_channel("1796500000.7")
        await ari.continue_in_dialplan("1796500000.7", "ntpd112-queue", "s", 2)
        assert fake.rest_on_websocket == [
            "GET asterisk/ping",  # the probe that Asterisk answers RESTRequests
            f"POST applications/{APP}/subscription?eventSource=channel%3A1796500000.7",
            "POST channels/1796500000.7/continue?context=ntpd112-queue&extension=s&priority=2",
        ]
        assert fake.rest_over_http == []
        assert ari.health()["requests_over_websocket"] is True


async def test_an_error_answered_on_the_websocket_is_the_ari_error_http_would_give(
    asterisk: tuple[FakeAriWebsocket, str],
) -> None:
    _, base_url = asterisk
    async with _client(base_url, requests_on_websocket=True) as ari:
        with pytest.raises(AriError) as raised:
            await ari.subscribe_channel("gone")
        assert raised.value.status == 404 and not isinstance(raised.value, AriUnavailable)
        assert "Channel not found" in str(raised.value)


async def test_an_asterisk_that_ignores_requests_on_the_websocket_gets_them_over_http(
    asterisk: tuple[FakeAriWebsocket, str],
) -> None:
    fake, base_url = asterisk
    fake.answers_rest = False
    async with _client(base_url, request_timeout=0.3) as ari:
        await _until(lambda: fake.rest_on_websocket == ["GET asterisk/ping"])
        await asyncio.sleep(0.5)  # the probe's timeout
        await ari.subscribe_channel("1796500000.8")
        await ari.continue_in_dialplan("1796500000.8", "ntpd112-queue", "s")
        assert fake.rest_over_http == [
            f"POST applications/{APP}/subscription?eventSource=channel:1796500000.8",
            "POST channels/1796500000.8/continue?context=ntpd112-queue&extension=s&priority=1",
        ]
        assert fake.rest_on_websocket == ["GET asterisk/ping"]
        assert (ari.requests_over_websocket, ari.connected) == (False, True)


async def test_a_request_waiting_when_the_websocket_ends_is_unavailable_at_once(
    asterisk: tuple[FakeAriWebsocket, str],
) -> None:
    _, base_url = asterisk
    async with _client(base_url, request_timeout=30, requests_on_websocket=True) as ari:
        started = asyncio.get_running_loop().time()
        with pytest.raises(AriUnavailable, match="websocket ended"):
            await ari.subscribe_channel("cut")
        assert asyncio.get_running_loop().time() - started < 5  # not the 30 s request timeout
        await _until(lambda: ari.connections == 2 and ari.requests_over_websocket)
