"""Dispatch on the live call, end to end: a caller (SIPp) reaches an operator's phone (SIPp UAS) through app_queue,
the operator classifies the call and dispatches it over REST; agency desks and the agency trunk are SIPp UAS that
answer, are busy (486) or never answer. Agency desks listen on 127.0.0.5x, the agency trunk's contact is
127.0.0.20:5070, the operator's phone 127.0.0.31."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.dispatch.desks import NewDesk
from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.pbx.ari import AriError
from ntpd112.queue.operators import NewOperator
from ntpd112.routing.agencies import ExternalNumber, HuntGroup
from ntpd112.routing.defaults import default_table
from ntpd112.routing.tables import ChainStep, OutsideHours, RoutingTable, Rule
from ntpd112.routing.windows import TimeWindow
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.models import Call
from ntpd112.store.tickets import TicketRepository
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    calls_from,
    empty_queue,
    recorded_seconds,
    timeline,
    unique_mobile_number,
    user_token,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, SippResult, run_sipp


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Live calls dispatched against a running service and empty tables (each test publishes its routing table and
    # adds its desks): no test here needs a fresh service.
    return shared_service


DESKS = {"damkar-desk1": "127.0.0.51", "bpbd-desk1": "127.0.0.52", "psc119-desk1": "127.0.0.53"}
OPERATOR_PHONE = "127.0.0.31"
AGENCY_TRUNK = "127.0.0.20"


def routing_table(fire_chain: list[str]) -> RoutingTable:
    """The default table with test desks (one endpoint each, 5-6 s ring) and a non-emergency rule that is closed
    now, whatever the time of the run."""
    base = default_table()
    targets = [
        HuntGroup(id="damkar-desk", agency="damkar", endpoints=["damkar-desk1"], timeout=5),
        HuntGroup(id="bpbd-desk", agency="bpbd", endpoints=["bpbd-desk1"], timeout=6),
        HuntGroup(id="psc119-desk", agency="psc119", endpoints=["psc119-desk1"], timeout=6),
        ExternalNumber(id="damkar-113", agency="damkar", number="113", trunk="agency-trunk", timeout=5),
    ]
    local_now = datetime.now(UTC).astimezone(base.tz)
    closed = TimeWindow(
        days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        start=(local_now + timedelta(hours=6)).strftime("%H:00"),
        end=(local_now + timedelta(hours=7)).strftime("%H:00"),
    )
    rules = [
        Rule(id="fire", categories=["fire"], chain=[ChainStep(target=t) for t in fire_chain]),
        Rule(id="medical", categories=["medical"], chain=[ChainStep(target="psc119-desk")]),
        Rule(
            id="non-emergency",
            categories=["non_emergency"],
            windows=[closed],
            chain=[ChainStep(target="bpbd-desk")],
            outside_hours=OutsideHours(message="Kantor tutup; laporan dicatat.", ticket_agency="bpbd"),
        ),
    ]
    return base.model_copy(
        update={"targets": targets, "rules": rules, "default_chain": [ChainStep(target="bpbd-desk")]}
    )


class Room:
    def __init__(self, service: Service, http: aiohttp.ClientSession, token: str) -> None:
        self.service = service
        self.http = http
        self.token = token
        self.base = f"http://127.0.0.1:{service.settings.http_port}"

    async def post(self, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.http.post(self.base + path, json=body or {}, headers=headers) as response:
            return response.status, await response.json()

    @contextlib.asynccontextmanager
    async def call(self, hold_ms: int = 40000) -> AsyncIterator[tuple[uuid.UUID, asyncio.Task[SippResult]]]:
        """A 112 call answered by the operator; yields its id once caller and operator talk. The caller is hung up
        when the block ends: `hold_ms` only bounds how long the block may take."""
        call_id: uuid.UUID | None = None
        number = unique_mobile_number()
        caller = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["telkomsel"],
                keys={"caller": number, "caller_name": "Warga"},
                hold_ms=hold_ms,
                timeout_s=hold_ms // 1000 + 20,
            )
        )
        try:
            # Found by number: other checkouts may place calls through the same Asterisk meanwhile.
            e164 = "+62" + number[1:]

            async def operator_answered() -> bool:
                await self.service.journal.flushed()
                calls = await calls_from(self.service, e164)
                return bool(calls) and "operator_answered" in await self.types(calls[0].id)

            await wait_until(operator_answered, timeout=20)
            [call] = await calls_from(self.service, e164)
            call_id = call.id
            yield call_id, caller
        finally:
            # Asterisk hangs the caller up (SIPp answers the BYE and ends): the caller leaves as if it had hung up.
            if call_id is not None and (uniqueid := self.service.calls.uniqueid_of(call_id)) is not None:
                with contextlib.suppress(AriError):  # it may have ended on its own just now
                    await self.service.ari.hangup(uniqueid)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(caller, hold_ms / 1000 + 30)
            if call_id is not None:
                ended = call_id
                await wait_until(lambda: self.service.calls.uniqueid_of(ended) is None, timeout=30)
            await self.service.journal.flushed()

    async def types(self, call_id: uuid.UUID) -> list[str]:
        return [e.type for e in await timeline(self.service, call_id)]

    async def wait_for_event(self, call_id: uuid.UUID, event_type: str, count: int = 1, timeout: float = 30) -> None:
        async def seen() -> bool:
            await self.service.journal.flushed()
            return (await self.types(call_id)).count(event_type) >= count

        await wait_until(seen, timeout=timeout)

    async def events(self, call_id: uuid.UUID, event_type: str) -> list[dict[str, Any]]:
        await self.service.journal.flushed()
        return [e.data for e in await timeline(self.service, call_id) if e.type == event_type]

    async def ticket(self, settled_status: str) -> tuple[str, str, str]:
        """The one ticket dispatch made: agency, status, category. Dispatch makes the ticket and then moves it
        (two writes, after the timeline's event), so this waits until it reaches `settled_status`; one that never
        does is returned as it stands, for the caller's assertion to show."""
        tickets = TicketRepository(self.service.database)
        seen: list[tuple[str, str, str]] = []

        async def settled() -> bool:
            seen[:] = [(t.agency, t.status.value, t.category) for t in await tickets.list(None, None, 10)]
            return len(seen) == 1 and seen[0][1] == settled_status

        with contextlib.suppress(AssertionError):
            await wait_until(settled)
        assert len(seen) == 1, seen
        return seen[0]

    async def incident_status(self, call_id: uuid.UUID) -> str | None:
        incident = await IncidentRepository(self.service.database).get(call_id)
        return incident.status if incident else None


@pytest.fixture
async def room(service: Service) -> AsyncIterator[Room]:
    await empty_queue(service)
    await service.routing.publish(routing_table(["damkar-desk", "damkar-113", "bpbd-desk"]), "test")
    for left_over in await service.desks.list():
        await service.desks.remove(left_over.endpoint)
    known = {a.id for a in service.routing.current.table.agencies}
    for endpoint, address in DESKS.items():
        agency = endpoint.removesuffix("-desk1")
        await service.desks.add(
            NewDesk(endpoint=endpoint, agency=agency, name=agency, contact=f"sip:{address}:5070"), known
        )
    await service.operators.add(NewOperator(username="op1", name="Op", contact=f"sip:{OPERATOR_PHONE}:5070"))
    await service.operators.login("op1")
    token = await user_token(service, "op1", "operator")
    try:
        async with aiohttp.ClientSession() as http:
            yield Room(service, http, token)
    finally:
        await service.operators.remove("op1")
        for endpoint in DESKS:
            await service.desks.remove(endpoint)


def operator_phone() -> SippAgent:
    return SippAgent("operator.xml", OPERATOR_PHONE, hold_ms=300)


def desk(endpoint: str, scenario: str = "operator.xml") -> SippAgent:
    return SippAgent(scenario, DESKS[endpoint], hold_ms=500)


async def classify(room: Room, call_id: uuid.UUID, category: str) -> None:
    await room.service.incidents.set(call_id, IncidentChange(category=category), "op1")


async def test_blind_dispatch_walks_the_chain_past_busy_and_no_answer_to_the_desk_that_answers(room: Room) -> None:
    agents = [
        operator_phone(),
        desk("damkar-desk1", "agency-busy.xml"),
        SippAgent("operator-noanswer.xml", AGENCY_TRUNK),
        desk("bpbd-desk1"),
    ]
    async with running(*agents), room.call(hold_ms=25000) as (call_id, _):
        await classify(room, call_id, "fire")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "blind"})
        assert status == 202, body
        assert [a["target"] for a in body["attempts"]] == ["damkar-desk", "damkar-113", "bpbd-desk"]
        assert body["rule_id"] == "fire" and body["decision"] == "route"
        await room.wait_for_event(call_id, "agency_answered", timeout=30)
        assert await room.incident_status(call_id) == "acknowledged"
        # The agency whose desk answered has the incident's ticket, acknowledged on its behalf by dispatch.
        assert await room.ticket("acknowledged") == ("bpbd", "acknowledged", "fire")

    ended = await room.events(call_id, "dispatch_attempt_ended")
    assert [(e["target"], e["outcome"]) for e in ended] == [
        ("damkar-desk", "busy"),
        ("damkar-113", "no_answer"),
        ("bpbd-desk", "answered"),
    ]
    assert ended[1]["devices"] == ["PJSIP/113@agency-trunk"]
    assert 4 <= ended[1]["ring_seconds"] <= 8
    assert (await room.events(call_id, "operator_left"))[0]["reason"] == "blind_transfer"
    types = await room.types(call_id)
    assert types.index("dispatch_requested") < types.index("agency_answered") < types.index("ended")
    assert "incident_classified" in types


