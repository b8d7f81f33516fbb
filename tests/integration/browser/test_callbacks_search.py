"""The operator console's callback list and call search in Chromium, against the real service, Asterisk and
PostgreSQL: a caller who hangs up in the queue appears on an open callback list by the live stream alone (the
console does not poll), the operator takes it with a digit, and the call search finds the past call by its number
typed in the local format and opens it read only."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.models import Call
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, add_operator, sign_in
from tests.integration.conftest import calls_from, empty_queue, unique_mobile_number, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.test_queue import add_phone

pytestmark = pytest.mark.integration


async def test_abandoned_call_on_the_callback_list_then_found_by_the_search(console: Watched, service: Service) -> None:
    await empty_queue(service)
    await add_operator(service, "sari", "Sari")  # at the console, not in the queue
    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, "sari", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await page.keyboard.press("h")
    callback_list = page.get_by_test_id("callback-list")
    await expect(callback_list.get_by_text("Tidak ada panggilan yang perlu ditelepon balik.")).to_be_visible()

    # A caller waits for a phone in the queue that never answers, and hangs up past the phantom threshold (5 s):
    # onto the callback list, an abandoned call in the reports and the search.
    away = SippAgent("operator-noanswer.xml", "127.0.0.31")
    number = unique_mobile_number()
    local = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    async with running(away):
        await add_phone(service, "op1", away)
        await service.operators.login("op1")
        result = await run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": number, "caller_name": "Dewi Lestari"},
            hold_ms=7000,
        )
        assert result.succeeded, result.output
        await wait_until(lambda: not service.calls.active)
    [call] = await calls_from(service, "+62" + number[1:])
    row = callback_list.locator(f"tr[data-call-id='{call.id}']")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row).to_contain_text(local)
    await expect(row).to_contain_text("Menutup saat antre")
    await expect(row).to_have_attribute("data-status", "pending")
    await console.screenshot("callbacks")

    # The first digit calls the first (oldest) caller back: the service claims the item for this operator.
    await page.keyboard.press("1")

    async def taken() -> bool:
        async with service.database.session() as session:
            item = await session.get(Call, call.id)
        return item is not None and item.callback_taken_by == "sari" and item.callback_attempts == 1

    await wait_until(taken, timeout=10)
    # Sari's phone is not registered, so the attempt fails and the item waits again; the list follows live.
    await expect(row).to_have_attribute("data-status", "failed", timeout=15_000)
    await service.operators.remove("op1")

    # The search: F, the number as people write it, Enter; the row opens the past call read only.
    await page.keyboard.press("Escape")
    await page.keyboard.press("f")
    search = page.get_by_test_id("call-search")
    await expect(search.locator("input[name=number]")).to_be_focused()
    await page.keyboard.type(local)
    await page.keyboard.press("Enter")
    result_row = search.locator(f".search-results tr[data-call-id='{call.id}']")
    await expect(result_row).to_contain_text("Ditutup saat antre")
    await expect(search.locator(".search-results tbody tr")).to_have_count(1)
    await console.screenshot("search")
    await result_row.click()
    card = search.get_by_test_id("call-card")
    await expect(card.get_by_test_id("caller-number")).to_have_text("+62" + number[1:])
    await expect(card.locator(".timeline")).to_contain_text("Penelepon menutup saat menunggu")
    # How the call ended, in words by its cause code (Asterisk's own text is English: "Normal Clearing").
    await expect(card.locator(".timeline")).to_contain_text("Panggilan berakhir · ditutup normal")
    await expect(card.get_by_test_id("past-incident")).to_contain_text("Belum diklasifikasi")
    await expect(card.get_by_test_id("map")).to_be_visible()
    await expect(card.locator(".category-keys")).to_have_count(0)  # read only: no classification keys
    await console.screenshot("search-call")
    async with service.database.session() as session:
        assert await session.scalar(select(Call.callback_status).where(Call.id == call.id)) == "failed"
