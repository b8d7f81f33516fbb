"""The console map's optional tiles: the settings refuse a bad tile URL template or directory at load (one clear
line naming the setting), the console is told what is configured (nothing by default), the page's CSP admits the
tile server's origin only when one is configured, and a tile path resolves only inside the tile directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntpd112.config import SettingsError, load_settings, url_origin
from ntpd112.web.hardening import CONTENT_SECURITY_POLICY, content_security_policy
from ntpd112.web.map_routes import LOCAL_TILE_TEMPLATE, map_settings
from ntpd112.web.map_tiles import MapTiles, tile_file

REQUIRED = {
    "NTPD112_DATABASE_URL": "postgresql+asyncpg://u:p@h/db",
    "NTPD112_ARI_PASSWORD": "a",
    "NTPD112_AMI_PASSWORD": "b",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_no_tiles_by_default(environment: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.map_tile_url, settings.map_tile_dir) == (None, None)
    assert map_settings(MapTiles()).tile_layers == []


@pytest.mark.parametrize(
    "template",
    [
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "http://10.0.0.5:8080/tiles/{z}/{x}/{y}.png?style=plain",
    ],
)
def test_a_tile_url_template_is_kept(environment: pytest.MonkeyPatch, template: str) -> None:
    environment.setenv("NTPD112_MAP_TILE_URL", template)
    assert load_settings().map_tile_url == template


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("ftp://tiles.example/{z}/{x}/{y}.png", "http:// or https://"),
        ("javascript:alert(1)//{z}/{x}/{y}", "http:// or https://"),
        ("https:///{z}/{x}/{y}.png", "with a host"),
        ("https://tiles.example/{z}/{x}.png", "missing {y}"),
        ("https://tiles.example/tiles.png", "missing {z}, {x}, {y}"),
        ("https://{s}.tiles.example/{z}/{x}/{y}.png", "host must be fixed"),
        ("https://user@tiles.example/{z}/{x}/{y}.png", "host must be fixed"),
        ("https://tiles.example/{z}/{x}/{y}.png?key={apikey}", "only {z}, {x} and {y}"),
    ],
)
def test_a_bad_tile_url_template_stops_the_start_with_a_clear_line(
    environment: pytest.MonkeyPatch, template: str, problem: str
) -> None:
    environment.setenv("NTPD112_MAP_TILE_URL", template)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith("setting NTPD112_MAP_TILE_URL is invalid")
    assert problem in str(refused.value)


def test_the_tile_directory_must_exist(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environment.setenv("NTPD112_MAP_TILE_DIR", str(tmp_path / "absent"))
    with pytest.raises(SettingsError, match=r"setting NTPD112_MAP_TILE_DIR is invalid.*is not a directory"):
        load_settings()
    (tmp_path / "tiles").mkdir()
    environment.setenv("NTPD112_MAP_TILE_DIR", str(tmp_path / "tiles"))
    assert load_settings().map_tile_dir == (tmp_path / "tiles").resolve()


def test_the_console_gets_local_tiles_under_online_ones(tmp_path: Path) -> None:
    layers = map_settings(MapTiles("https://tiles.example/{z}/{x}/{y}.png", tmp_path)).tile_layers
    assert [(layer.url_template, layer.local) for layer in layers] == [
        (LOCAL_TILE_TEMPLATE, True),
        ("https://tiles.example/{z}/{x}/{y}.png", False),
    ]


def test_the_csp_admits_the_tile_server_only_when_configured() -> None:
    assert "img-src 'self' data: blob:;" in CONTENT_SECURITY_POLICY
    origin = url_origin("https://tiles.example:8443/a/{z}/{x}/{y}.png")
    assert origin == "https://tiles.example:8443"
    assert "img-src 'self' data: blob: https://tiles.example:8443;" in content_security_policy((origin,))


def test_a_tile_resolves_only_inside_the_directory(tmp_path: Path) -> None:
    tiles = tmp_path / "tiles"
    (tiles / "3" / "4").mkdir(parents=True)
    (tiles / "3" / "4" / "5.png").write_bytes(b"png")
    (tmp_path / "secret.png").write_bytes(b"secret")
    (tiles / "3" / "4" / "6.png").symlink_to(tmp_path / "secret.png")
    assert tile_file(tiles, 3, 4, 5) == tiles / "3" / "4" / "5.png"
    assert tile_file(tiles, 3, 4, 7) is None  # missing
    assert tile_file(tiles, 3, 4, 6) is None  # a symlink out of the directory