async def test_attended_dispatch_consults_cancels_then_completes(room: Room) -> None:
    async with running(operator_phone(), desk("psc119-desk1")), room.call(hold_ms=30000) as (call_id, _):
        await classify(room, call_id, "medical")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "attended"})
        assert status == 202, body
        await room.wait_for_event(call_id, "agency_answered")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch/cancel")
        assert status == 200 and body["state"] == "idle", body
        assert await room.incident_status(call_id) == "open"

        # The operator is back with the caller and tries again; this time the transfer is completed.
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "attended"})
        assert status == 202, body
        await room.wait_for_event(call_id, "agency_answered", count=2)
        status, body = await room.post(f"/api/calls/{call_id}/dispatch/complete")
        assert status == 200 and body["state"] == "connected", body
        assert await room.incident_status(call_id) == "acknowledged"

    types = await room.types(call_id)
    assert types.count("dispatch_cancelled") == 1 and types.count("dispatch_completed") == 1
    left = await room.events(call_id, "operator_left")
    assert [e["reason"] for e in left][:1] == ["attended_transfer_completed"]
    assert "caller_requeued" not in types


async def test_a_blind_dispatch_nobody_takes_goes_back_to_the_operators_and_one_recording_holds_both_talks(
    room: Room, local_asterisk: LocalAsterisk
) -> None:
    await room.service.routing.publish(routing_table(["damkar-desk"]), "test")
    async with (
        running(operator_phone(), desk("damkar-desk1", "agency-busy.xml")),
        room.call(hold_ms=40000) as (call_id, _),
    ):
        await asyncio.sleep(2)  # the first talk
        await classify(room, call_id, "fire")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "blind"})
        assert status == 202, body
        await room.wait_for_event(call_id, "caller_requeued")
        # The only desk is busy: back in the queue, which rings op1 again, and they answer.
        await room.wait_for_event(call_id, "operator_answered", count=2, timeout=30)
        await asyncio.sleep(2)  # the second talk, before the block hangs the caller up

    events = await timeline(room.service, call_id)
    answered = [e.at for e in events if e.type == "operator_answered"]
    requeued = next(e.at for e in events if e.type == "caller_requeued")
    ended = next(e.at for e in events if e.type == "ended")
    talks = (requeued - answered[0]) + (ended - answered[1])
    async with room.service.database.session() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    # One file: the first talk (with the ring of the busy desk, on hold in dispatch's bridge), then, appended when op1
    # answered again, the second. A second recording over the first would hold only the second talk.
    seconds = await recorded_seconds(local_asterisk, call, at_least=talks.total_seconds() * 0.8)
    assert seconds < talks.total_seconds() + 1, (seconds, talks)


