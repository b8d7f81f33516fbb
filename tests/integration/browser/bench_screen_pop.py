"""Screen-pop benchmark (issue 11): how soon the call card is on the operator's screen. A measurement, not a test:
it asserts only that every call popped, and `make bench-screen-pop` runs it (`make test` does not: its file name is
not a test's). Everything is real: SIPp callers through the trunk, Asterisk's queue ringing a baresip softphone
that answers by itself, the service's live stream, the console in Debian's Chromium.

Per call it takes two times from PostgreSQL, the moments the service heard app_queue ring the operator's phone
(AgentCalled) and the phone answer (AgentConnect, right after its 200 OK), and two from the page, read on the same
clock (`performance.timeOrigin + performance.now()`) by a MutationObserver: the card showing the caller's number,
and the card saying the operator is talking. The operator then marks the call a prank (X 1) and closes it (D), as
a shift's most common call goes. Results: printed, and written as JSON to $NTPD112_BENCH_OUT if set.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from datetime import datetime
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.models import Call, CallEvent
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in_ready
from tests.integration.conftest import empty_queue, unique_mobile_number
from tests.integration.intake_calls import e164, intake_call
from tests.integration.softphone import registered_operator_phone

pytestmark = pytest.mark.integration

CALLS = int(os.environ.get("NTPD112_BENCH_CALLS", "50"))
TALKING = "Sedang bicara"

# Records, per caller number, when the card first showed it and when it first said the operator is talking.
OBSERVER = """
(talking) => {
  window.__pops = {};
  const now = () => performance.timeOrigin + performance.now();
  const look = () => {
    for (const card of document.querySelectorAll('[data-testid="call-card"]')) {
      const number = card.querySelector('[data-testid="caller-number"]')?.textContent?.trim();
      if (!number) continue;
      const seen = (window.__pops[number] ??= { card: now(), talking: null });
      if (seen.talking === null && card.querySelector('.card-status')?.textContent?.trim() === talking) {
        seen.talking = now();
      }
    }
  };
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  look();
}
"""


async def queue_times(service: Service, number: str) -> tuple[datetime, datetime]:
    async with service.database.session() as session:
        statement = (
            select(CallEvent.type, CallEvent.at)
            .join(Call, Call.id == CallEvent.call_id)
            .where(Call.caller_number == e164(number), CallEvent.type.in_(["operator_ringing", "operator_answered"]))
            .order_by(CallEvent.at)
        )
        first: dict[str, datetime] = {}
        for event_type, at in await session.execute(statement):
            first.setdefault(event_type, at)
    return first["operator_ringing"], first["operator_answered"]


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "max": round(ordered[-1], 1),
        "min": round(ordered[0], 1),
    }


async def test_screen_pop_latency(console: Watched, service: Service, tmp_path: Path) -> None:
    await empty_queue(service)
    async with registered_operator_phone(
        service, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
    ):
        page = console.page
        await sign_in_ready(console, "rina")
        await page.evaluate(OBSERVER, TALKING)
        card = page.get_by_test_id("call-card")
        numbers = []
        for _ in range(CALLS):
            number = unique_mobile_number()
            numbers.append(number)
            result = await intake_call(number=number, hold_ms=2000)
            assert result.succeeded, result.output
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(number))
            await expect(card.locator(".card-status")).not_to_have_text(TALKING, timeout=10_000)
            await page.keyboard.press("x")
            await page.keyboard.press("1")
            await expect(card.get_by_test_id("classified")).to_be_visible()
            await page.keyboard.press("d")
            await expect(card).to_have_count(0)
        pops = await page.evaluate("window.__pops")

    ring_to_card, answer_to_talking = [], []
    for number in numbers:
        ringing_at, answered_at = await queue_times(service, number)
        seen = pops[e164(number)]
        ring_to_card.append(seen["card"] - ringing_at.timestamp() * 1000)
        answer_to_talking.append(seen["talking"] - answered_at.timestamp() * 1000)
    results = {
        "calls": len(numbers),
        "ring_to_card_ms": percentiles(ring_to_card),
        "answer_to_talking_ms": percentiles(answer_to_talking),
    }
    report = json.dumps(results, indent=2)
    print(report)
    if out := os.environ.get("NTPD112_BENCH_OUT"):
        await asyncio.to_thread(Path(out).write_text, report + "\n")
