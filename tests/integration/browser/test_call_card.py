"""The call card in a real browser against the real service, Asterisk and PostgreSQL: a baresip softphone answers
as the signed-in operator, a SIPp 112 caller with P-Access-Network-Info and a PIDF-LO body rings, the card pops up
over the live stream with the number, both fixes on the map and the kecamatan; the operator classifies by key
(checked in PostgreSQL), drops a pin, plays the ended call's recording, closes the card, and marks the next call a
prank in two keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Locator, Route, expect
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.audit import AuditQuery
from ntpd112.store.models import Call, Incident, LocationFixRow
from ntpd112.web.call_routes import RECORDING_ACTION
from tests.integration import pidf
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in_ready
from tests.integration.conftest import empty_queue, unique_mobile_number, wait_until
from tests.integration.intake_calls import e164, intake_call
from tests.integration.sipp import SippResult
from tests.integration.softphone import registered_operator_phone
from tests.integration.test_intake import CELLS, import_pamulang, load_cells

pytestmark = pytest.mark.integration

CALLER_AT = (-6.2885, 106.718)  # inside Pamulang Barat (below)


async def incident_for(service: Service, number: str) -> Incident | None:
    async with service.database.session() as session:
        statement = select(Incident).join(Call, Call.id == Incident.call_id).where(Call.caller_number == e164(number))
        return (await session.scalars(statement)).one_or_none()


async def operator_pins(service: Service, number: str) -> list[LocationFixRow]:
    async with service.database.session() as session:
        statement = (
            select(LocationFixRow)
            .join(Call, Call.id == LocationFixRow.call_id)
            .where(Call.caller_number == e164(number), LocationFixRow.source == "operator")
        )
        return list((await session.scalars(statement)).all())


async def inside_both(first: Locator, second: Locator) -> tuple[float, float]:
    """A point 30% across and 60% down the overlap of two elements' boxes on the page."""
    a, b = await first.bounding_box(), await second.bounding_box()
    assert a is not None and b is not None
    left, top = max(a["x"], b["x"]), max(a["y"], b["y"])
    right, bottom = min(a["x"] + a["width"], b["x"] + b["width"]), min(a["y"] + a["height"], b["y"] + b["height"])
    assert right > left and bottom > top, (a, b)
    return left + (right - left) * 0.3, top + (bottom - top) * 0.6


