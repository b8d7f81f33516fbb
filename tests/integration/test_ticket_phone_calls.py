"""Phone notifications of tickets against the real service, Asterisk and PostgreSQL: a ticket handed to damkar rings
its duty number through the agency trunk, where a SIPp desk (127.0.0.20:5070) answers the call, hears the espeak-ng
message and presses 1 as an RFC 4733 event: the ticket is acknowledged by "phone:<number>". A busy desk: every attempt
logged, retried up to the last, the ticket stays sent. A pending call is placed by the next service after a restart."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.routing.defaults import default_table
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.db import Database
from ntpd112.store.models import TicketPhoneCall
from ntpd112.store.phone_calls import PhoneAttempt, PhoneCalls
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import free_tcp_port, service_settings, user_token, wait_until
from tests.integration.test_ticket_webhooks import bearer, hand_over

AGENCY_TRUNK = "127.0.0.20"  # room.toml's agency trunk contact: every number dialled through it reaches this desk
DUTY_NUMBER = "0215550113"


@contextlib.asynccontextmanager
async def phone_service(
    database_url: str, spool: Path, max_attempts: int = 3, retry_delay: float = 0.5
) -> AsyncIterator[Service]:
    settings = service_settings(
        database_url,
        spool,
        http_port=free_tcp_port(),
        ticket_call_ring_seconds=5,
        ticket_call_key_seconds=3,
        ticket_call_max_attempts=max_attempts,
        ticket_call_retry_initial_delay=retry_delay,
        ticket_call_retry_max_delay=retry_delay * 2,
        ticket_check_interval=0.3,
    )
    service = Service(settings)
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        await service.routing.publish(table_with_duty_number(), "test")
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def service(local_asterisk: Any, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    async with phone_service(clean_database, tmp_path / "spool") as svc:
        yield svc


def table_with_duty_number(
    fire_limits: dict[str, float] | None = None,
    agency: str = "damkar",
    agency_limits: dict[str, dict[str, dict[str, float]]] | None = None,
) -> RoutingTable:
    """The starting table with `agency`'s duty number set to DUTY_NUMBER; `fire_limits` replaces the fire
    category's time limits, `agency_limits` ({agency: {category: limits}}) some agencies' own."""
    data = default_table().model_dump(mode="json")
    for entry in data["agencies"]:
        if entry["id"] == agency:
            entry["duty_number"] = DUTY_NUMBER
        entry["limits"] |= (agency_limits or {}).get(entry["id"], {})
    for category in data["categories"]:
        if category["id"] == "fire" and fire_limits is not None:
            category["limits"] = fire_limits
    return RoutingTable.model_validate(data)


async def logged(service: Service, ticket_id: str) -> list[PhoneAttempt]:
    return await service.phone_calls.attempts(uuid.UUID(ticket_id))


async def ticket(service: Service, http: aiohttp.ClientSession, ticket_id: str) -> dict[str, Any]:
    supervisor = bearer(await user_token(service, "sv", "supervisor"))
    async with http.get(f"/api/tickets/{ticket_id}", headers=supervisor) as response:
        assert response.status == 200
        found: dict[str, Any] = await response.json()
        return found


async def test_the_desk_presses_1_and_the_ticket_is_acknowledged_by_phone(
    service: Service, http: aiohttp.ClientSession
) -> None:
    async with running(SippAgent("agency-desk-presses-1.xml", AGENCY_TRUNK)):
        ticket_id = (await hand_over(service, http, ["damkar", "psc119"]))["damkar"]  # psc119: no duty number

        async def acknowledged() -> bool:
            return (await ticket(service, http, ticket_id))["status"] == "acknowledged"

        await wait_until(acknowledged, timeout=60)
        await wait_until(lambda: logged(service, ticket_id))
    [attempt] = await logged(service, ticket_id)
    assert (attempt.status, attempt.attempt, attempt.outcome, attempt.digit) == ("acknowledged", 1, "acknowledged", "1")
    detail = await ticket(service, http, ticket_id)
    [by_phone] = [e for e in detail["events"] if e["to_status"] == "acknowledged"]
    assert by_phone["by"] == f"phone:{DUTY_NUMBER}"
    assert f"pressing 1 on the notification call to {DUTY_NUMBER}" in by_phone["text"]
    async with service.database.session() as session:
        calls = (await session.scalars(select(TicketPhoneCall))).all()
    assert [(c.agency, c.reason, c.number) for c in calls] == [("damkar", "created", DUTY_NUMBER)]
    # The message names the category, the kecamatan and the ticket number digit by digit; it was spoken to a file.
    [call] = calls
    assert "Kategori: Kebakaran." in call.text and "Kecamatan: Pagedangan." in call.text
    assert "Tekan satu untuk menerima" in call.text
    sounds = list((service.settings.asterisk_sounds_dir or Path("/nonexistent")).glob("tickets/ticket-*.wav"))
    assert sounds and all(sound.stat().st_size > 8000 for sound in sounds)


async def test_a_busy_desk_is_retried_every_attempt_logged_and_the_ticket_stays_sent(
    service: Service, http: aiohttp.ClientSession
) -> None:
    async with running(SippAgent("agency-busy.xml", AGENCY_TRUNK)):
        ticket_id = (await hand_over(service, http, ["damkar"]))["damkar"]

        async def failed() -> bool:
            attempts = await logged(service, ticket_id)
            return bool(attempts) and attempts[-1].status == "failed"

        await wait_until(failed, timeout=60)
    attempts = await logged(service, ticket_id)
    assert [(a.attempt, a.outcome, a.digit) for a in attempts] == [
        (1, "busy", None),
        (2, "busy", None),
        (3, "busy", None),
    ]
    assert (await ticket(service, http, ticket_id))["status"] == "sent"
    # The admin follows the agency's calls; an operator may not.
    admin = bearer(await user_token(service, "adm", "admin"))
    async with http.get("/api/agencies/damkar/phone-calls", headers=admin) as response:
        assert response.status == 200
        [listed] = await response.json()
    assert (listed["ticket_id"], listed["reason"], listed["number"]) == (ticket_id, "created", DUTY_NUMBER)
    assert (listed["status"], listed["attempts"], listed["last_outcome"], listed["next_attempt_at"]) == (
        "failed",
        3,
        "busy",
        None,
    )
    operator = bearer(await user_token(service, "ani2", "operator"))
    async with http.get("/api/agencies/damkar/phone-calls", headers=operator) as response:
        assert response.status == 403
    async with http.get("/api/agencies/damkar/phone-calls?limit=0", headers=admin) as response:
        assert response.status == 400  # a bad query


async def test_a_desk_that_hangs_up_without_a_key_is_retried_and_an_escalation_rings_again(
    service: Service, http: aiohttp.ClientSession
) -> None:
    # Fire shortened: the acknowledge limit is missed 1.2 s after the ticket is made, level 2 1.2 s later.
    limits = {"acknowledge_minutes": 0.02, "resolve_minutes": 10, "escalate_minutes": 0.02}
    await service.routing.publish(table_with_duty_number(fire_limits=limits), "test")
    # The desk answers, listens for 1.5 s and hangs up: the dialplan's h extension reports no key.
    async with running(SippAgent("phone-answers-then-hangs-up.xml", AGENCY_TRUNK, hold_ms=1500)):
        ticket_id = (await hand_over(service, http, ["damkar"]))["damkar"]

        async def all_failed() -> bool:
            async with service.database.session() as session:
                calls = (await session.scalars(select(TicketPhoneCall))).all()
            return len(calls) == 3 and all(call.status == "failed" for call in calls)

        await wait_until(all_failed, timeout=90)
    async with service.database.session() as session:
        reasons = sorted(call.reason for call in (await session.scalars(select(TicketPhoneCall))).all())
    assert reasons == ["created", "escalated", "escalated"]  # made, then each escalation level
    attempts = await logged(service, ticket_id)
    assert len(attempts) == 9 and {(a.outcome, a.digit) for a in attempts} == {("no_digit", None)}
    assert (await ticket(service, http, ticket_id))["status"] == "sent"


async def test_a_pending_call_is_placed_by_the_next_service_after_a_restart(
    local_asterisk: Any, clean_database: str, tmp_path: Path
) -> None:
    async with (
        running(SippAgent("agency-busy.xml", AGENCY_TRUNK)),
        phone_service(clean_database, tmp_path / "spool", max_attempts=10, retry_delay=30.0) as first,
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{first.settings.http_port}") as http,
    ):
        ticket_id = (await hand_over(first, http, ["damkar"]))["damkar"]
        await wait_until(lambda: logged(first, ticket_id), timeout=30)
    # The first service is gone with the call pending, its next attempt 30 s away: made due now.
    database = Database(clean_database)
    await database.start()
    try:
        found = await PhoneCalls(database).attempts(uuid.UUID(ticket_id))
        assert [(a.attempt, a.outcome, a.status) for a in found] == [(1, "busy", "pending")]
        async with database.session() as session, session.begin():
            await session.execute(update(TicketPhoneCall).values(next_attempt_at=utcnow()))
    finally:
        await database.stop()

    async with (
        running(SippAgent("agency-desk-presses-1.xml", AGENCY_TRUNK)),
        phone_service(clean_database, tmp_path / "spool2") as again,
    ):

        async def acknowledged() -> bool:
            attempts = await logged(again, ticket_id)
            return bool(attempts) and attempts[-1].outcome == "acknowledged"

        await wait_until(acknowledged, timeout=60)
        attempts = await logged(again, ticket_id)
    assert [(a.attempt, a.outcome, a.status) for a in attempts] == [
        (1, "busy", "acknowledged"),
        (2, "acknowledged", "acknowledged"),
    ]
