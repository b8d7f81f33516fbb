"""A supervisor barges into an operator's call from the wallboard, in a real browser against the real service,
Asterisk and PostgreSQL: a SIPp caller is answered by the operator's phone (SIPp UAS), the supervisor presses Sela
with the keyboard, their phone (another SIPp UAS) is rung and answers into ChanSpy with barge; the wallboard shows
the listen live, and Berhenti hangs it up. Screenshot: docs/screenshots/wallboard-barge.png."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from ntpd112.app import Service
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import Call
from tests.integration.agents import SippAgent, running
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.conftest import empty_queue, password_hash, wait_until
from tests.integration.test_queue import call_and_wait
from tests.integration.test_supervisor_listen import channels, spy_channel

pytestmark = pytest.mark.integration

CALL_HOLD_MS = 25_000  # the caller talks long enough for the barge and the screenshot


async def test_a_supervisor_barges_into_a_call_from_the_wallboard(console: Watched, service: Service) -> None:
    await empty_queue(service)
    operator_phone = SippAgent("operator.xml", "127.0.0.31")
    supervisor_phone = SippAgent("operator.xml", "127.0.0.41")
    call: asyncio.Task[Call] | None = None
    async with running(operator_phone, supervisor_phone):
        await service.operators.add(NewOperator(username="rina", name="Rina Wulandari", contact=operator_phone.contact))
        # The supervisor's phone is made as an operator's is (role supervisor): the same directory, one name space.
        await service.operators.add(
            NewOperator(username="sinta", name="Sinta Dewi", role="supervisor", contact=supervisor_phone.contact)
        )
        await service.accounts.users.set_password("sinta", password_hash(OPERATOR_PASSWORD), must_change=False)
        try:
            await service.operators.login("rina")
            # caller.xml sends audio (RTP), as every real phone does: see docs/SUPERVISOR_LISTEN.md for what
            # ChanSpy does on a call with no audio at all.
            call = asyncio.create_task(call_and_wait(service, "telkomsel", hold_ms=CALL_HOLD_MS))
            page = console.page
            await page.goto(console.url("/login"))
            await sign_in(console, "sinta", OPERATOR_PASSWORD)
            await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
            await page.goto(console.url("/wallboard"))
            board = page.get_by_test_id("wallboard")
            rina = board.locator("[data-testid=wall-operators] [data-username=rina]")
            await expect(rina).to_have_attribute("data-state", "on_call", timeout=20_000)
            controls = rina.get_by_test_id("spy-rina")
            await expect(controls.get_by_role("button")).to_have_text(["Dengar", "Bisik", "Sela"])
            # Nobody else on the board is on a call: no controls there.
            await expect(board.locator("[data-username=sinta] .spy-controls")).to_have_count(0)

            # By keyboard: focus Sela, press Enter.
            barge = controls.get_by_role("button", name="Sela")
            await barge.focus()
            await page.keyboard.press("Enter")
            state = controls.locator(".spy-state")
            # Ringing, then (the phone answered: the stream says so) listening in barge mode.
            await expect(state).to_have_attribute("data-state", "listening", timeout=15_000)
            await expect(state).to_have_attribute("data-mode", "barge")
            await expect(state).to_contain_text("Anda menyela panggilan")
            await expect(barge).to_have_attribute("aria-pressed", "true")
            spying = await spy_channel(service, "sinta")
            assert spying is not None and spying.application_data.startswith("PJSIP/rina-")
            assert spying.application_data.endswith(",qESB")
            await console.screenshot("wallboard-barge")

            await controls.get_by_role("button", name="Berhenti").press("Enter")
            await expect(state).to_have_count(0)

            async def supervisor_hung_up() -> bool:
                return not any(c.endpoint == "sinta" for c in await channels(service))

            await wait_until(supervisor_hung_up, timeout=10)
            await expect(barge).to_have_attribute("aria-pressed", "false")
        finally:
            if call is not None:
                call.cancel()
            await empty_queue(service)
            for username in ("rina", "sinta"):
                await service.operators.remove(username)
