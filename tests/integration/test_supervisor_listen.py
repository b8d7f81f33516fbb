"""A supervisor listens to, then barges into, an operator's live call on their own phone: SIPp caller -> trunk ->
queue -> operator's phone (SIPp UAS); the supervisor's phone (another SIPp UAS) is rung by the service and answers
into ChanSpy on the operator's channel. Real Asterisk, real service, the HTTP API with personal tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.pbx.ami_actions import ChannelInfo, CoreShowChannels
from ntpd112.queue.spy import LISTEN_ID_PREFIX, SpyService
from ntpd112.store.models import AuditEntry
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import user_token, wait_until
from tests.integration.test_queue import add_phone, call_and_wait, not_, room
from tests.integration.test_queue_controls import Caller, post

__all__ = ["room"]  # the queue tests' fixture: an empty queue, no operators left over

SPY_ROUTE = "POST /api/supervisor/operators/{username}/spy/{mode}"


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


async def channels(service: Service) -> list[ChannelInfo]:
    return await service.ami.send(CoreShowChannels())


async def spy_channel(service: Service, supervisor: str) -> ChannelInfo | None:
    return next((c for c in await channels(service) if c.endpoint == supervisor and c.application == "ChanSpy"), None)


async def operator_on_call(service: Service, operator: str) -> ChannelInfo | None:
    return next((c for c in await channels(service) if c.endpoint == operator and c.bridge_id), None)


async def hung_up(service: Service, endpoint: str) -> bool:
    return not any(c.endpoint == endpoint for c in await channels(service))


async def listening(service: Service, supervisor: str, mode: str) -> bool:
    """ChanSpy has attached in `mode` (its ChanSpyStart came): not only started in the dialplan."""
    view = await service.spy.current(supervisor)
    return view is not None and (view.state, view.mode) == ("listening", mode)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def phones(room: Service) -> AsyncIterator[tuple[SippAgent, SippAgent]]:
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    supervisor_phone = SippAgent("operator.xml", "127.0.0.41")
    async with running(operator_phone, supervisor_phone):
        await add_phone(room, "op1", operator_phone)
        await add_phone(room, "sup1", supervisor_phone, role="supervisor")
        await room.operators.login("op1")
        yield operator_phone, supervisor_phone


async def test_a_supervisor_listens_then_barges_then_stops_and_every_control_is_audited(
    room: Service, phones: tuple[SippAgent, SippAgent], http: aiohttp.ClientSession
) -> None:
    supervisor = bearer(await user_token(room, "sup1", "supervisor"))
    operator = bearer(await user_token(room, "op1", "operator"))

    # Refusals before any call: an operator may not listen, nobody listens to an unknown operator or to one not on
    # a call, and a supervisor with nothing going on has nothing to stop.
    async with http.post("/api/supervisor/operators/sup1/spy/listen", headers=operator) as response:
        assert response.status == 403
    async with http.post("/api/supervisor/operators/nobody/spy/listen", headers=supervisor) as response:
        assert (response.status, (await response.json())["error"]["id"]) == (404, "operator_not_found")
    async with http.post("/api/supervisor/operators/op1/spy/listen", headers=supervisor) as response:
        assert (response.status, (await response.json())["error"]["id"]) == (409, "operator_not_on_call")
    async with http.post("/api/supervisor/operators/op1/spy/shout", headers=supervisor) as response:
        assert response.status == 400
    async with http.delete("/api/supervisor/spy", headers=supervisor) as response:
        assert (response.status, (await response.json())["error"]["id"]) == (409, "not_listening")

    call = asyncio.create_task(call_and_wait(room, "telkomsel", hold_ms=25_000))
    try:
        await wait_until(lambda: operator_on_call(room, "op1"), timeout=30)
        operator_channel = await operator_on_call(room, "op1")
        assert operator_channel is not None

        async with http.post("/api/supervisor/operators/op1/spy/listen", headers=supervisor) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["state"] in ("ringing", "listening")

        await wait_until(lambda: listening(room, "sup1", "listen"), timeout=10)
        spying = await spy_channel(room, "sup1")
        assert spying is not None
        # ChanSpy on the operator's channel itself (its full name), quiet, ends with the call; no option d (keys
        # 4/5/6 would change the mode behind the service's back). The channel's uniqueid is the service's own.
        assert spying.application_data == f"{operator_channel.name},qES"
        assert spying.uniqueid.startswith(LISTEN_ID_PREFIX)
        # ... and that channel is the one bridged with the caller's trunk channel.
        bridged = [c for c in await channels(room) if c.bridge_id == operator_channel.bridge_id]
        assert {c.endpoint for c in bridged} == {"op1", "trunk-telkomsel"}
        async with http.get("/api/supervisor/spy", headers=supervisor) as response:
            status = await response.json()
            assert (status["listening"]["operator"], status["listening"]["mode"]) == ("op1", "listen")
            assert status["listening"]["state"] == "listening"

        # Barge: the same answered channel, redirected into ChanSpy with B; the phone is not rung again.
        async with http.post("/api/supervisor/operators/op1/spy/barge", headers=supervisor) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["mode"] == "barge"

        async def barging() -> bool:
            now = await spy_channel(room, "sup1")
            return now is not None and now.application_data.endswith(",qESB")

        await wait_until(barging, timeout=10)
        await wait_until(lambda: listening(room, "sup1", "barge"), timeout=10)
        await asyncio.sleep(1.5)  # barging for a while: the stop must reach a ChanSpy that is well under way
        barged = await spy_channel(room, "sup1")
        assert barged is not None and barged.name == spying.name

        # A restarted service (nothing in memory) reads the same listen from Asterisk: whom, how, since when.
        restarted = await SpyService(room.database, room.ami, room.hub).current("sup1")
        assert restarted is not None
        assert (restarted.operator, restarted.mode, restarted.state) == ("op1", "barge", "listening")
        assert 0 <= (utcnow() - restarted.since).total_seconds() < 10

        async with http.delete("/api/supervisor/spy", headers=supervisor) as response:
            assert response.status == 204
        await wait_until(lambda: hung_up(room, "sup1"), timeout=10)
        async with http.get("/api/supervisor/spy", headers=supervisor) as response:
            assert (await response.json())["listening"] is None

        # Whisper this time, and let the caller hang up: ChanSpy ends with the operator's call (option E).
        async with http.post("/api/supervisor/operators/op1/spy/whisper", headers=supervisor) as response:
            assert response.status == 200, await response.text()

        async def whispering() -> bool:
            now = await spy_channel(room, "sup1")
            return now is not None and now.application_data.endswith(",qESw")

        await wait_until(whispering, timeout=10)
        await wait_until(lambda: listening(room, "sup1", "whisper"), timeout=10)
        assert (await call).operator == "op1"
    finally:
        call.cancel()
    await wait_until(lambda: hung_up(room, "sup1"), timeout=10)
    async with http.get("/api/supervisor/spy", headers=supervisor) as response:
        assert (await response.json())["listening"] is None

    assert await _audit(room, SPY_ROUTE) == [
        ("op1", "/api/supervisor/operators/sup1/spy/listen", 403, "forbidden"),
        ("sup1", "/api/supervisor/operators/nobody/spy/listen", 404, "operator_not_found"),
        ("sup1", "/api/supervisor/operators/op1/spy/listen", 409, "operator_not_on_call"),
        ("sup1", "/api/supervisor/operators/op1/spy/shout", 400, "invalid_mode"),
        ("sup1", "/api/supervisor/operators/op1/spy/listen", 200, "ok"),
        ("sup1", "/api/supervisor/operators/op1/spy/barge", 200, "ok"),
        ("sup1", "/api/supervisor/operators/op1/spy/whisper", 200, "ok"),
    ]
    assert await _audit(room, "DELETE /api/supervisor/spy") == [
        ("sup1", "/api/supervisor/spy", 409, "not_listening"),
        ("sup1", "/api/supervisor/spy", 204, "ok"),
    ]


async def _audit(service: Service, action: str) -> list[tuple[str | None, str | None, int, str]]:
    async with service.database.session() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(row.username, row.target, row.status, row.outcome) for row in rows]


async def test_a_supervisor_without_a_phone_is_told_so(room: Service, http: aiohttp.ClientSession) -> None:
    token = bearer(await user_token(room, "sup9", "supervisor"))
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(operator_phone):
        await add_phone(room, "op1", operator_phone)
        async with http.post("/api/supervisor/operators/op1/spy/listen", headers=token) as response:
            assert (response.status, (await response.json())["error"]["id"]) == (409, "no_supervisor_phone")
        async with http.post("/api/supervisor/operators/sup9/spy/listen", headers=token) as response:
            assert (response.status, (await response.json())["error"]["id"]) == (409, "spy_on_self")


async def test_a_listen_still_ringing_can_be_called_off(room: Service, http: aiohttp.ClientSession) -> None:
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    away = SippAgent("operator-noanswer.xml", "127.0.0.41")  # the supervisor is not at their desk
    async with running(operator_phone, away):
        await add_phone(room, "op1", operator_phone)
        await add_phone(room, "sup1", away, role="supervisor")
        await room.operators.login("op1")
        supervisor = bearer(await user_token(room, "sup1", "supervisor"))
        call = asyncio.create_task(call_and_wait(room, "telkomsel", hold_ms=15_000))
        try:
            await wait_until(lambda: operator_on_call(room, "op1"), timeout=30)
            async with http.post("/api/supervisor/operators/op1/spy/listen", headers=supervisor) as response:
                assert (response.status, (await response.json())["state"]) == (200, "ringing")
            async with http.post("/api/supervisor/operators/op1/spy/barge", headers=supervisor) as response:
                assert (response.status, (await response.json())["error"]["id"]) == (409, "spy_phone_ringing")
            await wait_until(lambda: not_(hung_up(room, "sup1")), timeout=10)
            # The service restarts while the phone rings: the new one still sees the listen, and calls it off.
            restarted = SpyService(room.database, room.ami, room.hub)
            view = await restarted.current("sup1")
            assert view is not None and (view.operator, view.mode, view.state) == ("op1", "listen", "ringing")
            await restarted.stop("sup1")
            await wait_until(lambda: hung_up(room, "sup1"), timeout=10)
            async with http.get("/api/supervisor/spy", headers=supervisor) as response:
                assert (await response.json())["listening"] is None
            async with http.delete("/api/supervisor/spy", headers=supervisor) as response:
                assert (response.status, (await response.json())["error"]["id"]) == (409, "not_listening")
            # The operator's call went on untouched, to its end (left up, it would outlive op1's phone and leave
            # op1's device state INVALID for the next test).
            assert await operator_on_call(room, "op1") is not None
            assert (await call).operator == "op1"
        finally:
            call.cancel()


async def test_stopping_a_ringing_listen_hangs_up_only_the_listen_not_another_call_ringing_that_phone(
    room: Service, http: aiohttp.ClientSession
) -> None:
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    away = SippAgent("operator-noanswer.xml", "127.0.0.41")  # rings for every call, answers none
    async with running(operator_phone, away):
        await add_phone(room, "op1", operator_phone)
        await add_phone(room, "sup1", away, role="supervisor")
        await room.operators.login("op1")
        token = await user_token(room, "sup1", "supervisor")
        talking = Caller(room, "telkomsel", hold_ms=15_000)
        await talking.answered_by("op1")
        waiting = Caller(room, "indosat", hold_ms=15_000)
        await waiting.waiting()

        # A call rings the supervisor's phone (pulled to it), then a listen rings it too.
        status, body = await post(http, token, f"/api/queue/calls/{(await waiting.call()).id}/pull", {"to": "sup1"})
        assert status == 202, body
        await wait_until(lambda: not_(hung_up(room, "sup1")), timeout=10)
        [pulled] = [c for c in await channels(room) if c.endpoint == "sup1"]
        async with http.post("/api/supervisor/operators/op1/spy/listen", headers=bearer(token)) as response:
            assert (response.status, (await response.json())["state"]) == (200, "ringing")

        async def ringing_twice() -> bool:
            return len([c for c in await channels(room) if c.endpoint == "sup1"]) == 2

        await wait_until(ringing_twice, timeout=10)
        [listen] = [c for c in await channels(room) if c.endpoint == "sup1" and c.name != pulled.name]
        assert listen.uniqueid.startswith(LISTEN_ID_PREFIX) and listen.state != "Up"

        async with http.delete("/api/supervisor/spy", headers=bearer(token)) as response:
            assert response.status == 204

        async def listen_gone() -> bool:
            return all(c.name != listen.name for c in await channels(room))

        await wait_until(listen_gone, timeout=10)
        await asyncio.sleep(1)  # long enough for a wrong hangup to have reached the other call
        # The pulled call still rings the phone, untouched.
        survivor = next((c for c in await channels(room) if c.name == pulled.name), None)
        assert survivor is not None and survivor.state != "Up"
        assert (await waiting.call()).ended_at is None
