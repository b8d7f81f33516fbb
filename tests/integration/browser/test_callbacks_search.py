"""The operator console's callback list and call search in Chromium, against the real service, Asterisk and
PostgreSQL: a caller who hangs up in the queue appears on an open callback list by the live stream alone (the
console does not poll), the operator takes it with a digit, and the call search finds the past call by its number
typed in the local format and opens it read only. A callback taken with H and a digit rings the operator's baresip
phone and bridges the caller's phone (SIPp) to it. Another operator's call opens read only, and the requests its
card would send are refused for this operator, storing nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.models import Call, Incident, LocationFixRow
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, add_operator, sign_in
from tests.integration.conftest import calls_from, empty_queue, timeline, unique_mobile_number, wait_until
from tests.integration.intake_calls import e164, intake_call
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.softphone import registered_operator_phone
from tests.integration.test_queue import add_phone

pytestmark = pytest.mark.integration


def local_format(number: str) -> str:
    """A mobile number as people write it (0812-3456-7890)."""
    return f"{number[:4]}-{number[4:8]}-{number[8:]}"


async def search_number(page: Page, number: str) -> Locator:
    """F, the number as people write it, Enter: the search with its results."""
    await page.keyboard.press("f")
    search = page.get_by_test_id("call-search")
    await expect(search.locator("input[name=number]")).to_be_focused()
    await page.keyboard.type(local_format(number))
    await page.keyboard.press("Enter")
    return search


async def abandoned_call(service: Service, number: str) -> Call:
    """A caller waits in the queue for a phone that never answers and hangs up past the phantom threshold (5 s):
    onto the callback list, an abandoned call in the reports and the search."""
    away = SippAgent("operator-noanswer.xml", "127.0.0.31")
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
    await service.operators.remove("op1")
    await service.journal.flushed()
    [call] = await calls_from(service, e164(number))
    return call


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

    number = unique_mobile_number()
    call = await abandoned_call(service, number)
    row = callback_list.locator(f"tr[data-call-id='{call.id}']")
    await expect(row).to_be_visible(timeout=10_000)
    await expect(row).to_contain_text(local_format(number))
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

    # The search: F, the number as people write it, Enter; the row opens the past call read only.
    await page.keyboard.press("Escape")
    search = await search_number(page, number)
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


async def test_a_callback_taken_from_the_list_rings_the_operator_and_bridges_the_caller(
    console: Watched, service: Service, tmp_path: Path
) -> None:
    await empty_queue(service)
    call = await abandoned_call(service, unique_mobile_number())
    # The caller's phone, reached back through the trunk the call came in on: answers, talks 1.5 s, hangs up.
    callers_phone = SippAgent("phone-answers-then-hangs-up.xml", TRUNK_ADDRESSES["telkomsel"], hold_ms=1500)
    async with (
        registered_operator_phone(
            service, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
        ) as phone,
        running(callers_phone),
    ):
        page = console.page
        await page.goto(console.url("/login"))
        await sign_in(console, "rina", OPERATOR_PASSWORD)
        await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
        await page.keyboard.press("h")
        callback_list = page.get_by_test_id("callback-list")
        row = callback_list.locator(f"tr[data-call-id='{call.id}']")
        await expect(row).to_have_attribute("data-status", "pending")

        # H then 1: rina's phone rings (baresip answers by itself), then the service dials the caller and
        # bridges them; the list follows live, and the item leaves it once the callback is done.
        await page.keyboard.press("1")
        await expect(row).to_have_attribute("data-status", "calling")
        await expect(row).to_contain_text("rina")
        await expect(row).to_have_count(0, timeout=30_000)
        await expect(callback_list.get_by_text("Tidak ada panggilan yang perlu ditelepon balik.")).to_be_visible()
        assert "Call established" in phone.log, phone.log

    await service.journal.flushed()
    async with service.database.session() as session:
        done = await session.get(Call, call.id)
    assert done is not None
    assert (done.callback_status, done.callback_outcome) == ("done", "caller_answer")
    assert (done.callback_taken_by, done.callback_attempts) == ("rina", 1)
    events = {event.type: event for event in await timeline(service, call.id)}
    assert {"abandoned", "callback_started", "callback_finished"} <= set(events), list(events)


# What the operator's own console sends for a card, tried by another operator's page on a call not theirs.
TRY_ANOTHERS_CALL = """
async ({ callId, owner }) => {
  const tries = [
    ["PUT", `/api/calls/${callId}/incident`, { category: "fire" }],
    ["POST", `/api/calls/${callId}/locations`, { lat: -6.2, lon: 106.8 }],
    ["POST", `/api/calls/${callId}/dispatch`, { mode: "blind" }],
    ["GET", `/api/operators/${owner}/cards`, null],
  ];
  const answers = [];
  for (const [method, path, body] of tries) {
    const json = { "Content-Type": "application/json" };
    const init = body === null ? { method } : { method, headers: json, body: JSON.stringify(body) };
    const response = await fetch(path, init);
    answers.push({ status: response.status, ...(await response.json()).error });
  }
  return answers;
}
"""


async def test_an_operator_cannot_work_on_another_operators_call(console: Watched, service: Service) -> None:
    await empty_queue(service)
    await add_operator(service, "rina", "Rina")  # at the console, not in the queue
    # Ani's phone (a SIPp UAS) answers a real 112 call from the queue: the call is Ani's.
    anis_phone = SippAgent("operator.xml", "127.0.0.32")
    number = unique_mobile_number()
    async with running(anis_phone):
        await add_phone(service, "ani", anis_phone)
        await service.operators.login("ani")
        caller = asyncio.create_task(intake_call(number=number, hold_ms=2000))
        page = console.page
        await page.goto(console.url("/login"))
        await sign_in(console, "rina", OPERATOR_PASSWORD)
        await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
        result = await caller
        assert result.succeeded, result.output
    await service.operators.remove("ani")
    await service.journal.flushed()
    [call] = await calls_from(service, e164(number))
    assert call.operator == "ani"
    events_before = [event.type for event in await timeline(service, call.id)]

    # Rina finds Ani's call: the search opens it read only, with no classification keys.
    search = await search_number(page, number)
    await search.locator(f".search-results tr[data-call-id='{call.id}']").click()
    card = search.get_by_test_id("call-card")
    await expect(card.get_by_test_id("caller-number")).to_have_text(e164(number))
    await expect(card.locator(".category-keys")).to_have_count(0)
    # Her page sending what a card would (a stale or altered console): each refused, saying why.
    answers = await page.evaluate(TRY_ANOTHERS_CALL, {"callId": str(call.id), "owner": "ani"})
    theirs = {"status": 403, "id": "not_your_call", "message": "an operator works only on the calls they answered"}
    assert [{key: answer[key] for key in theirs} for answer in answers[:3]] == [theirs] * 3, answers
    assert (answers[3]["status"], answers[3]["id"]) == (403, "not_yourself"), answers

    # Nothing was stored: no incident, no pin, no dispatch; the call's timeline is as it was.
    async with service.database.session() as session:
        assert await session.scalar(select(Incident).where(Incident.call_id == call.id)) is None
        pins = await session.scalars(select(LocationFixRow).where(LocationFixRow.call_id == call.id))
        assert list(pins) == []
    assert [event.type for event in await timeline(service, call.id)] == events_before
