"""An escalation on the agency's phone screen in a real browser: a ticket past its acknowledge limit (made 15 minutes
ago) shows its escalation level in the open list without a reload, its real age on the server's clock (the phone's
own clock is slow), and the ticket's history labels both levels."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import update

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.store.models import Ticket
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.browser.test_agency_tickets import LIVE_MS, PHONE, hand_over
from tests.integration.conftest import agency_user, classified_call

pytestmark = pytest.mark.integration


async def test_an_escalated_ticket_shows_its_level_on_the_agency_screen(console: Watched, service: Service) -> None:
    await agency_user(service, "damkar1", "damkar", hash_password(OPERATOR_PASSWORD))
    [ticket] = await hand_over(service, await classified_call(service, "fire"), ["damkar"])
    async with service.database.session() as session, session.begin():
        made_at = utcnow() - timedelta(minutes=15)
        await session.execute(update(Ticket).where(Ticket.id == uuid.UUID(ticket["id"])).values(created_at=made_at))
    page = console.page
    # The phone's clock is 3 minutes slow: the age is still the server's (not "12 mnt").
    await page.clock.set_system_time(utcnow() - timedelta(minutes=3))
    await page.set_viewport_size(PHONE)
    await page.goto(console.url("/"))
    await sign_in(console, "damkar1", OPERATOR_PASSWORD)
    row = page.locator(f'[data-ticket="{ticket["number"]}"]')
    await expect(row).to_contain_text("Terkirim")
    await expect(row.locator("[data-escalation]")).to_have_count(0)

    # Fire: acknowledge within 2 minutes, the next level 10 minutes later; 15 minutes on, both are due.
    assert await service.escalation_checker.check(utcnow()) == 2
    await expect(row.locator("[data-escalation]")).to_have_text("Eskalasi 2", timeout=LIVE_MS)
    await expect(row.locator(".age")).to_have_text("15 mnt")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await console.screenshot("agency-escalated")

    await row.click()
    await expect(page.get_by_role("heading", name="Kebakaran")).to_be_visible()
    await expect(page.locator(".ticket-head [data-escalation]")).to_have_text("Eskalasi 2")
    await expect(page.locator(".history .escalated")).to_have_count(2)
    await expect(page.locator(".history")).to_contain_text("system:escalation")
