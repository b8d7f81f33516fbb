"""One refused-request path: the errors middleware renders every refusal, whether a route raised a RefusedError or
let a domain error of the layers below through."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ntpd112.dispatch.incidents import UnknownCategory
from ntpd112.dispatch.routing_service import RoutingUnavailable
from ntpd112.errors import RefusedError
from ntpd112.routing.tables import RoutingTableError, TableIssue
from ntpd112.store.incidents import CallNotFound
from ntpd112.store.routing_versions import NoRoutingTable, UnknownVersion
from ntpd112.web.common import errors_middleware

CALL_ID = uuid.UUID("00000000-0000-4000-8000-000000000112")
ISSUE = TableIssue("rules", "medis", "chain[0].target", "no target 'rsud'")


async def answer_when_raising(error: Exception) -> tuple[int, dict[str, Any]]:
    async def handler(request: web.Request) -> web.Response:
        raise error

    app = web.Application(middlewares=[errors_middleware])
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/")
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            RefusedError(409, "endpoint_exists", "a phone named op1 already exists", {"endpoint": "op1"}),
            409,
            {"id": "endpoint_exists", "message": "a phone named op1 already exists", "details": {"endpoint": "op1"}},
        ),
        (
            RoutingTableError([ISSUE]),
            422,
            {
                "id": "invalid_routing_table",
                "message": "the routing table is refused; nothing changed",
                "details": [
                    {
                        "section": "rules",
                        "item": "medis",
                        "rule": "medis",
                        "field": "chain[0].target",
                        "message": "no target 'rsud'",
                        "text": str(ISSUE),
                    }
                ],
            },
        ),
        (
            UnknownVersion(7),
            404,
            {"id": "routing_version_not_found", "message": "no routing table version 7", "details": {"version": 7}},
        ),
        (
            RoutingUnavailable("no routing table loaded yet"),
            503,
            {"id": "routing_unavailable", "message": "no routing table loaded yet"},
        ),
        (NoRoutingTable("none yet"), 503, {"id": "routing_unavailable", "message": "none yet"}),
        (
            CallNotFound(CALL_ID),
            404,
            {"id": "call_not_found", "message": "no call with this id", "details": {"id": str(CALL_ID)}},
        ),
        (
            UnknownCategory("alien_invasion", ["medical", "fire"]),
            422,
            {
                "id": "unknown_category",
                "message": str(UnknownCategory("alien_invasion", ["medical", "fire"])),
                "details": {"category": "alien_invasion", "known": ["medical", "fire"]},
            },
        ),
    ],
)
async def test_refusals_are_rendered_with_their_status_id_and_details(
    error: Exception, status: int, body: dict[str, Any]
) -> None:
    assert await answer_when_raising(error) == (status, {"error": body})


@pytest.mark.parametrize("error", [RuntimeError("bug"), TimeoutError(), LookupError("not a refusal")])
async def test_anything_else_is_an_internal_error(error: Exception) -> None:
    status, body = await answer_when_raising(error)
    assert (status, body["error"]["id"]) == (500, "internal_error")
