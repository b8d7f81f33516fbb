"""The console's static files: content types, caching, client-side routes, nothing outside the build, the page
shown when there is no build. A real aiohttp server on a build directory made in the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ntpd112.web.common import errors_middleware
from ntpd112.web.hardening import CONTENT_SECURITY_POLICY, add_security_headers
from ntpd112.web.static import LONG_CACHE, NOT_STORED, add_static_routes

INDEX = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>'


def make_build(root: Path) -> Path:
    build = root / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text(INDEX)
    (build / "assets" / "index-abc123.js").write_text("console.log('app')")
    (build / "assets" / "index-abc123.css").write_text("body{}")
    (build / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (build / ".env").write_text("SECRET=1")
    (root / "secret.txt").write_text("outside the build")
    (build / "assets" / "escape.js").symlink_to(root / "secret.txt")
    return build


async def client_for(build: Path) -> TestClient[web.Request, web.Application]:
    async def api_route(request: web.Request) -> web.Response:
        return web.json_response({"api": True})

    app = web.Application(middlewares=[errors_middleware])
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/api/thing", api_route)
    add_static_routes(app, build)
    return TestClient(TestServer(app))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with await client_for(make_build(tmp_path)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/assets/index-abc123.js", "text/javascript", LONG_CACHE),
        ("/assets/index-abc123.css", "text/css", LONG_CACHE),
        ("/favicon.svg", "image/svg+xml", NOT_STORED),
        ("/", "text/html", NOT_STORED),
    ],
)
async def test_built_files_have_their_type_and_cache(
    client: TestClient[web.Request, web.Application], path: str, content_type: str, cache: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == content_type
    assert response.headers["Cache-Control"] == cache
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/login", "/operator", "/operator/calls/123", "/supervisor"])
async def test_client_side_routes_get_the_index(client: TestClient[web.Request, web.Application], path: str) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert await response.text() == INDEX
    assert response.headers["Cache-Control"] == NOT_STORED


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-old999.js",  # a stale page asking for last build's script gets no HTML as JavaScript
        "/missing.png",
        "/.env",
        "/assets/escape.js",  # a symlink out of the build
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/operator%0d%0a",
    ],
)
async def test_nothing_outside_the_build_is_reachable(
    client: TestClient[web.Request, web.Application], path: str
) -> None:
    response = await client.get(path)
    body = await response.text()
    assert "outside the build" not in body
    assert "SECRET" not in body
    assert response.status == 404, (path, response.status, body)


async def test_api_paths_stay_json(client: TestClient[web.Request, web.Application]) -> None:
    assert (await client.get("/api/thing")).status == 200
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, "/api/nothing-here")
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "not_found"
    # An API path that exists with other methods stays a 405, though the console's route takes every method.
    response = await client.delete("/api/thing")
    assert response.status == 405
    assert (await response.json())["error"]["id"] == "method_not_allowed"


async def test_only_reads_are_served(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.post("/operator")
    assert response.status == 405
    assert (await response.json())["error"]["id"] == "method_not_allowed"
    assert (await client.head("/")).status == 200


async def test_a_missing_build_says_how_to_build_it(tmp_path: Path) -> None:
    async with await client_for(tmp_path / "never-built") as test_client:
        response = await test_client.get("/operator")
        assert response.status == 503
        assert response.content_type == "text/html"
        assert "npm run build" in await response.text()
        assert (await test_client.get("/api/thing")).status == 200


async def test_a_nul_in_the_path_is_a_json_refusal(client: TestClient[web.Request, web.Application]) -> None:
    # Path.resolve() raises ValueError on NUL: the hostile matrix found /health%00 answering 500.
    for path in ("/health%00", "/operator%00", "/assets/a%00.js"):
        response = await client.get(path)
        assert response.status == 400, path
        assert (await response.json())["error"]["id"] == "nul_character"
