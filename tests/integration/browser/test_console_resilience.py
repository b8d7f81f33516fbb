"""The console across a broken connection and a restarted service, in Chromium against the real service, Asterisk
and PostgreSQL, with a baresip operator talking to a SIPp 112 caller: the open card comes back once (never lost,
never twice) and shows what changed while the console could not hear."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.devtools.tcp_proxy import TcpProxy
from tests.integration.browser.conftest import OPERATOR_PASSWORD, sign_in_ready, watched_page
from tests.integration.conftest import (
    assert_complete_timeline,
    calls_from,
    empty_queue,
    service_settings,
    started,
    timeline,
    unique_mobile_number,
)
from tests.integration.intake_calls import e164, intake_call
from tests.integration.sipp import SippResult
from tests.integration.softphone import registered_operator_phone
from tests.integration.test_intake_aml import https_form, post_form

pytestmark = pytest.mark.integration

TALKING, ENDED, LOCATED = "Sedang bicara", "Panggilan berakhir", "Lokasi diterima"
# The caller stays on the line until the test hangs the call up (as soon as its checks hold); this is the limit.
CALLER_HOLD_MS = 40_000


async def talking_card(page: Page, number: str) -> Locator:
    """The operator's card of the caller, once the operator talks to them."""
    card = page.get_by_test_id("call-card")
    await expect(card.get_by_test_id("caller-number")).to_have_text(e164(number), timeout=20_000)
    await expect(card.locator(".card-status")).to_have_text(TALKING)
    return card


async def assert_one_card(page: Page, number: str) -> None:
    """The caller's card is on the screen once: no second card, no tab of another one."""
    await expect(page.get_by_test_id("call-card")).to_have_count(1)
    await expect(page.get_by_test_id("call-card").get_by_test_id("caller-number")).to_have_text(e164(number))
    await expect(page.locator(".card-tabs")).to_have_count(0)


async def hang_up(service: Service, number: str, caller: asyncio.Task[SippResult]) -> None:
    """End the call from Asterisk's side. The SIPp caller's scenario hangs up itself after its hold, so it counts
    this BYE as unexpected (a failed call): its result says nothing here, only that it is over."""
    [call] = await calls_from(service, e164(number))
    await service.ari.hangup(call.uniqueid)
    await asyncio.wait_for(caller, 15)


async def test_a_dropped_connection_brings_the_card_back_once_with_what_came_meanwhile(
    browser: Browser, built_console: Path, service: Service, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    await empty_queue(service)
    # The browser reaches the service through a proxy the test can cut, as a network blip would.
    proxy = TcpProxy("127.0.0.1", service.settings.http_port)
    await proxy.open()
    number = unique_mobile_number()
    try:
        async with (
            registered_operator_phone(
                service, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
            ),
            watched_page(browser, f"http://127.0.0.1:{proxy.port}") as console,
        ):
            page = console.page
            await sign_in_ready(console, "rina")
            caller = asyncio.create_task(intake_call(number=number, hold_ms=CALLER_HOLD_MS))
            try:
                card = await talking_card(page, number)
                await expect(card.locator(".fixes li[data-source=aml]")).to_have_count(0)
                await expect(card.locator(".timeline")).not_to_contain_text(LOCATED)
                offline = page.locator(".stream-offline")
                async with console.service_cut_off():
                    await proxy.cut()
                    await expect(offline).to_be_visible()
                    # The handset's AML arrives while the console cannot hear: stored, on the call's timeline.
                    status, body = await post_form(http, https_form(number))
                    assert status == 200 and body["call_id"] is not None, body
                    await page.wait_for_timeout(1500)  # a few reconnect attempts fail meanwhile
                    await expect(offline).to_be_visible()
                    await proxy.open()
                    await expect(offline).to_be_hidden(timeout=30_000)
                    await expect(card.locator(".fixes li[data-source=aml]")).to_be_visible()
                await expect(card.locator(".timeline")).to_contain_text(LOCATED)
                await assert_one_card(page, number)
                # The new connection follows the call again: the hang-up reaches the card.
                await hang_up(service, number, caller)
                await expect(card.locator(".card-status")).to_have_text(ENDED, timeout=15_000)
                await assert_one_card(page, number)
            finally:
                caller.cancel()
    finally:
        await proxy.cut()


@pytest.fixture
async def restartable(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> AsyncIterator[list[Service]]:
    """The running services of a test that restarts its own (one at a time, on the same port and spool); whichever
    is running at the end is stopped."""
    running = [await started(Service(service_settings(clean_database, tmp_path / "spool")))]
    try:
        yield running
    finally:
        for service in running:
            await service.stop()


async def test_the_card_is_restored_after_the_service_restarts_mid_call(
    browser: Browser, built_console: Path, restartable: list[Service], tmp_path: Path
) -> None:
    [first] = restartable
    await empty_queue(first)
    number = unique_mobile_number()
    async with (
        registered_operator_phone(
            first, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
        ),
        watched_page(browser, f"http://127.0.0.1:{first.settings.http_port}") as console,
    ):
        page = console.page
        await sign_in_ready(console, "rina")
        caller = asyncio.create_task(intake_call(number=number, hold_ms=CALLER_HOLD_MS))
        try:
            card = await talking_card(page, number)
            offline = page.locator(".stream-offline")
            async with console.service_cut_off():
                # Stopped while the caller talks to the operator (the call stays up in Asterisk's queue), then a
                # new service on the same port: the console's session is in PostgreSQL and still holds.
                restartable.remove(first)
                await first.stop()
                await expect(offline).to_be_visible()
                second = await started(Service(first.settings))
                restartable.append(second)
                await expect(offline).to_be_hidden(timeout=30_000)
                await assert_one_card(page, number)
            await expect(card.locator(".card-status")).to_have_text(TALKING)
            # Read from the new service: it took the call up again from Asterisk and says so on the timeline.
            await expect(card.locator(".timeline")).to_contain_text("Dipantau lagi setelah layanan mulai ulang")
            await hang_up(second, number, caller)
            await expect(card.locator(".card-status")).to_have_text(ENDED, timeout=15_000)
            await assert_one_card(page, number)
        finally:
            caller.cancel()

    # The record is whole across the restart: one call, answered by rina, ended once, its intake timeline intact.
    await second.journal.flushed()
    [call] = await calls_from(second, e164(number))
    assert call.operator == "rina" and call.ended_at is not None
    types = [event.type for event in await timeline(second, call.id)]
    assert_complete_timeline(types)
    assert types.count("operator_answered") == 1 and "tracking_resumed" in types, types
