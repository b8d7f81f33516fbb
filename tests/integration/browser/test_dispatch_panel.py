"""The dispatch panel in a real browser against the real service, Asterisk and PostgreSQL: a baresip softphone
answers a SIPp 112 caller as the signed-in operator, who classifies `fire` by key, sees where the routing table in
force sends it, starts an attended dispatch by key to a SIPp agency desk, watches the attempt go ringing ->
answered, completes the hand-over by key; the attempts on screen and PostgreSQL's timeline agree."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import expect

from ntpd112.app import Service
from ntpd112.dispatch.desks import NewDesk
from tests.integration import pidf
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in_ready
from tests.integration.browser.test_call_card import CALLER_AT
from tests.integration.conftest import calls_from, empty_queue, timeline, unique_mobile_number, wait_until
from tests.integration.intake_calls import e164, intake_call
from tests.integration.sipp import SippResult
from tests.integration.softphone import registered_operator_phone
from tests.integration.test_dispatch_live import DESKS, routing_table
from tests.integration.test_intake import import_pamulang

pytestmark = pytest.mark.integration

DESK = "damkar-desk1"
# The desk rings this long before it answers: long enough for the screen to show the attempt ringing.
DESK_RING_MS = 2500


async def test_attended_dispatch_by_keys_ringing_answered_completed(
    console: Watched, service: Service, tmp_path: Path
) -> None:
    await empty_queue(service)
    assert (await import_pamulang(service, tmp_path)).code == 0
    await service.routing.publish(routing_table(["damkar-desk", "bpbd-desk"]), "test")
    known = {agency.id for agency in service.routing.current.table.agencies}
    for left_over in await service.desks.list():
        await service.desks.remove(left_over.endpoint)
    await service.desks.add(
        NewDesk(endpoint=DESK, agency="damkar", name="Damkar", contact=f"sip:{DESKS[DESK]}:5070"), known
    )
    caller: asyncio.Task[SippResult] | None = None
    try:
        async with (
            running(SippAgent("operator.xml", DESKS[DESK], hold_ms=DESK_RING_MS)),
            registered_operator_phone(
                service, tmp_path / "baresip", "dewi", "Dewi Lestari", "127.0.0.36", password=OPERATOR_PASSWORD
            ),
        ):
            page = console.page
            await sign_in_ready(console, "dewi")

            number = unique_mobile_number()
            caller = asyncio.create_task(intake_call(number=number, pidf=pidf.circle(*CALLER_AT, 40), hold_ms=22_000))
            card = page.get_by_test_id("call-card")
            panel = card.get_by_test_id("dispatch-panel")
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(number), timeout=20_000)
            await expect(panel).to_contain_text("Klasifikasikan insiden")
            await expect(panel.locator("[data-dispatch-mode=attended]")).to_be_disabled()

            # 2 = fire: the panel shows the routing table's chain for fire in Pamulang, and the dispatch keys.
            await page.keyboard.press("2")
            await expect(card.get_by_test_id("classified")).to_have_text("Klasifikasi: Kebakaran")
            chain = panel.get_by_test_id("route-chain")
            await expect(chain.locator("li")).to_have_count(2)
            await expect(chain.locator("li").first).to_have_attribute("data-target", "damkar-desk")
            await expect(panel.get_by_test_id("route-rule")).to_contain_text("aturan fire")
            await expect(panel.locator("[data-dispatch-mode=attended] kbd")).to_have_text("T")
            await expect(panel.locator("[data-dispatch-command=complete]")).to_be_disabled()

            # T: attended dispatch. The desk rings (the screen says so), answers, and the operator consults it.
            await page.keyboard.press("t")
            attempt = panel.get_by_test_id("attempts").locator("li").first
            await expect(attempt).to_have_attribute("data-attempt-state", "ringing", timeout=10_000)
            await expect(attempt).to_contain_text("berdering")
            await expect(panel).to_have_attribute("data-dispatch-state", "ringing")
            await expect(panel.locator("[data-dispatch-command=cancel]")).to_be_enabled()
            await expect(attempt).to_have_attribute("data-attempt-state", "answered", timeout=10_000)
            await expect(panel).to_have_attribute("data-dispatch-state", "consulting")
            await expect(panel.locator("[data-dispatch-command=complete]")).to_be_enabled()
            await console.screenshot("dispatch")

            # S: the caller goes to the agency, the operator's phone is hung up.
            await page.keyboard.press("s")
            await expect(panel).to_have_attribute("data-dispatch-state", "connected")
            await expect(panel.locator("[data-dispatch-command=complete]")).to_be_disabled()
            await expect(panel.locator("[data-dispatch-mode=blind]")).to_be_disabled()

            [call] = await calls_from(service, e164(number))

            async def completed() -> bool:
                await service.journal.flushed()
                return "dispatch_completed" in [event.type for event in await timeline(service, call.id)]

            await wait_until(completed)
            events = await timeline(service, call.id)
            types = [event.type for event in events]
            assert types.index("dispatch_requested") < types.index("dispatch_attempt") < types.index("agency_answered")
            assert types.index("agency_answered") < types.index("dispatch_completed")
            [ended] = [event.data for event in events if event.type == "dispatch_attempt_ended"]
            assert (ended["target"], ended["outcome"]) == ("damkar-desk", "answered")
            left = [event.data["reason"] for event in events if event.type == "operator_left"]
            assert left[:1] == ["attended_transfer_completed"]
            await expect(panel.get_by_test_id("attempts").locator("li")).to_have_count(1)
            # The desk answering made damkar's ticket, acknowledged on its behalf: the card shows it.
            ticket = card.get_by_test_id("handover-ticket")
            await expect(ticket).to_have_count(1)
            await expect(ticket).to_have_attribute("data-agency", "damkar")
            await expect(ticket.locator("[data-status]")).to_have_attribute("data-status", "acknowledged")

            # The caller hangs up. The screen then shows what PostgreSQL holds: every event of the timeline.
            await expect(card.locator(".card-status")).to_have_text("Panggilan berakhir", timeout=30_000)

            async def screen_matches_database() -> bool:
                await service.journal.flushed()
                stored = [event.type for event in await timeline(service, call.id)]
                return len(stored) == await card.locator(".timeline li").count()

            await wait_until(screen_matches_database)
            await page.keyboard.press("d")
            await expect(card).to_have_count(0)
            result = await caller
            assert result.succeeded, result.output

            # A non-emergency complaint outside its rule's hours: the panel says what happens instead (a message
            # to the caller, a ticket for the agency). The caller waits out the operator's wrap-up (10 s).
            second = unique_mobile_number()
            caller = asyncio.create_task(intake_call(number=second, hold_ms=14_000))
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(second), timeout=20_000)
            await page.keyboard.press("k")
            await page.keyboard.press("2")
            await expect(card.get_by_test_id("classified")).to_have_text("Klasifikasi: Pengaduan non-darurat")
            after_hours = panel.get_by_test_id("after-hours")
            await expect(after_hours).to_contain_text("Di luar jam layanan")
            await expect(after_hours).to_contain_text("bpbd")
            await expect(after_hours).to_contain_text("Kantor tutup; laporan dicatat.")
            await expect(panel.get_by_test_id("route-chain")).to_have_count(0)
            result = await caller
            assert result.succeeded, result.output
    finally:
        if caller is not None:
            caller.cancel()
        await service.desks.remove(DESK)
