"""The console's first slice in a real browser: sign-in, the forced password change, the language, the operator's
queue state (checked in Asterisk too) and the keyboard help."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Locator, Route, expect

from ntpd112.app import Service
from ntpd112.queue.operators import interface
from tests.integration.browser.conftest import DESK_SCREEN, OPERATOR_PASSWORD, Watched, add_operator, sign_in
from tests.integration.conftest import empty_queue, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Pages of a running service, each test in a browser context of its own, with empty tables: no test here needs a
    # fresh service (the one that runs into the attempt limit does it with a user of its own, below the address's).
    return shared_service


async def test_the_service_sends_the_console_under_a_strict_csp(console: Watched) -> None:
    response = await console.page.goto(console.url("/operator"))
    assert response is not None and response.status == 200
    headers = await response.all_headers()
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "style-src 'self'" in headers["content-security-policy"]
    html = await response.text()
    # No inline script or style in the built page: the CSP would refuse it.
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    await expect(console.page).to_have_url(console.url("/login"))


async def test_wrong_password_then_right_one(console: Watched, service: Service) -> None:
    await add_operator(service, "budi", "Budi Santoso")
    page = console.page
    await page.goto(console.url("/"))
    await expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    await console.screenshot("login")

    await sign_in(console, "budi", "bukan-sandinya")
    await expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah.")
    await expect(page.get_by_label("Kata sandi")).to_have_value("")

    await sign_in(console, "budi", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await expect(page).to_have_url(console.url("/operator"))
    await expect(page.locator(".who-name")).to_have_text("Budi Santoso")
    await expect(page.locator("header [data-queue-state]")).to_have_attribute("data-queue-state", "out")

    # The session is a cookie: a reload keeps the operator signed in; signing out ends it on the service.
    await page.reload()
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await page.keyboard.press("Alt+q")
    await expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    await page.goto(console.url("/operator"))
    await expect(page).to_have_url(console.url("/login"))


async def test_too_many_attempts_says_how_long_to_wait(console: Watched, service: Service) -> None:
    await add_operator(service, "sari", "Sari Dewi")
    page = console.page
    await page.goto(console.url("/login"))
    for _ in range(5):
        await sign_in(console, "sari", "salah-lagi")
        await expect(page.get_by_role("alert")).to_have_text("Nama pengguna atau kata sandi salah.")
    await sign_in(console, "sari", OPERATOR_PASSWORD)
    await expect(page.get_by_role("alert")).to_contain_text("Terlalu banyak percobaan. Coba lagi dalam")
    await expect(page.get_by_role("alert")).to_contain_text("menit")
    await expect(page.get_by_role("button", name="Masuk", exact=True)).to_be_disabled()


async def test_a_forced_password_change_comes_first(console: Watched, service: Service) -> None:
    await add_operator(service, "wayan", "Wayan Sudarma", must_change_password=True)
    page = console.page
    await page.goto(console.url("/operator"))
    await sign_in(console, "wayan", OPERATOR_PASSWORD)
    await expect(page.get_by_role("heading", name="Ganti kata sandi")).to_be_visible()
    await expect(page).to_have_url(console.url("/password"))
    # The operator screen stays closed until the password is changed.
    await page.goto(console.url("/operator"))
    await expect(page).to_have_url(console.url("/password"))

    await page.get_by_label("Kata sandi sekarang").fill(OPERATOR_PASSWORD)
    await page.get_by_label("Kata sandi baru", exact=True).fill("pendek")
    await page.get_by_label("Ulangi kata sandi baru").fill("pendek")
    await page.get_by_role("button", name="Simpan kata sandi").click()
    await expect(page.get_by_role("alert")).to_contain_text("Kata sandi baru terlalu lemah")

    new_password = "Sore-Hujan-Di-Denpasar-7"
    await page.get_by_label("Kata sandi sekarang").fill(OPERATOR_PASSWORD)
    await page.get_by_label("Kata sandi baru", exact=True).fill(new_password)
    await page.get_by_label("Ulangi kata sandi baru").fill(new_password)
    await page.get_by_role("button", name="Simpan kata sandi").click()
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    user = await service.accounts.users.get("wayan")
    assert user is not None and user.must_change_password is False


async def test_the_language_switches_and_is_remembered(console: Watched, service: Service) -> None:
    await add_operator(service, "rina", "Rina Marlina")
    page = console.page
    await page.goto(console.url("/login"))
    await expect(page.locator("html")).to_have_attribute("lang", "id")
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "en")

    await page.get_by_label("Username").fill("rina")
    await page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_text("Waiting for calls")).to_be_visible()
    await page.reload()
    await expect(page.get_by_text("Waiting for calls")).to_be_visible()

    await page.keyboard.press("Alt+b")
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "id")


async def signed_in_out_of_queue(console: Watched, service: Service, username: str, name: str) -> Locator:
    """A new operator signed in on the console, out of the queue; the header's queue badge."""
    await empty_queue(service)
    await add_operator(service, username, name)
    await console.page.goto(console.url("/login"))
    await sign_in(console, username, OPERATOR_PASSWORD)
    badge = console.page.locator("header [data-queue-state]")
    await expect(badge).to_have_text("Di luar antrean")
    return badge


