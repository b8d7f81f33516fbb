"""The console map's local tiles against the real service: GET /api/map names them, /api/tiles/{z}/{x}/{y}.png
serves them to signed-in users only, a missing tile is a 404, and no path trick reaches a file outside the tile
directory (each is a 4xx, never the file, never a 5xx). An online template's origin joins the page's CSP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from ntpd112.app import Service
from tests.integration.conftest import service_settings, user_token, wait_until
from tests.integration.raw_http import raw_request
from tests.integration.tile_fixtures import tile_png, write_tile

pytestmark = pytest.mark.integration
ONLINE_TEMPLATE = "https://tiles.example.net/osm/{z}/{x}/{y}.png"
TILE = tile_png((40, 90, 60), (90, 140, 110))
SECRET = b"not a tile: nothing outside the tile directory is served"


@pytest.fixture
async def tiled_service(local_asterisk: object, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    tiles = tmp_path / "tiles"
    write_tile(tiles, 12, 3263, 2118, TILE)
    (tmp_path / "secret.png").write_bytes(SECRET)
    (tiles / "12" / "3263" / "2119.png").symlink_to(tmp_path / "secret.png")
    settings = service_settings(clean_database, tmp_path / "spool", map_tile_dir=tiles, map_tile_url=ONLINE_TEMPLATE)
    svc = Service(settings)
    await svc.start()
    try:
        await wait_until(lambda: svc.ari.connected and svc.ami.connected)
        yield svc
    finally:
        await svc.stop()


async def test_local_tiles_are_served_to_signed_in_users_only_and_stay_in_their_directory(
    tiled_service: Service,
) -> None:
    port = tiled_service.settings.http_port
    token = await user_token(tiled_service, "rina", "operator")
    signed_in = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
        async with http.get("/api/map", headers=signed_in) as answer:
            assert answer.status == 200
            assert await answer.json() == {
                "tile_layers": [
                    {"url_template": "/api/tiles/{z}/{x}/{y}.png", "local": True},
                    {"url_template": ONLINE_TEMPLATE, "local": False},
                ]
            }
            # The browser may load images from the configured tile server, and from nowhere else.
            policy = answer.headers["Content-Security-Policy"]
            assert "img-src 'self' data: blob: https://tiles.example.net;" in policy
        async with http.get("/api/tiles/12/3263/2118.png", headers=signed_in) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "image/png"
            assert await answer.read() == TILE
        for unsigned in ("/api/tiles/12/3263/2118.png", "/api/map"):
            async with http.get(unsigned) as answer:
                assert answer.status == 401, unsigned
        async with http.get("/api/tiles/12/3263/2117.png", headers=signed_in) as answer:
            assert answer.status == 404
            assert (await answer.json())["error"]["id"] == "tile_not_found"

    # Path tricks, sent as raw bytes (no client normalises them first): each a 4xx, never the file behind.
    tricks = [
        b"/api/tiles/12/3263/2119.png",  # a symlink out of the directory
        b"/api/tiles/12/3263/..%2F..%2F..%2Fsecret.png",
        b"/api/tiles/12/3263/%2e%2e.png",
        b"/api/tiles/../../secret.png",
        b"/api/tiles/12/3263/-1.png",
        b"/api/tiles/12/4096/1.png",  # x past 2^z
        b"/api/tiles/25/0/0.png",  # deeper than any tile set
        b"/api/tiles/12/3263/2118.png%00.txt",
        b"/api/tiles/12/3263/2118.jpg",
        b"/api/tiles/1e3/0/0.png",
    ]
    for target in tricks:
        answer = await raw_request(port, "GET", target, [(b"Authorization", f"Bearer {token}".encode())])
        assert 400 <= answer.status < 500, (target, answer.status)
        assert SECRET not in answer.body and TILE not in answer.body, target
