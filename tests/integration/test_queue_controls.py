"""The supervisors' queue controls over HTTP against the real Asterisk (app_queue), PostgreSQL and service, with SIPp
callers on the trunks and SIPp phones for the operators and the supervisor: force pause and logout, raising a
waiting call's priority, pulling a waiting call to a phone (answered there; or not, and back to its place)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.calls import handler as call_handler
from ntpd112.clock import utcnow
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.devtools.sipp import SippResult
from ntpd112.pbx.ami_actions import QueueCaller, QueueCallers
from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.queue.operators import NewOperator, interface
from ntpd112.reports.wallboard import OperatorState
from ntpd112.room.priority import PriorityReason
from ntpd112.store.models import AuditEntry, Call
from ntpd112.web.common import DEPS
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    calls_from,
    recorded_seconds,
    room_global,
    timeline,
    unique_mobile_number,
    user_token,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.test_queue import add_phone, room

__all__ = ["room"]  # test_queue's room (empty queue, no operators left over), used as a fixture here


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


class Caller:
    """A SIPp caller on one trunk, running in the background for `hold_ms` after Asterisk answers it. Callers that
    share a number must call over different trunks (their calls are told apart by trunk)."""

    def __init__(self, service: Service, trunk: str, hold_ms: int, number: str | None = None) -> None:
        self.service = service
        self.trunk = trunk
        number = number or unique_mobile_number()
        self.e164 = "+62" + number[1:]
        self.result: asyncio.Task[SippResult] = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES[trunk],
                keys={"caller": number, "caller_name": "C"},
                hold_ms=hold_ms,
                timeout_s=90,
            )
        )

    async def calls(self) -> list[Call]:
        return [call for call in await calls_from(self.service, self.e164) if call.trunk == self.trunk]

    async def call(self) -> Call:
        await self.service.journal.flushed()
        [call] = await self.calls()
        return call

    async def waiting(self) -> QueueCaller:
        """app_queue's entry of this call, once the call waits in the queue."""
        found: list[QueueCaller] = []

        async def queued() -> bool:
            await self.service.journal.flushed()
            calls = await self.calls()
            entry = calls and (await queue_callers(self.service)).get(calls[0].uniqueid)
            if entry:
                found.append(entry)
            return bool(entry)

        await wait_until(queued, timeout=20)
        return found[-1]

    async def answered_by(self, operator: str, timeout: float = 30) -> Call:
        async def answered() -> bool:
            await self.service.journal.flushed()
            calls = await self.calls()
            return bool(calls) and calls[0].operator_answered_at is not None

        await wait_until(answered, timeout=timeout)
        call = await self.call()
        assert call.operator == operator
        return call

    async def finished(self) -> Call:
        result = await self.result
        assert result.succeeded, result.output  # the caller was never cut off
        await wait_until(lambda: not self.service.calls.active)

        async def recorded() -> bool:
            return (await self.call()).ended_at is not None

        await wait_until(recorded, timeout=10)
        return await self.call()


async def queue_callers(service: Service) -> dict[str, QueueCaller]:
    return await service.ami.send(QueueCallers(QUEUE_NAME))