async def test_conference_then_the_operator_leaves(room: Room) -> None:
    async with running(operator_phone(), desk("psc119-desk1")), room.call(hold_ms=20000) as (call_id, _):
        await classify(room, call_id, "medical")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "conference"})
        assert status == 202, body
        status, body = await room.post(f"/api/calls/{call_id}/dispatch/leave")
        assert status == 409 and body["error"]["id"] == "agency_not_connected"
        await room.wait_for_event(call_id, "agency_answered")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch/leave")
        assert status == 200, body
    assert [e["reason"] for e in await room.events(call_id, "operator_left")][:1] == ["left_conference"]
    assert (await room.events(call_id, "dispatch_ended"))[0]["reason"] == "caller left"


async def test_a_routing_change_takes_effect_on_the_next_call_and_an_ended_call_is_refused(room: Room) -> None:
    async with running(operator_phone(), desk("damkar-desk1"), desk("bpbd-desk1")):
        await room.service.routing.publish(routing_table(["damkar-desk"]), "test")
        async with room.call(hold_ms=12000) as (first, _):
            await classify(room, first, "fire")
            status, body = await room.post(f"/api/calls/{first}/dispatch", {"mode": "blind"})
            assert status == 202, body
            await room.wait_for_event(first, "agency_answered")
        await room.service.routing.publish(routing_table(["bpbd-desk"]), "test")
        async with room.call(hold_ms=12000) as (second, _):
            await classify(room, second, "fire")
            status, body = await room.post(f"/api/calls/{second}/dispatch", {"mode": "blind"})
            assert status == 202, body
            await room.wait_for_event(second, "agency_answered")
    assert (await room.events(first, "agency_answered"))[0]["target"] == "damkar-desk"
    assert (await room.events(second, "agency_answered"))[0]["target"] == "bpbd-desk"

    status, body = await room.post(f"/api/calls/{first}/dispatch", {"mode": "blind"})
    assert status == 409 and body["error"]["id"] == "call_not_live"


