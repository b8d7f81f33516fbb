"""Browser tests: Debian's Chromium driven by Playwright against a real service (real Asterisk and PostgreSQL)
serving the built console (webapp/dist, built by scripts/bootstrap.sh).

The service fixtures are tests/integration/conftest.py's, inherited by this folder. Importing them here instead
would define a second session-wide Asterisk fixture, and the process would wait forever for its own lock.

Every page a test opens is watched: a console error (a CSP violation included) or a request to anything but the
service's own origin fails the test at teardown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, async_playwright, expect

from ntpd112.app import Service
from ntpd112.paths import PROJECT_DIR, WEBAPP_BUILD_DIR
from ntpd112.queue.operators import NewOperator
from tests.integration.conftest import password_hash

pytestmark = pytest.mark.integration
SCREENSHOTS = PROJECT_DIR / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# As root in a container Chromium needs --no-sandbox; the rest keep it from reaching for Google's services, which
# this machine's closed network refuses (noise, and seconds at start-up).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESK_SCREEN = {"width": 1366, "height": 768}
OPERATOR_PASSWORD = "Merah-Putih-Pagi-112"
REFUSAL_LOG = "Failed to load resource: the server responded with a status of 4"
# What Chromium logs when the service cannot be reached at all: expected only while a test cuts it off.
UNREACHABLE_LOGS = ("Failed to load resource: net::ERR_", "WebSocket connection to ")


@dataclass
class Watched:
    """A page with what it did that a test must not let pass."""

    page: Page
    origin: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    # True while the test has cut the service off: the console's failed connections are expected then.
    cut_off: bool = False

    @contextlib.asynccontextmanager
    async def service_cut_off(self) -> AsyncIterator[None]:
        """While the test takes the service away (and until it has checked the console is back): the errors
        Chromium logs for connections that fail are expected; any other error still fails the test."""
        self.cut_off = True
        try:
            yield
        finally:
            self.cut_off = False

    def url(self, path: str) -> str:
        return self.origin + path

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def built_console() -> Path:
    index = WEBAPP_BUILD_DIR / "index.html"
    assert index.is_file(), "the console is not built: scripts/bootstrap.sh builds it (cd webapp && npm run build)"
    return WEBAPP_BUILD_DIR


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@contextlib.asynccontextmanager
async def watched_page(browser: Browser, origin: str) -> AsyncIterator[Watched]:
    """A fresh browser context at the desk's screen size, its page watched; checked when the test leaves it."""
    context = await browser.new_context(viewport=DESK_SCREEN, locale="id-ID", timezone_id="Asia/Jakarta")
    page = await context.new_page()
    watched = Watched(page, origin)

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs every 4xx answer to fetch as an error; from the API those are answers the console handles
        # (401 before sign-in, a wrong password, a refused pause), not faults.
        handled_refusal = message.text.startswith(REFUSAL_LOG) and message.location["url"].startswith(origin + "/api/")
        unreachable = watched.cut_off and message.text.startswith(UNREACHABLE_LOGS)
        if message.type == "error" and not handled_refusal and not unreachable:
            watched.console_errors.append(f"{message.text} ({message.location['url']})")

    def on_request(request: Request) -> None:
        if not request.url.startswith(origin + "/") and not request.url.startswith("data:"):
            watched.foreign_requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    page.on("request", on_request)
    try:
        yield watched
    finally:
        await context.close()
    assert watched.foreign_requests == [], "the console asked something other than the service"
    assert watched.console_errors == [], "the console logged errors"


@pytest.fixture
async def console(browser: Browser, service: Service, built_console: Path) -> AsyncIterator[Watched]:
    async with watched_page(browser, f"http://127.0.0.1:{service.settings.http_port}") as watched:
        yield watched


async def add_operator(service: Service, username: str, name: str, *, must_change_password: bool = False) -> None:
    """An operator with a phone, signing in with OPERATOR_PASSWORD."""
    await service.operators.add(NewOperator(username=username, name=name))
    await service.accounts.users.set_password(
        username, password_hash(OPERATOR_PASSWORD), must_change=must_change_password
    )


async def sign_in(console: Watched, username: str, password: str) -> None:
    page = console.page
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk", exact=True).click()


async def sign_in_ready(console: Watched, username: str) -> None:
    """An operator opens the console, signs in and joins the queue with L, as at the start of a shift."""
    page = console.page
    await page.goto(console.url("/login"))
    await sign_in(console, username, OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    # L acts once the operator's state is read (before that the console does not know what L would do).
    await expect(page.locator("header [data-queue-state]")).to_have_attribute("data-queue-state", "out")
    await page.keyboard.press("l")
    await expect(page.locator("header [data-queue-state]")).to_have_attribute("data-queue-state", "ready")