async def post(
    http: aiohttp.ClientSession, token: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    async with http.post(path, json=body or {}, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def audit_of(service: Service, action: str) -> list[tuple[str | None, int, str, str | None]]:
    async with service.database.session() as session:
        rows = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        ).all()
    return [(row.username, row.status, row.outcome, row.target) for row in rows]


def event_data(events: list[Any], kind: str) -> list[dict[str, Any]]:
    return [event.data for event in events if event.type == kind]


async def test_force_pause_and_logout_reach_app_queue_and_the_wallboard(
    room: Service, http: aiohttp.ClientSession
) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(phone):
        await add_phone(room, "op1", phone)
        await room.operators.login("op1")
        chief = await user_token(room, "chief", "supervisor")
        operator = await user_token(room, "op1", "operator")
        caller = Caller(room, "telkomsel", hold_ms=6000)
        await caller.answered_by("op1")
        # On a call: the operator's own pause is refused, a supervisor's forced pause is not.
        status, body = await post(http, operator, "/api/operators/op1/pause", {"reason": "break"})
        assert (status, body["error"]["id"]) == (409, "operator_on_call")
        status, body = await post(http, operator, "/api/queue/operators/op1/force-pause", {"reason": "break"})
        assert (status, body["error"]["id"]) == (403, "forbidden")
        status, body = await post(http, chief, "/api/queue/operators/op1/force-pause", {"reason": "training"})
        assert status == 200, body
        assert (body["paused"], body["pause_reason"]) == (True, "training")
        member = (await room.operators.queue_members())[interface("op1")]
        assert member.paused and member.in_call  # paused in app_queue; the call goes on
        status, body = await post(http, chief, "/api/queue/operators/op1/force-pause", {"reason": "meal"})
        assert (status, body["error"]["id"]) == (409, "already_paused")
        status, body = await post(http, chief, "/api/queue/operators/op1/force-pause", {"reason": "nap"})
        assert (status, body["error"]["id"]) == (400, "invalid_request")
        status, body = await post(http, chief, "/api/queue/operators/nobody/force-pause", {"reason": "meal"})
        assert (status, body["error"]["id"]) == (404, "operator_not_found")
        call = await caller.finished()
        assert call.operator == "op1" and call.talk_seconds is not None

        board = await room.web_app[DEPS].wallboard.snapshot(utcnow(), None)
        [row] = [o for o in board.operators if o.username == "op1"]
        assert (row.state, row.pause_reason) == (OperatorState.PAUSED, "training")

        status, body = await post(http, chief, "/api/queue/operators/op1/force-logout")
        assert status == 200, body
        assert not body["logged_in"]
        assert interface("op1") not in await room.operators.queue_members()
        board = await room.web_app[DEPS].wallboard.snapshot(utcnow(), None)
        [row] = [o for o in board.operators if o.username == "op1"]
        assert row.state is OperatorState.LOGGED_OUT
        status, body = await post(http, chief, "/api/queue/operators/op1/force-logout")
        assert (status, body["error"]["id"]) == (409, "not_logged_in")

    pauses = await audit_of(room, "POST /api/queue/operators/{username}/force-pause")
    assert pauses == [
        ("op1", 403, "forbidden", "/api/queue/operators/op1/force-pause"),
        ("chief", 200, "ok", "/api/queue/operators/op1/force-pause"),
        ("chief", 409, "already_paused", "/api/queue/operators/op1/force-pause"),
        ("chief", 400, "invalid_request", "/api/queue/operators/op1/force-pause"),
        ("chief", 404, "operator_not_found", "/api/queue/operators/nobody/force-pause"),
    ]
    logouts = await audit_of(room, "POST /api/queue/operators/{username}/force-logout")
    assert [(user, status, outcome) for user, status, outcome, _ in logouts] == [
        ("chief", 200, "ok"),
        ("chief", 409, "not_logged_in"),
    ]


async def test_intake_queues_a_caller_with_their_priority_and_late_lookups_move_them(
    room: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The priority rides on intake's `continue` (the dialplan's p<priority> extension sets QUEUE_PRIO); when the
    lookups are later than their head start, the caller joins with the base priority and AMI moves them."""
    phone = SippAgent("operator.xml", "127.0.0.31")
    number = unique_mobile_number()
    async with running(phone):
        await add_phone(room, "op1", phone)
        await room.operators.login("op1")
        talking = Caller(room, "telkomsel", hold_ms=9000)  # op1 is busy: the next callers wait
        await talking.answered_by("op1")
        await Caller(room, "indosat", hold_ms=500, number=number).finished()  # the number's first call today

        monkeypatch.setattr(call_handler, "LOOKUP_HEAD_START_SECONDS", 5.0)  # the lookups always come in time
        on_time = Caller(room, "xl", hold_ms=4000, number=number)
        assert (await on_time.waiting()).priority == 15  # a repeat caller
        on_time_call = await on_time.call()

        monkeypatch.setattr(call_handler, "LOOKUP_HEAD_START_SECONDS", 0.0)  # the caller never waits for them
        late = Caller(room, "smartfren", hold_ms=4000, number=number)
        await late.waiting()
        late_call = await late.call()

        async def moved_up() -> bool:
            entry = (await queue_callers(room)).get(late_call.uniqueid)
            return entry is not None and entry.priority == 15

        await wait_until(moved_up, timeout=10)
        for caller in (on_time, late, talking):
            await caller.finished()

    on_time_events = await timeline(room, on_time_call.id)
    assert [data["priority"] for data in event_data(on_time_events, "prioritised")] == [15]
    assert event_data(on_time_events, "priority_reviewed") == []
    late_events = await timeline(room, late_call.id)
    assert event_data(late_events, "prioritised") == [
        {"priority": 10, "has_location": False, "history": None, "lookups": "late"}
    ]
    [reviewed] = event_data(late_events, "priority_reviewed")
    assert (reviewed["from"], reviewed["priority"], reviewed["history"]["calls_24h"]) == (10, 15, 2)
    # Moved in the queue, or (joined after the change) given it by QUEUE_PRIO at the join.
    assert reviewed["applied"] in ("queue", "next_join")
    assert (await late.call()).queue_priority == 15


async def test_a_raised_call_is_answered_before_an_earlier_one(room: Service, http: aiohttp.ClientSession) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    async with running(phone):
        await add_phone(room, "op1", phone)
        await room.operators.login("op1")
        chief = await user_token(room, "chief", "supervisor")
        # op1 talks to the first caller while the two others wait; the later one is raised.
        talking = Caller(room, "telkomsel", hold_ms=8000)
        await talking.answered_by("op1")
        earlier = Caller(room, "indosat", hold_ms=22000)
        first_entry = await earlier.waiting()
        later = Caller(room, "xl", hold_ms=12000)
        later_entry = await later.waiting()
        assert (first_entry.position, later_entry.position) == (1, 2)
        assert first_entry.priority == later_entry.priority == 10
        later_call = await later.call()

        status, body = await post(http, chief, f"/api/queue/calls/{later_call.id}/priority")
        assert status == 200, body
        assert (body["priority_before"], body["priority"], body["position_before"], body["position"]) == (10, 11, 2, 1)
        callers = await queue_callers(room)
        assert (callers[later_call.uniqueid].position, callers[later_call.uniqueid].priority) == (1, 11)
        assert callers[(await earlier.call()).uniqueid].position == 2
        board = await room.web_app[DEPS].wallboard.snapshot(utcnow(), None)
        shown = {w.call_id: (w.priority, w.priority_reasons) for w in board.waiting}
        assert shown[later_call.id] == (11, [PriorityReason.SUPERVISOR])
        assert shown[(await earlier.call()).id] == (10, [])

        # Refusals: already first, not higher, an answered call, no such call, an operator.
        status, body = await post(http, chief, f"/api/queue/calls/{later_call.id}/priority")
        assert (status, body["error"]["id"]) == (409, "already_first")
        status, body = await post(http, chief, f"/api/queue/calls/{later_call.id}/priority", {"priority": 11})
        assert (status, body["error"]["id"]) == (409, "not_higher")
        status, body = await post(http, chief, f"/api/queue/calls/{later_call.id}/priority", {"priority": 1001})
        assert (status, body["error"]["id"]) == (400, "invalid_request")
        status, body = await post(http, chief, f"/api/queue/calls/{(await talking.call()).id}/priority")
        assert (status, body["error"]["id"]) == (409, "call_not_waiting")
        status, body = await post(http, chief, f"/api/queue/calls/{uuid.uuid4()}/priority")
        assert (status, body["error"]["id"]) == (404, "call_not_found")
        operator = await user_token(room, "op1", "operator")
        status, body = await post(http, operator, f"/api/queue/calls/{later_call.id}/priority")
        assert (status, body["error"]["id"]) == (403, "forbidden")

        later_answered = await later.answered_by("op1", timeout=30)
        earlier_answered = await earlier.answered_by("op1", timeout=30)
        for caller in (talking, later, earlier):
            await caller.finished()

    assert later_answered.operator_answered_at is not None and earlier_answered.operator_answered_at is not None
    assert later_answered.operator_answered_at < earlier_answered.operator_answered_at
    assert later_answered.queue_priority == 11
    events = await timeline(room, later_call.id)
    assert event_data(events, "priority_raised") == [{"by": "chief", "from": 10, "to": 11, "position_before": 2}]
    raises = await audit_of(room, "POST /api/queue/calls/{call_id}/priority")
    assert [(user, status, outcome) for user, status, outcome, _ in raises] == [
        ("chief", 200, "ok"),
        ("chief", 409, "already_first"),
        ("chief", 409, "not_higher"),
        ("chief", 400, "invalid_request"),
        ("chief", 409, "call_not_waiting"),
        ("chief", 404, "call_not_found"),
        ("op1", 403, "forbidden"),
    ]


async def test_a_call_pulled_to_the_supervisor_rings_their_phone_and_is_answered_there(
    room: Service, http: aiohttp.ClientSession, local_asterisk: LocalAsterisk
) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    supervisor_phone = SippAgent("operator.xml", "127.0.0.41")
    async with running(phone, supervisor_phone):
        await add_phone(room, "op1", phone)
        await add_phone(room, "chief", supervisor_phone, role="supervisor")
        # An operator whose phone has no contact: it cannot ring.
        await room.operators.add(NewOperator(username="nophone", name="No Phone"))
        await room.operators.login("op1")
        chief = await user_token(room, "chief", "supervisor")
        talking = Caller(room, "telkomsel", hold_ms=9000)
        await talking.answered_by("op1")
        waiting = Caller(room, "indosat", hold_ms=8000)
        await waiting.waiting()
        call = await waiting.call()
        pull = f"/api/queue/calls/{call.id}/pull"

        for to, expected in (
            ("op1", (409, "operator_busy")),
            ("nophone", (409, "phone_unreachable")),
            ("nobody", (404, "operator_not_found")),
            ("bad name!", (400, "invalid_request")),
        ):
            status, body = await post(http, chief, pull, {"to": to})
            assert (status, body["error"]["id"]) == expected, to
        status, body = await post(http, chief, f"/api/queue/calls/{(await talking.call()).id}/pull", {"to": "chief"})
        assert (status, body["error"]["id"]) == (409, "call_not_waiting")
        operator = await user_token(room, "op1", "operator")
        status, body = await post(http, operator, pull, {"to": "op1"})
        assert (status, body["error"]["id"]) == (403, "forbidden")
        assert call.uniqueid in await queue_callers(room)  # nothing refused moved the call

        status, body = await post(http, chief, pull, {"to": "chief"})
        assert status == 202, body
        assert (body["to"], body["priority"], body["position"]) == ("chief", 10, 1)
        answered = await waiting.answered_by("chief", timeout=10)
        assert call.uniqueid not in await queue_callers(room)

        # The chief is out of the queue (never logged in), yet on the pulled call: the wallboard shows them on it,
        # with the caller, not "Di luar antrean".
        async def chief_on_the_call() -> bool:
            board = await room.web_app[DEPS].wallboard.snapshot(utcnow(), None)
            [row] = [o for o in board.operators if o.username == "chief"]
            return row.state is OperatorState.ON_CALL and row.call is not None and row.call.call_id == call.id

        await wait_until(chief_on_the_call, timeout=5)
        board = await room.web_app[DEPS].wallboard.snapshot(utcnow(), None)
        [row] = [o for o in board.operators if o.username == "chief"]
        assert row.call is not None and row.call.caller_number == call.caller_number
        assert row.since == answered.operator_answered_at
        ended = await waiting.finished()
        await talking.finished()

    assert answered.operator_answered_at is not None
    assert ended.talk_seconds is not None and ended.talk_seconds > 0
    # No operator's answer started the recording (app_queue starts it then): the pull did, before ringing the chief.
    await recorded_seconds(local_asterisk, ended, at_least=1)
    events = await timeline(room, call.id)
    types = [event.type for event in events]
    assert ended.abandoned_at is None
    assert types.index("pull_requested") < types.index("operator_answered") < types.index("operator_call_completed")
    # Taken out of the queue by the pull, not abandoned: not on the callback list.
    assert "abandoned" not in types and ended.callback_status is None
    assert event_data(events, "queue_left") == [{"reason": "pulled", "position": "1"}]
    assert event_data(events, "pull_requested") == [{"by": "chief", "to": "chief", "priority": 10, "position": 1}]
    assert event_data(events, "operator_answered") == [{"operator": "chief", "pulled": True}]
    pulls = await audit_of(room, "POST /api/queue/calls/{call_id}/pull")
    assert [(user, status, outcome) for user, status, outcome, _ in pulls] == [
        ("chief", 409, "operator_busy"),
        ("chief", 409, "phone_unreachable"),
        ("chief", 404, "operator_not_found"),
        ("chief", 400, "invalid_request"),
        ("chief", 409, "call_not_waiting"),
        ("op1", 403, "forbidden"),
        ("chief", 202, "ok"),
    ]


async def test_a_pull_nobody_answers_puts_the_call_back_in_its_place(
    room: Service, http: aiohttp.ClientSession, local_asterisk: LocalAsterisk
) -> None:
    phone = SippAgent("operator.xml", "127.0.0.31")
    away = SippAgent("operator-noanswer.xml", "127.0.0.32")
    async with room_global(local_asterisk, "NTPD112_PULL_RING", 3), running(phone, away):
        await add_phone(room, "op1", phone)
        await add_phone(room, "op2", away)
        await room.operators.login("op1")
        chief = await user_token(room, "chief", "supervisor")
        talking = Caller(room, "telkomsel", hold_ms=11000)
        await talking.answered_by("op1")
        pulled = Caller(room, "indosat", hold_ms=20000)
        await pulled.waiting()
        behind = Caller(room, "xl", hold_ms=6000)
        await behind.waiting()
        call = await pulled.call()

        status, body = await post(http, chief, f"/api/queue/calls/{call.id}/pull", {"to": "op2"})
        assert status == 202, body
        # While op2's phone rings the caller is out of the queue; the one behind moves up. The pull answers 202
        # before Asterisk has run the redirect, so the queue is read until the caller has left it (op2 rings 3 s).
        callers: dict[str, QueueCaller] = {}

        async def left_the_queue() -> bool:
            callers.clear()
            callers.update(await queue_callers(room))
            return call.uniqueid not in callers

        await wait_until(left_the_queue, timeout=3)
        assert callers[(await behind.call()).uniqueid].position == 1

        back = await pulled.waiting()  # nobody answered in 3 s: back where it was
        assert (back.position, back.priority) == (1, 10)
        assert (await queue_callers(room))[(await behind.call()).uniqueid].position == 2
        answered = await pulled.answered_by("op1", timeout=30)
        ended = await pulled.finished()
        await talking.finished()
        await behind.result

    assert answered.operator == "op1" and ended.abandoned_at is None
    # The recording the pull started (nobody answered: nothing in it) stopped when the caller went back to the queue,
    # and op1's answer appended the talk to the same file.
    await recorded_seconds(local_asterisk, ended, at_least=1)
    events = await timeline(room, call.id)
    assert event_data(events, "pull_returned") == [{"operator": "op2", "dial_status": "NOANSWER"}]
    types = [event.type for event in events]
    assert types.index("pull_requested") < types.index("pull_returned") < types.index("operator_answered")
    assert types.count("queue_joined") == 2
    assert "abandoned" not in types and ended.callback_status is None
