"""The console's live stream (GET /api/stream) against the real service, PostgreSQL and Asterisk: hello and the
queue, the card (screen pop) when a real 112 call rings and is answered by the operator's phone, the changes of
that call, operator presence, watching a call, refusals before the upgrade, bad frames, and the close on sign-out."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.live import DEFAULT_QUEUE_SIZE, QueueWaiting
from ntpd112.queue.operators import NewOperator
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    calls_from,
    empty_queue,
    service_settings,
    unique_mobile_number,
    user_token,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp

PASSWORD = "korek-api-biru-7"
Frames = list[dict[str, Any]]


@pytest.fixture
async def stream_service(local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    # A short liveness interval: a revoked session closes the stream within a second or two.
    service = Service(service_settings(clean_database, tmp_path / "spool", stream_liveness_seconds=0.5))
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        await empty_queue(service)
        yield service
    finally:
        for operator in await service.operators.list():
            await service.operators.remove(operator.username)
        await service.stop()


@pytest.fixture
async def http(stream_service: Service) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=origin(stream_service), cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


def origin(service: Service) -> str:
    return f"http://127.0.0.1:{service.settings.http_port}"


async def add_operator(service: Service, username: str, contact: str | None = None) -> None:
    await service.operators.add(NewOperator(username=username, name=username.title(), contact=contact))
    await service.accounts.users.set_password(username, hash_password(PASSWORD), must_change=False)


async def sign_in(http: aiohttp.ClientSession, username: str) -> str:
    async with http.post("/api/session", json={"username": username, "password": PASSWORD}) as response:
        assert response.status == 200, await response.text()
        return response.cookies["ntpd112_session"].value


def browser_headers(service: Service, cookie: str) -> dict[str, str]:
    return {"Cookie": f"ntpd112_session={cookie}", "Origin": origin(service)}


async def collect(socket: aiohttp.ClientWebSocketResponse, until: Any, timeout: float = 20.0) -> Frames:
    """Frames until `until(frames)` holds (AssertionError with the frames otherwise)."""
    frames: Frames = []
    deadline = time.monotonic() + timeout
    while not until(frames):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"not seen within {timeout} s: {frames}")
        try:
            message = await socket.receive(timeout=remaining)
        except TimeoutError:
            continue
        assert message.type == aiohttp.WSMsgType.TEXT, (message, frames)
        frames.append(message.json())
    return frames


def has(frame: dict[str, Any]) -> Any:
    return lambda frames: frame in frames


async def test_the_operator_gets_the_card_and_the_changes_of_their_call_and_no_one_else_does(
    stream_service: Service, http: aiohttp.ClientSession
) -> None:
    service = stream_service
    phone = SippAgent("operator.xml", "127.0.0.31", hold_ms=1500)
    async with running(phone):
        await add_operator(service, "op1", phone.contact)
        await add_operator(service, "op2")
        cookies = {name: await sign_in(http, name) for name in ("op1", "op2")}
        async with (
            http.ws_connect("/api/stream", headers=browser_headers(service, cookies["op1"])) as mine,
            http.ws_connect("/api/stream", headers=browser_headers(service, cookies["op2"])) as other,
        ):
            for socket, user in ((mine, "op1"), (other, "op2")):
                hello, queue = [(await socket.receive(timeout=5)).json() for _ in range(2)]
                assert hello["type"] == "hello" and hello["user"] == user
                assert hello["server_time"].endswith(("Z", "+00:00")), hello
                assert queue == {"type": "queue", "waiting": 0}

            # Presence: logging in and pausing through the REST API come back as operator_changed.
            await service.operators.login("op1")
            await collect(mine, has({"type": "operator_changed", "username": "op1"}))
            async with http.post(
                "/api/operators/op1/pause", json={"reason": "break"}, headers=browser_headers(service, cookies["op1"])
            ) as response:
                assert response.status == 200
            await collect(mine, has({"type": "operator_changed", "username": "op1"}))
            await service.operators.resume("op1")

            # A bad frame gets an error frame; the stream stays open.
            await mine.send_str('{"type": "subscribe", "call_id": 1}')
            await collect(mine, lambda frames: any(f["type"] == "error" and f["id"] == "bad_message" for f in frames))

            number = unique_mobile_number()
            caller = asyncio.create_task(
                run_sipp(
                    "caller.xml",
                    source=TRUNK_ADDRESSES["telkomsel"],
                    keys={"caller": number, "caller_name": "Caller"},
                    hold_ms=3000,
                    timeout_s=30,
                )
            )
            frames = await collect(
                mine,
                lambda fs: any(f["type"] == "card" and f["reason"] == "answered" for f in fs),
            )
            cards = [f for f in frames if f["type"] == "card"]
            assert [c["reason"] for c in cards] == ["ringing", "answered"], frames
            call_id = cards[0]["call_id"]
            assert {"type": "queue", "waiting": 1} in frames, frames

            # op2 watches the call; the caller hangs up: both hear of the call's changes.
            await other.send_str(f'{{"type": "watch", "call_id": "{call_id}"}}')
            result = await caller
            assert result.succeeded, result.output
            await collect(mine, has({"type": "call_changed", "call_id": call_id}))
            await collect(other, has({"type": "call_changed", "call_id": call_id}))
            await service.journal.flushed()
            [call] = await calls_from(service, "+62" + number[1:])
            assert str(call.id) == call_id and call.operator == "op1"

            # op2 was never rung: no card, and nothing of op1's presence (op2 is no supervisor).
            await other.send_str(f'{{"type": "unwatch", "call_id": "{call_id}"}}')
            await other.send_str("not json")
            rest = await collect(other, lambda fs: any(f["type"] == "error" for f in fs))
            assert not [f for f in rest if f["type"] in ("card", "operator_changed")], rest


async def test_a_supervisor_hears_of_every_operator(stream_service: Service, http: aiohttp.ClientSession) -> None:
    service = stream_service
    await add_operator(service, "op1")
    token = await user_token(service, "sup1", "supervisor")
    async with http.ws_connect("/api/stream", headers={"Authorization": f"Bearer {token}"}) as socket:
        await collect(socket, lambda fs: [f["type"] for f in fs] == ["hello", "queue"])
        await service.operators.login("op1")
        await collect(socket, has({"type": "operator_changed", "username": "op1"}))
        admin = await user_token(service, "adm1", "admin")
        async with http.post(
            "/api/operators", json={"username": "op3", "name": "Ani"}, headers={"Authorization": f"Bearer {admin}"}
        ) as response:
            assert response.status == 201
        await collect(socket, has({"type": "operator_changed", "username": "op3"}))


async def test_a_stream_that_falls_behind_is_told_to_resync_and_closed_with_4409(
    stream_service: Service, http: aiohttp.ClientSession
) -> None:
    token = await user_token(stream_service, "sup1", "supervisor")
    async with http.ws_connect("/api/stream", headers={"Authorization": f"Bearer {token}"}) as socket:
        await collect(socket, lambda fs: len(fs) == 2)
        # More events at once than a connection's queue holds (the stream cannot run between these calls).
        for count in range(DEFAULT_QUEUE_SIZE + 1):
            stream_service.hub.publish(QueueWaiting(count))
        assert (await socket.receive(timeout=5)).json() == {"type": "resync"}
        closing = await socket.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and socket.close_code == 4409


def upgrade_headers() -> dict[str, str]:
    return {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    }


async def test_refused_before_the_upgrade(stream_service: Service, http: aiohttp.ClientSession) -> None:
    service = stream_service
    await add_operator(service, "op1")
    cookie = await sign_in(http, "op1")
    token = await user_token(service, "sup1", "supervisor")
    cases = {
        "anonymous": ({}, 401, "unauthorized"),
        "foreign origin": (browser_headers(service, cookie) | {"Origin": "https://evil.example"}, 403, "bad_origin"),
        "no origin": ({"Cookie": f"ntpd112_session={cookie}"}, 403, "bad_origin"),
        "bad token": ({"Authorization": "Bearer ntpd112_" + "x" * 43}, 401, "unauthorized"),
    }
    for case, (headers, status, error_id) in cases.items():
        async with http.get("/api/stream", headers=upgrade_headers() | headers) as response:
            assert response.status == status, case
            assert (await response.json())["error"]["id"] == error_id, case
            assert "Sec-WebSocket-Accept" not in response.headers, case
    # A plain GET (no handshake) is refused as such; a token needs no Origin (no browser sends it by itself).
    async with http.get("/api/stream", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["id"] == "websocket_required"
    async with http.ws_connect("/api/stream", headers={"Authorization": f"Bearer {token}"}) as socket:
        assert (await socket.receive(timeout=5)).json()["type"] == "hello"


async def test_signing_out_closes_the_stream_with_4401(stream_service: Service, http: aiohttp.ClientSession) -> None:
    service = stream_service
    await add_operator(service, "op1")
    cookie = await sign_in(http, "op1")
    async with http.ws_connect("/api/stream", headers=browser_headers(service, cookie)) as socket:
        await collect(socket, lambda fs: len(fs) == 2)
        async with http.delete("/api/session", headers=browser_headers(service, cookie)) as response:
            assert response.status == 204
        closing = await socket.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE, closing
        assert socket.close_code == 4401