async def test_card_pops_with_the_location_and_is_classified_by_keys(
    console: Watched, service: Service, tmp_path: Path
) -> None:
    await empty_queue(service)
    assert (await load_cells(service, tmp_path))[0] == 0
    assert (await import_pamulang(service, tmp_path)).code == 0
    calls: list[asyncio.Task[SippResult]] = []
    async with registered_operator_phone(
        service, tmp_path / "baresip", "rina", "Rina Wulandari", "127.0.0.38", password=OPERATOR_PASSWORD
    ):
        try:
            page = console.page
            await sign_in_ready(console, "rina")

            # A caller with a cell (P-Access-Network-Info) and a handset fix (PIDF-LO circle of 40 m).
            first = unique_mobile_number()
            calls.append(
                asyncio.create_task(
                    intake_call(
                        number=first,
                        headers=(f"P-Access-Network-Info: {CELLS['lte'][0]}",),
                        pidf=pidf.circle(*CALLER_AT, 40),
                        hold_ms=6000,
                    )
                )
            )
            card = page.get_by_test_id("call-card")
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(first), timeout=20_000)
            await expect(card.locator(".number-local")).to_have_text(f"{first[:4]}-{first[4:8]}-{first[8:]}")
            await expect(card.locator(".fixes li[data-source=cell]")).to_be_visible()
            await expect(card.locator(".fixes li[data-source=pidf]")).to_contain_text("terbaik")
            await expect(card.get_by_test_id("area")).to_contain_text("Pamulang")
            await expect(card.locator("path.fix-cell")).to_have_count(1)
            await expect(card.locator("path.fix-pidf.fix-best")).to_have_count(1)
            await expect(card.locator(".card-status")).to_have_text("Sedang bicara")
            # The queue badge follows the phone (app_queue's member state), not just "in the queue, not paused".
            await expect(page.locator("header [data-queue-state]")).to_have_attribute("data-queue-state", "onCall")
            await expect(page.locator("header [data-queue-state]")).to_have_text("Dalam panggilan")
            # The area boundaries are the base map: two outlines drawn from GET /api/areas.
            await expect(card.locator(".map path:not(.fix)")).not_to_have_count(0)
            await console.screenshot("card-map")
            # At 1366x768 nothing the operator needs mid-call is below the fold: caller, map, every category key,
            # the outcome keys, the form, Done and the dispatch panel are whole on screen without scrolling.
            for needed in (
                card.get_by_test_id("caller-number"),
                card.get_by_test_id("map"),
                card.locator(".category-keys"),
                card.locator(".outcomes"),
                card.get_by_test_id("incident-address"),
                card.locator(".card-done button"),
                card.get_by_test_id("dispatch-panel"),
                card.get_by_test_id("area"),
            ):
                await expect(needed).to_be_in_viewport(ratio=1)

            # O opens the best fix on OpenStreetMap in a new tab, only when asked. The tab's request is answered
            # here in the browser: nothing leaves this machine.
            external = "https://www.openstreetmap.org/"

            async def answer_here(route: Route) -> None:
                await route.fulfill(body="peta", content_type="text/html")

            await page.context.route(f"{external}**", answer_here)
            async with page.context.expect_page() as opened:
                await page.keyboard.press("o")
            tab = await opened.value
            await tab.wait_for_load_state()
            assert tab.url == f"{external}?mlat=-6.28850&mlon=106.71800#map=17/-6.28850/106.71800"
            await tab.close()

            # 2 = fire, the second incident category of the default table; the key is shown on its button.
            await expect(card.locator("[data-category=fire] kbd")).to_have_text("2")
            await page.keyboard.press("2")
            await expect(card.get_by_test_id("classified")).to_have_text("Klasifikasi: Kebakaran")
            stored = await incident_for(service, first)
            assert stored is not None and stored.category == "fire" and stored.severity == "critical"
            assert stored.area == "Pamulang" and stored.lat == pytest.approx(CALLER_AT[0])

            # The incident form saves as the operator types (A focuses the address; Esc leaves the field).
            await page.keyboard.press("a")
            await page.keyboard.type("Jl. Siliwangi 12, depan masjid")
            await expect(card.locator(".save-state")).to_have_text("Tersimpan")
            await page.keyboard.press("Escape")

            async def address_saved() -> bool:
                incident = await incident_for(service, first)
                return incident is not None and incident.address == "Jl. Siliwangi 12, depan masjid"

            await wait_until(address_saved)

            # M arms the pin, a click drops it: a fix of source operator, shown on the card and on the map.
            await page.keyboard.press("m")
            await expect(card.locator(".map-hint")).to_be_visible()
            the_map = card.get_by_test_id("map")
            await expect(the_map).to_be_in_viewport()
            # Inside kelurahan Pamulang Barat (its dashed outline), west of the caller, within the map's view.
            x, y = await inside_both(the_map, card.locator(".map path[stroke-dasharray]"))
            await page.mouse.click(x, y)
            await expect(card.locator(".fixes li[data-source=operator]")).to_be_visible()
            # The pin is the best location now, and its area is looked up: still the caller's kelurahan.
            await expect(card.get_by_test_id("area")).to_contain_text("Pamulang, Pamulang Barat")
            await expect(card.locator("path.fix-operator")).to_have_count(1)
            await expect(card.locator(".map-pin")).to_have_count(1)
            [pin] = await operator_pins(service, first)
            assert pin.lat is not None and pin.radius_m == 50.0

            # Done only once the call has ended (the caller hangs up: the stream says so).
            await expect(card.locator(".card-status")).to_have_text("Panggilan berakhir", timeout=15_000)
            # The ended card plays the call's recording: V starts it and the browser fetches the WAV from the
            # service (CSP media from 'self'), which audits the playback.
            player = card.get_by_test_id("recording").locator("audio")
            await expect(player).to_be_visible()
            async with page.expect_response(lambda answer: answer.url.endswith("/recording")) as fetched:
                await page.keyboard.press("v")
            assert (await fetched.value).status in (200, 206)
            await expect(player).to_have_js_property("paused", False)
            assert await service.accounts.audit.query(AuditQuery(action=RECORDING_ACTION, user="rina"))
            await console.screenshot("card-classified")
            await page.keyboard.press("d")
            await expect(card).to_have_count(0)
            await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()

            # A prank in two keys: X opens the outcomes (shown), 1 picks the first, prank. The caller waits out the
            # operator's wrap-up after the first call (room.toml, 10 s) before the queue rings the phone again.
            second = unique_mobile_number()
            calls.append(asyncio.create_task(intake_call(number=second, hold_ms=14_000)))
            await expect(card.get_by_test_id("caller-number")).to_have_text(e164(second), timeout=20_000)
            await page.keyboard.press("x")
            await expect(card.locator(".choice-hint")).to_be_visible()
            await expect(card.locator("[data-category=prank] kbd")).to_have_text("X 1")
            await console.screenshot("card-outcome-choice")
            await page.keyboard.press("1")
            await expect(card.get_by_test_id("classified")).to_have_text("Klasifikasi: Panggilan iseng")
            prank = await incident_for(service, second)
            assert prank is not None and prank.category == "prank" and prank.severity is None
            for call in calls:
                result = await call
                assert result.succeeded, result.output
        finally:
            for call in calls:
                call.cancel()
