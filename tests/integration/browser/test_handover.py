"""The hand-over key in a real browser against the real service, Asterisk and PostgreSQL: a baresip softphone
answers a SIPp 112 caller as the signed-in operator, who classifies a traffic accident by key and presses O: one
ticket for the police and one for the ambulance (the route's rule and its continuation) show on the card with their
numbers, as PostgreSQL holds them; a photo the police add on their phone shows beside their ticket; pressing O
again makes nothing more."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.models import Ticket
from tests.integration import pidf
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in_ready
from tests.integration.browser.test_call_card import CALLER_AT
from tests.integration.conftest import agency_token, calls_from, empty_queue, unique_mobile_number
from tests.integration.intake_calls import e164, intake_call
from tests.integration.sipp import SippResult
from tests.integration.softphone import registered_operator_phone
from tests.integration.test_intake import import_pamulang
from tests.integration.test_ticket_photos import photo

pytestmark = pytest.mark.integration


async def stored_tickets(service: Service, number: str) -> dict[str, str]:
    [call] = await calls_from(service, e164(number))
    async with service.database.session() as session:
        rows = (await session.scalars(select(Ticket).where(Ticket.call_id == call.id))).all()
    return {ticket.agency: ticket.number for ticket in rows}


async def add_photo_as_agency(service: Service, number: str, agency: str) -> None:
    """An agency user of `agency` adds a photo to the call's ticket over the API, as their phone does."""
    [call] = await calls_from(service, e164(number))
    async with service.database.session() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.call_id == call.id, Ticket.agency == agency))
    form = aiohttp.FormData()
    form.add_field("photo", photo(), filename="lokasi.jpg", content_type="image/jpeg")
    headers = {"Authorization": f"Bearer {await agency_token(service, f'{agency}1', agency)}"}
    async with (
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{service.settings.http_port}") as http,
        http.post(f"/api/tickets/{ticket_id}/photos", data=form, headers=headers) as response,
    ):
        assert response.status == 201, await response.text()


async def test_the_hand_over_key_makes_a_ticket_per_agency_of_the_route_shown_on_the_card(
    console: Watched, service: Service, tmp_path: Path
) -> None:
    await empty_queue(service)
    assert (await import_pamulang(service, tmp_path)).code == 0
    caller: asyncio.Task[SippResult] | None = None
    async with registered_operator_phone(
        service, tmp_path / "baresip", "sari", "Sari Handayani", "127.0.0.39", password=OPERATOR_PASSWORD
    ):
        try:
            page = console.page
            await sign_in_ready(console, "sari")
            number = unique_mobile_number()
            caller = asyncio.create_task(intake_call(number=number, pidf=pidf.circle(*CALLER_AT, 40), hold_ms=15_000))
            card = page.get_by_test_id("call-card")
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(number), timeout=20_000)
            handover = card.get_by_test_id("handover")
            await expect(handover).to_have_count(0)  # nothing to hand over before the call is classified

            # 6 = traffic accident: the police, then (the rule's continuation) the ambulance.
            await page.keyboard.press("6")
            await expect(card.get_by_test_id("classified")).to_have_text("Klasifikasi: Kecelakaan lalu lintas")
            await expect(handover).to_contain_text("Belum ada tiket")
            button = handover.get_by_test_id("handover-button")
            await expect(button).to_contain_text("polres, psc119")
            await expect(button.locator("kbd")).to_have_text("I")

            await page.keyboard.press("i")
            rows = handover.get_by_test_id("handover-ticket")
            await expect(rows).to_have_count(2)
            stored = await stored_tickets(service, number)
            assert set(stored) == {"polres", "psc119"}
            for agency, ticket_number in stored.items():
                row = handover.locator(f"[data-agency={agency}]")
                await expect(row.locator(".ticket-number")).to_have_text(ticket_number)
                assert re.fullmatch(r"112-\d{4}-\d{6}", ticket_number)
                await expect(row.locator("[data-status]")).to_have_attribute("data-status", "sent")
            await console.screenshot("card-handover")

            # The police add a photo on their phone: it shows beside their ticket on the card, live.
            await add_photo_as_agency(service, number, "polres")
            photos = handover.locator("[data-agency=polres]").get_by_test_id("ticket-photo")
            await expect(photos).to_have_count(1, timeout=5_000)
            await page.wait_for_function(
                "img => img.complete && img.naturalWidth === 320",
                arg=await photos.first.locator("img").element_handle(),
            )
            await expect(handover.locator("[data-agency=psc119]").get_by_test_id("ticket-photo")).to_have_count(0)
            await console.screenshot("card-handover-photo")

            # Every agency of the route has its ticket: the button is gone, and the key again makes nothing.
            await expect(button).to_have_count(0)
            await expect(handover.get_by_test_id("handover-done")).to_have_text(
                "Semua instansi rute ini sudah punya tiket."
            )
            await page.keyboard.press("i")
            await expect(rows).to_have_count(2)
            assert await stored_tickets(service, number) == stored
        finally:
            if caller is not None:
                result = await caller
                assert result.succeeded, result.output