async def test_bad_requests_are_refused_and_leave_the_call_with_the_operator(room: Room) -> None:
    other = await user_token(room.service, "op2", "operator")
    async with running(operator_phone(), desk("psc119-desk1")), room.call(hold_ms=15000) as (call_id, _):
        url = f"/api/calls/{call_id}/dispatch"
        status, body = await room.post(url, {"mode": "blind"})
        assert (status, body["error"]["id"]) == (409, "not_classified")
        await classify(room, call_id, "medical")
        for request, expected in [
            ({"mode": "blind", "target": "nowhere"}, (422, "unknown_target")),
            ({"mode": "blind", "agency": "nobody"}, (422, "unknown_agency")),
            ({"mode": "sideways"}, (400, "invalid_request")),
            ({"mode": "blind", "target": "psc119-desk", "agency": "psc119"}, (400, "invalid_request")),
        ]:
            status, body = await room.post(url, request)
            assert (status, body["error"]["id"]) == expected, request
        status, body = await room.post(f"/api/calls/{uuid.uuid4()}/dispatch", {"mode": "blind"})
        assert (status, body["error"]["id"]) == (404, "call_not_found")
        async with room.http.post(room.base + url, json={"mode": "blind"}) as response:
            assert response.status == 401
        status, body = await room.post(url + "/complete")
        assert (status, body["error"]["id"]) == (409, "no_dispatch")
        # The call was not touched: caller and operator are still bridged by app_queue.
        assert "dispatch_requested" not in await room.types(call_id)
        assert room.service.dispatch.view(call_id) is None

        status, body = await room.post(url, {"mode": "attended"})
        assert status == 202, body
        status, body = await room.post(url, {"mode": "attended"})
        assert (status, body["error"]["id"]) == (409, "dispatch_in_progress")
        status, body = await room.post(url + "/cancel", token=other)
        assert (status, body["error"]["id"]) == (403, "not_your_dispatch")
        await room.wait_for_event(call_id, "agency_answered")
        refused = await cli(room, str(call_id), "--mode", "blind", "--target", "nowhere")
        assert refused.returncode == 1 and b"dispatch_in_progress" in refused.stderr
        cancelled = await cli(room, str(call_id), "--cancel")
        assert cancelled.returncode == 0, cancelled.stderr
        assert json.loads(cancelled.stdout)["state"] == "idle"
    unknown = await cli(room, str(call_id), "--mode", "blind")
    assert unknown.returncode == 1 and b"call_not_live" in unknown.stderr


async def cli(room: Room, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`ntpd112 dispatch ...` against the test's service."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("ntpd112")),
        "dispatch",
        *args,
        "--url",
        room.base,
        env=os.environ | {"NTPD112_API_TOKEN": room.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    return subprocess.CompletedProcess(list(args), process.returncode or 0, stdout, stderr)


async def test_a_non_emergency_outside_its_hours_gets_the_message_and_a_ticket(room: Room) -> None:
    async with running(operator_phone(), desk("bpbd-desk1")), room.call(hold_ms=10000) as (call_id, _):
        await classify(room, call_id, "non_emergency")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "blind"})
        assert status == 202, body
        assert body["decision"] == "after_hours" and body["attempts"] == []
        await room.wait_for_event(call_id, "ticket_opened")
        assert await room.incident_status(call_id) == "ticket"
    [ticket] = await room.events(call_id, "ticket_opened")
    assert ticket["agency"] == "bpbd" and ticket["rule"] == "non-emergency"
    assert await room.ticket("sent") == ("bpbd", "sent", "non_emergency")
    assert "dispatch_attempt" not in await room.types(call_id)
