"""The wallboard's dispatches in a real browser against the real service, Asterisk and PostgreSQL: a SIPp caller
answered by the operator's SIPp phone is dispatched along a chain whose first desk (SIPp) never answers and whose
second does; the supervisor's wall shows the attempt ringing, then answered, live; a ticket past its acknowledge
limit is listed beside; TV mode turns to the dispatches panel. Set-up (desks, phones, routing):
test_dispatch_live.py. Screenshots: docs/screenshots/wallboard-dispatches.png and wallboard-tv-dispatches.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import select, update

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.routing.deadlines import Deadline, Escalation
from ntpd112.store.models import Call, Incident, Ticket
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.conftest import classified_call, user_token
from tests.integration.test_dispatch_live import DESKS, Room, classify, desk, operator_phone, room, routing_table

pytestmark = pytest.mark.integration
__all__ = ["room"]  # test_dispatch_live's room, a fixture


async def late_ticket(service: Service) -> None:
    """damkar's ticket of another fire, unacknowledged 3 minutes past its limit, as the escalation checker records
    it."""
    call_id = await classified_call(service, "fire")
    now = utcnow()
    async with service.database.session() as session, session.begin():
        # That call was answered and is over (not a caller waiting on the wall).
        offered = now - timedelta(minutes=10)
        await session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(
                offered_at=offered,
                operator_answered_at=offered + timedelta(seconds=4),
                ended_at=offered + timedelta(minutes=4),
            )
        )
        ticket = Ticket(
            number="112-2026-000777",
            incident_id=await session.scalar(select(Incident.id).where(Incident.call_id == call_id)),
            call_id=call_id,
            agency="damkar",
            category="fire",
            status="sent",
            created_by="ani",
            created_at=now - timedelta(minutes=5),
            updated_at=now - timedelta(minutes=5),
        )
        session.add(ticket)
    assert await service.escalations.record(ticket.id, Escalation(Deadline.ACKNOWLEDGE, 1, now - timedelta(minutes=3)))


async def test_the_wall_shows_a_dispatch_ringing_then_answered_and_a_late_ticket(
    console: Watched, service: Service, room: Room
) -> None:
    await service.routing.publish(routing_table(["damkar-desk", "bpbd-desk"]), "test")
    await user_token(service, "sinta", "supervisor")
    await service.accounts.users.set_password("sinta", hash_password(OPERATOR_PASSWORD), must_change=False)
    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, "sinta", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await page.goto(console.url("/wallboard?every=5"))
    board = page.get_by_test_id("wallboard")
    await expect(board.get_by_text("Langsung")).to_be_visible()
    panel = board.get_by_test_id("wall-dispatches")
    await expect(panel).to_contain_text("Tidak ada penerusan yang berjalan.")

    await late_ticket(service)
    late = board.locator("[data-testid=wall-escalations] [data-ticket='112-2026-000777']")
    await expect(late).to_contain_text("Dinas Pemadam Kebakaran (Damkar)")
    await expect(late).to_contain_text("belum diterima")
    await expect(late).to_contain_text("eskalasi 1")

    agents = [operator_phone(), SippAgent("operator-noanswer.xml", DESKS["damkar-desk1"]), desk("bpbd-desk1")]
    async with running(*agents), room.call(hold_ms=45000) as (call_id, _):
        await classify(room, call_id, "fire")
        status, body = await room.post(f"/api/calls/{call_id}/dispatch", {"mode": "blind"})
        assert status == 202, body
        row = panel.locator(f"[data-call-id='{call_id}']")
        await expect(row).to_have_attribute("data-state", "ringing")
        await expect(row).to_contain_text("Dinas Pemadam Kebakaran (Damkar)")
        await expect(row.get_by_test_id("attempt")).to_have_text("percobaan 1 dari 2")
        await expect(row).to_contain_text("Kebakaran")
        # damkar's desk rings out after 5 s; bpbd's answers.
        await expect(row).to_have_attribute("data-state", "answered", timeout=15_000)
        await expect(row.get_by_test_id("attempt")).to_have_text("percobaan 2 dari 2")
        await expect(row).to_contain_text("BPBD")
        await console.screenshot("wallboard-dispatches")

        # TV mode: the fourth panel (every 5 s: after the queue, today and the map) is the dispatches'.
        await page.keyboard.press("w")
        await expect(board).to_have_attribute("data-tv", "dispatches", timeout=25_000)
        await expect(board.locator(f"[data-testid=wall-dispatches] [data-call-id='{call_id}']")).to_have_attribute(
            "data-state", "answered"
        )
        await console.screenshot("wallboard-tv-dispatches")
        await page.keyboard.press("Escape")

    # The call is over, and so is its dispatch on the wall.
    await expect(panel.locator(f"[data-call-id='{call_id}']")).to_have_count(0, timeout=10_000)