async def test_operator_joins_pauses_with_a_reason_and_resumes(console: Watched, service: Service) -> None:
    badge = await signed_in_out_of_queue(console, service, "dewi", "Dewi Lestari")
    page = console.page
    await console.screenshot("idle")

    async def asterisk_shows(paused: bool | None) -> bool:
        """Whether app_queue has dewi paused (True), taking calls (False) or not as a member at all (None)."""
        member = (await service.operators.queue_members()).get(interface("dewi"))
        return (None if member is None else member.paused) == paused

    await page.keyboard.press("l")
    await expect(badge).to_have_text("Siap menerima panggilan")
    await wait_until(lambda: asterisk_shows(False))
    # Dewi's phone never registered: in the queue, no call can reach her, and the header says so (the page stays
    # 1366 pixels wide with the alert in it).
    offline = page.locator("header").get_by_test_id("phone-offline")
    await expect(offline).to_have_text("Telepon tidak terdaftar")
    await expect(offline).to_be_in_viewport(ratio=1)
    assert (await service.operators.get("dewi")).phone_state == "unavailable"
    assert await page.evaluate("document.documentElement.scrollWidth") <= DESK_SCREEN["width"]

    await page.keyboard.press("p")
    await expect(page.get_by_role("group", name="Pilih alasan jeda")).to_be_visible()
    await page.keyboard.press("3")  # wrap-up
    await expect(badge).to_have_text("Jeda: Menyelesaikan laporan")
    await wait_until(lambda: asterisk_shows(True))
    view = await service.operators.get("dewi")
    assert view.paused and view.pause_reason == "wrap-up"
    await console.screenshot("paused")

    await page.get_by_role("button", name="Lanjutkan").click()
    await expect(badge).to_have_text("Siap menerima panggilan")
    await wait_until(lambda: asterisk_shows(False))

    await page.keyboard.press("l")
    await expect(badge).to_have_text("Di luar antrean")
    await wait_until(lambda: asterisk_shows(None))


async def test_a_key_pressed_while_the_last_action_is_answered_still_acts(console: Watched, service: Service) -> None:
    # The live stream can show an action's result before the action's own answer reaches the page; a key pressed on
    # what the page shows must act then, not be dropped because an answer is still on its way (seen in CI: L pressed
    # right after a resume was lost, and the operator stayed in the queue).
    badge = await signed_in_out_of_queue(console, service, "rina", "Rina Wati")
    page = console.page

    held: asyncio.Queue[Route] = asyncio.Queue()
    await page.route("**/api/operators/rina/login", held.put_nowait)
    await page.keyboard.press("l")
    login = await asyncio.wait_for(held.get(), timeout=10)
    answer = await login.fetch()  # the service has let rina in; the page has not had its answer yet
    await expect(badge).to_have_text("Siap menerima panggilan")  # the stream's news
    await page.keyboard.press("l")
    await login.fulfill(response=answer)

    await expect(badge).to_have_text("Di luar antrean")
    await wait_until(lambda: operator_is_out(service, "rina"))


async def operator_is_out(service: Service, username: str) -> bool:
    members = await service.operators.queue_members()
    return interface(username) not in members and not (await service.operators.get(username)).logged_in


async def test_keyboard_help_opens_and_closes_without_trapping_focus(console: Watched, service: Service) -> None:
    await add_operator(service, "agus", "Agus Salim")
    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, "agus", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()

    help_dialog = page.get_by_role("dialog", name="Tombol pintas")
    await page.keyboard.press("?")
    await expect(help_dialog).to_be_visible()
    for key in ("L", "P", "R", "Esc", "F1"):
        await expect(help_dialog.locator("kbd", has_text=key).first).to_be_visible()
    await expect(help_dialog.get_by_role("button", name="Tutup")).to_be_focused()
    await console.screenshot("help")

    # Not a modal: Shift+Tab leaves the overlay for the page behind it.
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("!document.activeElement.closest('[role=dialog]')")

    await page.keyboard.press("Escape")
    await expect(help_dialog).to_be_hidden()
    await page.keyboard.press("F1")
    await expect(help_dialog).to_be_visible()
    await page.keyboard.press("F1")
    await expect(help_dialog).to_be_hidden()


async def test_a_session_ended_on_the_service_brings_back_the_login(console: Watched, service: Service) -> None:
    await add_operator(service, "yusuf", "Yusuf Maulana")
    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, "yusuf", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await service.accounts.users.disable("yusuf")  # every session of the user ends now

    await page.keyboard.press("l")
    await expect(page.get_by_role("heading", name="Masuk")).to_be_visible()
    await expect(page).to_have_url(console.url("/login"))
