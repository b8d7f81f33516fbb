"""The supervisor's tickets screen (/tickets) in a real browser: open tickets by default (a cancelled one is not
mixed in), and a status filter that asks the service for all tickets or one status."""

from __future__ import annotations

import uuid
from datetime import timedelta

import aiohttp
import pytest
from playwright.async_api import expect
from sqlalchemy import update

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.store.models import Ticket
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.browser.test_agency_tickets import hand_over
from tests.integration.conftest import classified_call, user_token

pytestmark = pytest.mark.integration


async def test_the_supervisor_filters_the_tickets_by_status(console: Watched, service: Service) -> None:
    token = await user_token(service, "sinta", "supervisor")
    await service.accounts.users.set_password("sinta", hash_password(OPERATOR_PASSWORD), must_change=False)
    [fire] = await hand_over(service, await classified_call(service, "fire"), ["damkar"])
    [tree] = await hand_over(service, await classified_call(service, "fallen_tree", "Cisauk"), ["damkar"])
    async with (
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{service.settings.http_port}") as http,
        http.post(
            f"/api/tickets/{tree['id']}/transitions",
            json={"to": "cancelled", "reason": "pohon sudah disingkirkan warga"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
    # Made earlier in the shift: the list shows their ages since they were made.
    async with service.database.session() as session, session.begin():
        for ticket, minutes in [(fire, 40), (tree, 95)]:
            made_at = utcnow() - timedelta(minutes=minutes)
            await session.execute(update(Ticket).where(Ticket.id == uuid.UUID(ticket["id"])).values(created_at=made_at))

    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, "sinta", OPERATOR_PASSWORD)
    await expect(page).not_to_have_url(console.url("/login"))  # signed in: the session cookie is set
    await page.goto(console.url("/tickets"))
    await expect(page.get_by_role("heading", name="Tiket semua OPD")).to_be_visible()
    rows = page.locator("[data-ticket]")
    status_filter = page.get_by_label("Status")
    await expect(status_filter).to_have_value("open")
    await expect(rows).to_have_count(1)
    await expect(rows).to_have_attribute("data-ticket", fire["number"])
    await expect(rows.locator(".age")).to_have_text("40 mnt")

    await status_filter.select_option(label="Semua")
    await expect(rows).to_have_count(2)
    await expect(page.locator(f'[data-ticket="{tree["number"]}"]')).to_contain_text("Dibatalkan")

    await status_filter.select_option(label="Dibatalkan")
    await expect(rows).to_have_count(1)
    await expect(rows).to_have_attribute("data-ticket", tree["number"])
    await expect(rows.locator(".age")).to_have_text("1 j 35 mnt")
    await console.screenshot("tickets-filter-cancelled")
    # The filter is in the address: a reload (or the link sent to a colleague) shows the same list.
    await expect(page).to_have_url(console.url("/tickets?status=cancelled"))
    await page.reload()
    await expect(status_filter).to_have_value("cancelled")
    await expect(rows).to_have_count(1)
    await expect(rows).to_have_attribute("data-ticket", tree["number"])

    await status_filter.select_option(label="Ditutup")
    await expect(page.get_by_text("Tidak ada tiket dengan status ini.")).to_be_visible()
    await expect(rows).to_have_count(0)
