"""A supervisor's queue control from the wallboard in a real browser against the real service, Asterisk and
PostgreSQL: with the one operator on a call (SIPp phone) and a second caller waiting in app_queue, the supervisor
pulls the waiting call to their own phone (SIPp) with the keyboard; the phone answers and the waiting list
empties, live, and she shows on the call with the caller. Screenshots: docs/screenshots/wallboard-queue-controls.png,
wallboard-pulled-call.png."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from ntpd112.app import Service
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.conftest import empty_queue, password_hash
from tests.integration.test_queue import add_phone
from tests.integration.test_queue_controls import Caller

pytestmark = pytest.mark.integration


async def test_a_supervisor_pulls_a_waiting_call_to_their_own_phone_from_the_wallboard(
    console: Watched, service: Service
) -> None:
    await empty_queue(service)
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    own_phone = SippAgent("operator.xml", "127.0.0.41")
    async with running(operator_phone, own_phone):
        await add_phone(service, "rina", operator_phone)
        await add_phone(service, "sinta", own_phone, role="supervisor")
        await service.accounts.users.set_password("sinta", password_hash(OPERATOR_PASSWORD), must_change=False)
        await service.operators.login("rina")
        talking = Caller(service, "telkomsel", hold_ms=25_000)
        await talking.answered_by("rina")
        waiting = Caller(service, "indosat", hold_ms=15_000)
        await waiting.waiting()

        page = console.page
        await page.goto(console.url("/login"))
        await sign_in(console, "sinta", OPERATOR_PASSWORD)
        await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
        await page.goto(console.url("/wallboard"))
        board = page.get_by_test_id("wallboard")
        await expect(board.get_by_test_id("waiting-count")).to_have_text("1", timeout=10_000)
        sinta = board.locator("[data-testid=wall-operators] [data-username=sinta]")
        await expect(sinta).to_have_attribute("data-state", "logged_out")
        controls = board.locator("[data-testid=wall-waiting] [data-testid=waiting-controls]")
        await expect(controls.get_by_role("button", name="Naikkan prioritas", exact=False)).to_be_visible()
        # Rina, on a call, has both operator controls; the chooser will not offer her busy phone.
        rina = board.locator("[data-testid=wall-operators] [data-username=rina]")
        await expect(rina).to_have_attribute("data-state", "on_call")
        await expect(rina.get_by_role("button", name="Jeda paksa Rina")).to_be_visible()
        await expect(rina.get_by_role("button", name="Keluarkan Rina dari antrean")).to_be_visible()

        # By keyboard: focus "Tarik ke …", Enter opens the chooser with the focus in it, Tab to "Tarik", Enter.
        pull = controls.locator("button[aria-expanded]")
        await pull.focus()
        await page.keyboard.press("Enter")
        chooser = controls.get_by_test_id("pull-target")
        await expect(chooser).to_be_focused()
        await expect(chooser.locator("option")).to_have_text(["Saya (Sinta)"])
        await console.screenshot("wallboard-queue-controls")
        await page.keyboard.press("Tab")
        await expect(controls.get_by_role("button", name="Tarik", exact=True)).to_be_focused()
        await page.keyboard.press("Enter")

        await expect(controls.get_by_test_id("qc-outcome")).to_contain_text("Telepon Sinta berdering")
        await expect(board.get_by_test_id("waiting-count")).to_have_text("0", timeout=15_000)
        # Sinta is not in the queue, yet she talks with the pulled caller: the wallboard shows her on that call, with
        # the caller, not "Di luar antrean" (reports/wallboard.py operator_state).
        call = await waiting.answered_by("sinta", timeout=5)
        assert call.operator == "sinta" and call.caller_number is not None
        await expect(sinta).to_have_attribute("data-state", "on_call", timeout=5_000)
        await expect(sinta).to_contain_text("Menerima panggilan")
        await expect(sinta).to_contain_text(call.caller_number[-4:])
        # On the call but out of the queue, and it is her own: nothing to pause, log out or listen to.
        await expect(sinta.get_by_test_id("operator-controls").get_by_role("button")).to_have_count(0)
        await expect(sinta.get_by_test_id("spy-sinta")).to_have_count(0)
        await console.screenshot("wallboard-pulled-call")
        await waiting.finished()
        await talking.finished()
