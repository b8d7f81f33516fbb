"""The console's built files (webapp/dist, made by `npm run build`) served at `/`.

Every path outside /api/ that names no built file gets index.html, so the app's own routes (/login, /operator, ...)
survive a reload. Vite puts content-hashed files under assets/: those are cached for a year; everything else is
never stored (index.html is a few hundred bytes: a new build is picked up at the next load, and a shared room PC
keeps nothing of the page). Nothing outside the build directory is reachable. A missing build is a clear page that
says how to build it, not a bare 404. The strict Content-Security-Policy (no inline script or style, nothing from
elsewhere) comes with every response (web/hardening.py); the build keeps to it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aiohttp import web

from ntpd112.web.common import ApiError

HASHED_ASSETS_DIR = "assets"
LONG_CACHE = "public, max-age=31536000, immutable"
NOT_STORED = "no-store"
# The route's name: the OpenAPI tests tell the console's files from undeclared API routes by it.
CONSOLE_ROUTE = "console"
# Explicit, so the answer does not depend on the host's /etc/mime.types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}
BUILD_MISSING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ntpd112: console not built</title></head>
<body><h1>The console has not been built</h1>
<p>The service found no <code>webapp/dist/index.html</code>. Build it with <code>scripts/bootstrap.sh</code>
(part of <code>make run</code>), or by hand: <code>cd webapp &amp;&amp; npm ci &amp;&amp; npm run build</code>.
The API under <code>/api/</code> works without it.</p></body></html>
"""


def _file_response(path: Path, cache_control: str) -> web.FileResponse:
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    return web.FileResponse(path, headers={"Cache-Control": cache_control, "Content-Type": content_type})


def _built_file(build_dir: Path, url_path: str) -> Path | None:
    """The file `url_path` names inside the build, or None. Refuses `..`, hidden names and anything a symlink
    would take outside the build directory."""
    parts = PurePosixPath(url_path).parts[1:]
    if not parts or any(part in ("..", ".") or part.startswith(".") or "\\" in part for part in parts):
        return None
    candidate = build_dir.joinpath(*parts).resolve()
    if not candidate.is_relative_to(build_dir) or not candidate.is_file():
        return None
    return candidate


async def _api_methods(request: web.Request) -> set[str]:
    """The methods the API's routes take at the request's path (empty: no API route has this path)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.name == CONSOLE_ROUTE:
            continue
        match, methods = await resource.resolve(request)
        if match is None:
            allowed |= methods
    return allowed


def add_static_routes(app: web.Application, build_dir: Path) -> None:
    """Serve `build_dir` at `/`; register it after every API route (it answers every other path)."""
    root = build_dir.resolve()

    async def serve(request: web.Request) -> web.StreamResponse:
        path = request.path
        if "\x00" in path:  # Path.resolve() raises on NUL: a 500 otherwise
            raise ApiError(400, "nul_character", "the path contains a NUL character")
        if path.startswith("/api/") or path == "/api":
            # This catch-all takes every method, so aiohttp no longer answers 405 for an API path known with other
            # methods: tell that apart from a path that does not exist.
            allowed = await _api_methods(request)
            if allowed:
                raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
            raise web.HTTPNotFound(reason="no such API route")
        # No file or client-side route has a control character.
        if any(ord(char) < 0x20 or char == "\x7f" for char in path):
            raise web.HTTPNotFound(reason="no such file in the console's build")
        if request.method not in ("GET", "HEAD"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
        index = root / "index.html"
        if not index.is_file():
            return web.Response(
                status=503, text=BUILD_MISSING_PAGE, content_type="text/html", headers={"Cache-Control": NOT_STORED}
            )
        built = _built_file(root, path)
        if built is not None:
            hashed = built.parent == root / HASHED_ASSETS_DIR
            return _file_response(built, LONG_CACHE if hashed else NOT_STORED)
        # A path that looks like a file (assets/, a dot in the name) and is not in the build is a 404, not the app:
        # a stale page asking for last build's script must not get HTML back as JavaScript.
        if path.startswith(f"/{HASHED_ASSETS_DIR}/") or "." in PurePosixPath(path).name:
            raise web.HTTPNotFound(reason="no such file in the console's build")
        return _file_response(index, NOT_STORED)

    app.router.add_route("*", "/{path:.*}", serve, name=CONSOLE_ROUTE)
