"""A configured local tile directory in a real browser: the card's map asks the service for its tiles
(/api/tiles/...) and draws them under the boundaries; nothing is fetched from anywhere else (the console fixture
fails the test on any foreign request or console error)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Response, expect

from ntpd112.app import Service
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, add_operator, sign_in
from tests.integration.conftest import classified_call, service_settings, wait_until
from tests.integration.tile_fixtures import tile_png, write_tile

pytestmark = pytest.mark.integration
TILE_FILL, TILE_EDGE = (38, 62, 52), (70, 110, 90)
# The map's first view is Indonesia at zoom 5 (no fix, no boundaries in this test): tiles around it.
ZOOM, XS, YS = 5, range(18, 32), range(10, 22)


@pytest.fixture
async def service(local_asterisk: object, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    """The service with a local tile directory, in place of the folder's plain one."""
    tiles = tmp_path / "tiles"
    for x in XS:
        for y in YS:
            write_tile(tiles, ZOOM, x, y, tile_png(TILE_FILL, TILE_EDGE))
    svc = Service(service_settings(clean_database, tmp_path / "spool", map_tile_dir=tiles))
    await svc.start()
    try:
        await wait_until(lambda: svc.ari.connected and svc.ami.connected)
        yield svc
    finally:
        await svc.stop()


async def test_the_map_draws_the_configured_local_tiles(console: Watched, service: Service, tmp_path: Path) -> None:
    await add_operator(service, "sari", "Sari Dewi")
    call_id = await classified_call(service)
    page = console.page
    served: list[Response] = []
    page.on("response", lambda answer: served.append(answer) if "/api/tiles/" in answer.url else None)

    await page.goto(console.url("/login"))
    await sign_in(console, "sari", OPERATOR_PASSWORD)
    await expect(page.get_by_text("Menunggu panggilan")).to_be_visible()
    await page.keyboard.press("f")
    search = page.get_by_test_id("call-search")
    await page.keyboard.type("081234567890")
    await page.keyboard.press("Enter")
    await search.locator(f".search-results tr[data-call-id='{call_id}']").click()
    the_map = search.get_by_test_id("map")
    await expect(the_map).to_be_visible()

    # Leaflet marks a tile loaded once its image decoded: drawn, from the service's own route.
    loaded = the_map.locator(".tiles-local img.leaflet-tile-loaded")
    await expect(loaded.first).to_be_visible()
    source = await loaded.first.get_attribute("src")
    assert source is not None and source.startswith("/api/tiles/5/"), source
    assert await loaded.first.evaluate("image => image.naturalWidth") == 256
    assert any(answer.status == 200 for answer in served), [(a.url, a.status) for a in served]
    await console.screenshot("map-tiles")
