"""The console's typed client is generated from webapp/src/api/openapi.json at build time: that copy must be the
document the service serves, or the client's types lie about the API."""

from __future__ import annotations

import json

from ntpd112.cli.openapi import document_text
from ntpd112.paths import PROJECT_DIR

CONSOLE_COPY = PROJECT_DIR / "webapp" / "src" / "api" / "openapi.json"


def test_the_console_copy_of_the_api_document_is_current() -> None:
    assert CONSOLE_COPY.read_text(encoding="utf-8") == document_text(), (
        "webapp/src/api/openapi.json is stale: run `.venv/bin/ntpd112 openapi webapp/src/api/openapi.json`"
    )


def test_the_console_routes_are_in_the_document() -> None:
    paths = set(json.loads(document_text())["paths"])
    for route in ("/api/operators", "/api/operators/{username}/pause", "/api/operators/{username}/resume"):
        assert route in paths
