"""The wallboard in a real browser against the real service, Asterisk and PostgreSQL: a supervisor watches a small
SIPp surge (three callers and no operator in the queue: the waiting count and the longest wait change live), then
an operator with a baresip phone joins the queue and the phone answers the next caller (their state changes live);
TV mode by key. Screenshots: docs/screenshots/wallboard-surge.png, wallboard.png and wallboard-tv.png."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import expect

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.conftest import empty_queue, unique_mobile_number, user_token
from tests.integration.intake_calls import intake_call
from tests.integration.sipp import SippResult
from tests.integration.softphone import registered_operator_phone

pytestmark = pytest.mark.integration

CALLERS = 3
SURGE_HOLD_MS = 9_000  # the surge's callers give up after this
CALL_HOLD_MS = 12_000  # the answered caller talks long enough for the screenshots


async def test_the_wallboard_follows_a_surge_live(console: Watched, service: Service, tmp_path: Path) -> None:
    await empty_queue(service)
    await user_token(service, "sinta", "supervisor")
    await service.accounts.users.set_password("sinta", hash_password(OPERATOR_PASSWORD), must_change=False)
    calls: list[asyncio.Task[SippResult]] = []
    async with registered_operator_phone(
        service, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
    ):
        try:
            page = console.page
            await page.goto(console.url("/login"))
            await sign_in(console, "sinta", OPERATOR_PASSWORD)
            await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
            await page.goto(console.url("/wallboard"))
            board = page.get_by_test_id("wallboard")
            await expect(board.get_by_text("Langsung")).to_be_visible()
            rina = board.locator("[data-testid=wall-operators] [data-username=rina]")
            await expect(rina).to_have_attribute("data-state", "logged_out")
            await expect(rina.locator(".wall-phone")).to_have_attribute("data-registered", "true")
            await expect(board.get_by_test_id("waiting-count")).to_have_text("0")
            await expect(board.get_by_test_id("longest-wait")).to_have_text("\u2013")  # an en dash: nobody waits

            # The surge: three callers and nobody in the queue. app_queue takes no caller then (joinempty): the
            # calls go on to the supervisors and the backup number, and back, until someone answers. The
            # wallboard counts them from the records, not from app_queue's (empty) queue.
            for _ in range(CALLERS):
                calls.append(asyncio.create_task(intake_call(number=unique_mobile_number(), hold_ms=SURGE_HOLD_MS)))
            await expect(board.get_by_test_id("waiting-count")).to_have_text(str(CALLERS), timeout=15_000)
            waiting = board.locator("[data-testid=wall-waiting] li.wall-waiting")
            await expect(waiting).to_have_count(CALLERS)
            await expect(waiting.locator(".wall-tag.overflow")).to_have_count(CALLERS)
            longest = board.get_by_test_id("longest-wait")
            first = await longest.text_content()
            await expect(longest).not_to_have_text(first or "", timeout=3_000)  # the wait runs on the page's clock
            await console.screenshot("wallboard-surge")
            for call in calls:
                result = await call
                assert result.succeeded, result.output
            await expect(board.get_by_test_id("waiting-count")).to_have_text("0", timeout=15_000)

            # Rina joins the queue (as L on her console does); the next caller rings her phone, which answers.
            await service.operators.login("rina")
            await expect(rina).to_have_attribute("data-state", "available")
            calls.append(asyncio.create_task(intake_call(number=unique_mobile_number(), hold_ms=CALL_HOLD_MS)))
            await expect(rina).to_have_attribute("data-state", "on_call", timeout=20_000)
            await expect(rina.locator(".wall-detail")).to_contain_text("dengan 0812-")
            await expect(board.get_by_test_id("waiting-count")).to_have_text("0")
            await console.screenshot("wallboard")

            # TV mode by key: no header, the strip and one panel at a time, in big type.
            await page.keyboard.press("w")
            await expect(board).to_have_attribute("data-tv", "queue")
            await expect(page.locator("header.frame-header")).to_have_count(0)
            await expect(board.locator("[data-username=rina]")).to_have_attribute("data-state", "on_call")
            await console.screenshot("wallboard-tv")
            await page.keyboard.press("Escape")
            await expect(board).to_have_attribute("data-tv", "off")
            result = await calls[-1]
            assert result.succeeded, result.output
            # Her call ended: a wrap-up (the test room's 1 s), then available again, on the page's clock.
            await expect(rina).to_have_attribute("data-state", "available", timeout=15_000)
        finally:
            for call in calls:
                call.cancel()
            await empty_queue(service)
