"""Operators and the queue, with SIPp user agents as the operators' phones (static contacts) and callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable

import pytest
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.pbx.ami_actions import QueueAdd, QueuePause, QueueRemove
from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.queue.operators import NewOperator, OperatorError, interface
from ntpd112.store.models import Call
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    calls_from,
    empty_queue,
    recorded_seconds,
    room_global,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Operators, calls and the queue against a running service and empty tables: no test here needs a fresh service.
    return shared_service


@pytest.fixture
async def room(service: Service) -> AsyncIterator[Service]:
    """The service with an empty queue and no operators left over from other tests."""
    await empty_queue(service)
    yield service
    for operator in await service.operators.list():
        await service.operators.remove(operator.username)


async def add_phone(service: Service, username: str, agent: SippAgent, role: str = "operator") -> None:
    await service.operators.add(
        NewOperator(
            username=username,
            name=username.title(),
            role=role,  # type: ignore[arg-type]
            contact=agent.contact,
        )
    )


async def call_and_wait(service: Service, trunk: str, hold_ms: int = 1500) -> Call:
    number = unique_mobile_number()
    result = await run_sipp(
        "caller.xml",
        source=TRUNK_ADDRESSES[trunk],
        keys={"caller": number, "caller_name": "C"},
        hold_ms=hold_ms,
        timeout_s=60,
    )
    assert result.succeeded, result.output
    await wait_until(lambda: not service.calls.active)
    e164 = "+62" + number[1:]

    async def recorded() -> bool:
        # AgentComplete (the talk time) follows the hangup when an operator answered.
        await service.journal.flushed()
        calls = await calls_from(service, e164)
        return len(calls) == 1 and (calls[0].operator is None or calls[0].talk_seconds is not None)

    await wait_until(recorded, timeout=5)
    [call] = await calls_from(service, e164)
    return call


async def test_a_logged_in_operator_answers_and_the_call_record_says_who_and_how_fast(room: Service) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31", hold_ms=400)
    async with running(phone):
        await add_phone(room, "op1", phone)
        await room.operators.login("op1")
        members = await room.operators.queue_members()
        assert members[interface("op1")].paused is False

        # About 1.6 s of talk after intake and the 0.4 s ring: Asterisk's talk time counts whole seconds.
        call = await call_and_wait(room, "telkomsel", hold_ms=2200)

    assert call.operator == "op1"
    assert call.operator_answered_at is not None and call.answered_at is not None
    assert call.operator_answered_at >= call.answered_at
    assert call.wait_seconds is not None and 0 <= call.wait_seconds < 10
    assert call.ring_attempts == 1
    assert call.talk_seconds is not None and call.talk_seconds >= 1
    assert call.recording_path and call.recording_path.endswith(f"{call.uniqueid}.wav")
    assert call.queue_priority == 10
    types = [event.type for event in await timeline(room, call.id)]
    for expected in (
        "offered",
        "answered",
        "prioritised",
        "queued",
        "queue_joined",
        "operator_ringing",
        "operator_answered",
        "operator_call_completed",
        "ended",
    ):
        assert expected in types, types
    assert types.index("queue_joined") < types.index("operator_answered") < types.index("ended")


async def not_(check: Awaitable[bool]) -> bool:
    return not await check


async def test_the_operator_view_says_when_the_phone_is_on_a_call(room: Service) -> None:
    """GET /api/operators (OperatorService.list) reads app_queue's member state: on a call while the caller talks to
    the operator, not on a call any more once the call ended (the console's badge showed "ready" throughout)."""
    phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(phone):
        await add_phone(room, "op1", phone)
        await room.operators.login("op1")
        assert (await room.operators.get("op1")).phone_state != "on_call"
        call = asyncio.create_task(call_and_wait(room, "telkomsel", hold_ms=4000))

        async def on_a_call() -> bool:
            [view] = [view for view in await room.operators.list() if view.username == "op1"]
            return view.phone_state == "on_call"

        try:
            await wait_until(on_a_call, timeout=20)
            assert (await call).operator == "op1"
        finally:
            call.cancel()
        await wait_until(lambda: not_(on_a_call()))
        view = await room.operators.get("op1")
        assert view.logged_in and not view.paused


async def test_a_paused_operator_is_not_rung(room: Service) -> None:
    paused_phone = SippAgent("operator.xml", "127.0.0.31")
    active_phone = SippAgent("operator.xml", "127.0.0.32")
    async with running(paused_phone, active_phone):
        await add_phone(room, "op1", paused_phone)
        await add_phone(room, "op2", active_phone)
        for username in ("op1", "op2"):
            await room.operators.login(username)
        await room.operators.pause("op1", "break")
        assert (await room.operators.queue_members())[interface("op1")].paused is True

        # The second caller holds long enough for op2's wrap-up after the first call (1 s in the tests' room).
        calls = [await call_and_wait(room, "xl", hold_ms=hold) for hold in (1000, 3000)]

    assert [call.operator for call in calls] == ["op2", "op2"]
    for call in calls:
        rung = [e.data["operator"] for e in await timeline(room, call.id) if e.type == "operator_ringing"]
        assert rung == ["op2"]


async def operators_ready(asterisk: LocalAsterisk, count: int) -> bool:
    """Whether `count` members of the queue can be rung now: logged in, not paused, idle and out of wrap-up."""
    output = await asyncio.to_thread(asterisk.cli, f"dialplan eval function QUEUE_MEMBER({QUEUE_NAME},ready)")
    return f"Result: {count}" in output.splitlines()


async def test_longest_idle_operator_gets_the_next_call(room: Service, local_asterisk: LocalAsterisk) -> None:
    phones = [SippAgent("operator.xml", f"127.0.0.3{n}") for n in (1, 2)]
    async with running(*phones):
        for n, phone in enumerate(phones, 1):
            await add_phone(room, f"op{n}", phone)
            await room.operators.login(f"op{n}")
        first = await call_and_wait(room, "indosat", hold_ms=500)
        await wait_until(lambda: operators_ready(local_asterisk, 2))  # past the wrap-up
        second = await call_and_wait(room, "indosat", hold_ms=500)
        await wait_until(lambda: operators_ready(local_asterisk, 2))
        third = await call_and_wait(room, "indosat", hold_ms=500)

    assert {first.operator, second.operator} == {"op1", "op2"}
    assert third.operator == first.operator  # idle longest


async def test_with_no_operator_logged_in_the_supervisors_ring_at_once(room: Service) -> None:
    supervisor_phone = SippAgent("operator.xml", "127.0.0.41")
    async with running(supervisor_phone):
        await add_phone(room, "supervisor1", supervisor_phone, role="supervisor")
        call = await call_and_wait(room, "smartfren", hold_ms=1500)  # the supervisor answers about 0.4 s in

    events = await timeline(room, call.id)
    overflow = [e for e in events if e.type == "overflow"]
    assert overflow and overflow[0].data["queue_status"] == "JOINEMPTY"
    assert call.operator is None
    # The supervisor answered quickly: the overflow came right after intake, not after the overflow wait.
    queued_at = next(e.at for e in events if e.type == "queued")
    assert (overflow[0].at - queued_at).total_seconds() < 5


async def test_overflow_to_supervisors_when_no_operator_answers(room: Service, local_asterisk: LocalAsterisk) -> None:
    away = SippAgent("operator-noanswer.xml", "127.0.0.31")
    supervisor_phone = SippAgent("operator.xml", "127.0.0.41")
    # The admin can shorten the overflow wait live; it is a dialplan global rendered from room.toml.
    async with room_global(local_asterisk, "NTPD112_OVERFLOW_AFTER", 2), running(away, supervisor_phone):
        await add_phone(room, "op1", away)
        await add_phone(room, "supervisor1", supervisor_phone, role="supervisor")
        await room.operators.login("op1")
        # Past the overflow (2 s after intake: op1 rings until then) and the supervisor's answer.
        call = await call_and_wait(room, "telkom", hold_ms=4500)
    types = [e.type for e in await timeline(room, call.id)]
    assert "operator_ringing" in types and "operator_no_answer" in types
    assert "overflow" in types
    assert call.operator is None
    # app_queue reports the caller whose wait ran out as abandoned; they did not hang up: not on the callback list.
    assert "abandoned" not in types and call.callback_status is None and call.abandoned_at is None, types
    assert "queue_left" in types
    # No operator's answer started the recording (app_queue starts it then); the dialplan did, before ringing the
    # supervisors, and it holds the supervisor's talk with the caller, not the wait (about 2 s of 4.5).
    assert call.recording_path is not None and call.recording_path.endswith(f"{call.uniqueid}.wav")
    assert await recorded_seconds(local_asterisk, call, at_least=1) < 4


async def test_session_errors_leave_state_unchanged(room: Service) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(phone):
        await add_phone(room, "op1", phone)
        with pytest.raises(OperatorError) as unknown:
            await room.operators.login("nobody")
        assert unknown.value.error_id == "operator_not_found"
        await room.operators.login("op1")
        with pytest.raises(OperatorError) as twice:
            await room.operators.login("op1")
        assert twice.value.error_id == "already_logged_in"
        with pytest.raises(OperatorError) as resume:
            await room.operators.resume("op1")
        assert resume.value.error_id == "not_paused"
        view = await room.operators.get("op1")
        assert view.logged_in and not view.paused
        assert (await room.operators.queue_members())[interface("op1")].paused is False


async def test_resync_restores_queue_membership_after_asterisk_loses_it(room: Service) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(phone):
        await add_phone(room, "op1", phone)
        await add_phone(room, "op2", phone)
        await room.operators.login("op1")
        await room.operators.login("op2")
        await room.operators.pause("op2", "training")
        # Someone removes op1 and unpauses op2 behind the service's back (or Asterisk lost its state).
        await room.ami.send(QueueRemove(QUEUE_NAME, interface("op1")))
        await room.ami.send(QueuePause(QUEUE_NAME, interface("op2"), paused=False))
        await room.ami.send(QueueAdd(QUEUE_NAME, "PJSIP/stranger", member_name="stranger"))
        await room.operators.resync()
        members = await room.operators.queue_members()
    assert members[interface("op1")].paused is False
    assert members[interface("op2")].paused is True
    assert "PJSIP/stranger" not in members


async def test_abandoned_caller_goes_on_the_callback_list_and_is_called_back(room: Service) -> None:
    away = SippAgent("operator-noanswer.xml", "127.0.0.31")
    async with running(away):
        await add_phone(room, "op1", away)
        await room.operators.login("op1")
        number = unique_mobile_number()
        result = await run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": number, "caller_name": "Dewi Lestari"},
            hold_ms=2000,  # about 1.9 s in the queue: app_queue's hold time counts whole seconds
        )
        assert result.succeeded, result.output
        await wait_until(lambda: not room.calls.active)
        await room.journal.flushed()
    [call] = await calls_from(room, "+62" + number[1:])
    assert call.callback_status == "pending" and call.callback_reason == "abandoned"
    assert call.abandoned_at is not None and call.wait_seconds is not None and call.wait_seconds >= 1
    assert call.id in [item.id for item in await room.callbacks.list()]

    answering = SippAgent("operator.xml", "127.0.0.32")
    citizen = SippAgent("phone-answers-then-hangs-up.xml", TRUNK_ADDRESSES["telkomsel"], hold_ms=1500)
    async with running(answering, citizen):
        await add_phone(room, "op2", answering)
        item = await room.callbacks.take(call.id, "op2")
        assert item.callback_status == "calling"
        with pytest.raises(OperatorError) as again:
            await room.callbacks.take(call.id, "op2")
        assert again.value.error_id == "callback_not_available"

        async def finished() -> bool:
            async with room.database.session() as session:
                status = await session.scalar(select(Call.callback_status).where(Call.id == call.id))
            return status == "done"

        await wait_until(finished, timeout=30)
    await room.journal.flushed()
    async with room.database.session() as session:
        done = await session.get(Call, call.id)
    assert done is not None and done.callback_outcome == "caller_answer" and done.callback_taken_by == "op2"
    types = [e.type for e in await timeline(room, call.id)]
    assert "abandoned" in types and "callback_started" in types and "callback_finished" in types
