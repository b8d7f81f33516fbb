"""The ARI events websocket's watchdog, against a stand-in for Asterisk's websocket (aiohttp on loopback) that answers
pings late, not at all, or only sends events: a saturated Asterisk must not cost the connection, a silent one must.
The real Asterisk's side (a connection it closes) is in tests/integration/test_faults.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from ntpd112.backoff import Backoff
from ntpd112.pbx import ari as ari_module
from ntpd112.pbx.ari import AriClient
from ntpd112.pbx.ari_models import AriEvent

APP = "ntpd112"


@dataclass
class FakeAriWebsocket:
    """pong_delay: seconds before a ping is answered (None: never); event_every: an event this often (None: none)."""

    pong_delay: float | None = 0.0
    event_every: float | None = None
    connections: int = 0
    pings: int = 0

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(autoping=False)
        await websocket.prepare(request)
        self.connections += 1
        sender = asyncio.create_task(self._send_events(websocket))
        try:
            async for message in websocket:
                if message.type == aiohttp.WSMsgType.PING:
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

    @staticmethod
    async def event_filter(_: web.Request) -> web.Response:
        return web.json_response({})


@pytest.fixture
async def asterisk() -> AsyncIterator[tuple[FakeAriWebsocket, str]]:
    fake = FakeAriWebsocket()
    app = web.Application()
    app.router.add_get("/ari/events", fake.events)
    app.router.add_put(f"/ari/applications/{APP}/eventFilter", fake.event_filter)
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


async def _started(base_url: str) -> AriClient:
    async def on_event(_: AriEvent) -> None:
        return None

    async def on_connected() -> None:
        return None

    ari = AriClient(base_url, "ntpd112", SecretStr("secret"), APP, request_timeout=2, backoff=Backoff(0.01, 0.05))
    await ari.start(on_event, on_connected)
    await _until(lambda: ari.connected)
    return ari


async def test_pongs_answered_late_keep_the_connection(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay = 0.3  # three heartbeats late, within the silence limit: a saturated Asterisk
    ari = await _started(base_url)
    try:
        await asyncio.sleep(1.5)
        assert (ari.connected, ari.connections, fake.connections) == (True, 1, 1)
        assert fake.pings >= 3
    finally:
        await ari.stop()


async def test_events_keep_the_connection_when_pings_go_unanswered(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay, fake.event_every = None, 0.05  # busy with events, too busy to answer pings
    ari = await _started(base_url)
    try:
        await asyncio.sleep(1.5)
        assert (ari.connected, fake.connections) == (True, 1)
    finally:
        await ari.stop()


async def test_a_silent_connection_is_dropped_and_made_again(asterisk: tuple[FakeAriWebsocket, str]) -> None:
    fake, base_url = asterisk
    fake.pong_delay = None  # half-open: the socket stays up, nothing comes back
    ari = await _started(base_url)
    try:
        connected_at = asyncio.get_running_loop().time()
        await _until(lambda: fake.connections == 2, timeout=5)
        # Not at the first unanswered ping (0.1 s in): only once nothing came for the silence limit (0.6 s).
        assert asyncio.get_running_loop().time() - connected_at >= 0.5
        assert fake.pings >= 3
        await _until(lambda: ari.connected and ari.connections == 2)
        assert ari.last_error is None
    finally:
        await ari.stop()
