"""The OpenAPI document: valid OpenAPI 3.1, and complete: every route the router serves is in it, with the
parameters its path names and the security its declared role asks for."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import BaseModel

from ntpd112.web.app import WebDeps, create_app
from ntpd112.web.auth import needs_no_credentials
from ntpd112.web.common import PUBLIC_PATHS, SIGNED_PATHS
from ntpd112.web.endpoints import RouteTable
from ntpd112.web.openapi import OPENAPI_DOCUMENT, openapi_path
from ntpd112.web.static import CONSOLE_ROUTE

# No route of the document touches the dependencies while the app is built.
APP = create_app(cast(WebDeps, None))
DOCUMENT: dict[str, Any] = APP[OPENAPI_DOCUMENT]
OPERATIONS = [
    (path, method, operation) for path, item in DOCUMENT["paths"].items() for method, operation in item.items()
]


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def _served_routes(app: web.Application) -> set[tuple[str, str]]:
    # aiohttp adds HEAD beside every GET by itself; HEAD answers like GET without a body. The console's static files
    # (web/static.py, every path no API route takes) are no API.
    return {
        (route.method.lower(), openapi_path(route.resource.canonical))
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD" and route.resource.name != CONSOLE_ROUTE
    }


def test_every_route_the_router_serves_is_in_the_document() -> None:
    served = _served_routes(APP)
    documented = {(method, path) for path, method, _ in OPERATIONS}
    assert served, "the router has no routes"
    assert served - documented == set()
    assert documented - served == set()


def test_a_route_added_behind_the_declarations_back_is_caught() -> None:
    app = create_app(cast(WebDeps, None))

    async def undeclared(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/api/undeclared", undeclared)
    documented = {(method, path) for path, method, _ in OPERATIONS}
    assert _served_routes(app) - documented == {("get", "/api/undeclared")}


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_each_operation_declares_parameters_security_and_refusals(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    assert in_path == set(re.findall(r"{(\w+)}", path))
    access = operation["x-ntpd112-access"]
    if access in ("public", "signed"):
        assert operation["security"] == []
    elif access == "signed_in":
        assert operation["security"] == [{"bearerToken": []}, {"sessionCookie": []}]
        assert "401" in operation["responses"]
    else:
        assert operation["security"] == [{"bearerToken": []}, {"sessionCookie": []}]
        assert {"401", "403"} <= set(operation["responses"])
        # The role first; a route may say more after it (the stream's protocol).
        assert operation["description"].split(" ", 3)[:3] == ["Least", "role:", f"{access}."]
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert operation["operationId"]


def test_operation_ids_are_unique_for_the_generated_client() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))


def test_models_are_documented_from_the_validating_models() -> None:
    calls = DOCUMENT["paths"]["/api/calls"]["get"]
    limit = next(p for p in calls["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "default": 50, "minimum": 1, "maximum": 500}
    diff_names = {p["name"] for p in DOCUMENT["paths"]["/api/routes/diff"]["get"]["parameters"]}
    assert diff_names == {"from", "to"}  # the aliases a client sends, not the Python names
    body = DOCUMENT["paths"]["/api/calls/{call_id}/incident"]["put"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/IncidentChange"}
    assert "IncidentChange" in DOCUMENT["components"]["schemas"]
    aml = DOCUMENT["paths"]["/api/aml"]["post"]["requestBody"]["content"]
    assert list(aml) == ["application/x-www-form-urlencoded"]
    assert DOCUMENT["components"]["securitySchemes"]["sessionCookie"]["name"] == "ntpd112_session"


class Body(BaseModel):
    name: str


def test_a_handler_parameter_that_is_no_declared_input_is_refused_at_declaration() -> None:
    routes = RouteTable()
    with pytest.raises(TypeError, match="payload"):

        @routes.post("/api/x", access="admin", summary="x")
        async def handler(request: web.Request, payload: Body) -> None:
            """Declares `payload`: neither validated nor documented, so refused."""


def test_the_routes_open_to_anyone_are_exactly_those_declared_public_or_signed() -> None:
    # The auth middleware lets these requests through without credentials: each must be declared so, and back.
    open_access = ("public", "signed")
    declared_open = {path for path, _, operation in OPERATIONS if operation["x-ntpd112-access"] in open_access}
    for path, method, operation in OPERATIONS:
        if "{" not in path:
            assert needs_no_credentials(method.upper(), path) == (operation["x-ntpd112-access"] in open_access), path
    for path in PUBLIC_PATHS | SIGNED_PATHS:
        match = APP.router.resources()
        templates = [
            r.canonical
            for r in match
            if r.name != CONSOLE_ROUTE and (r.get_info().get("path") == path or _matches(r, path))
        ]
        assert templates and all(t in declared_open for t in templates), path


def test_the_account_routes_are_declared_with_their_access() -> None:
    access = {(method, path): operation["x-ntpd112-access"] for path, method, operation in OPERATIONS}
    assert access[("post", "/api/session")] == "public"
    for route in [("get", "/api/session"), ("delete", "/api/session"), ("post", "/api/session/password")]:
        assert access[route] == "signed_in", route  # agency users too: they hold no staff role
    for route in [("get", "/api/tokens"), ("post", "/api/tokens"), ("delete", "/api/tokens/{token_id}")]:
        assert access[route] == "signed_in", route
    assert access[("get", "/api/audit")] == "admin"
    sign_in = DOCUMENT["paths"]["/api/session"]["post"]
    assert sign_in["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionView"
    }
    assert "bad_credentials" in sign_in["responses"]["401"]["description"]
    assert "too_many_attempts" in sign_in["responses"]["429"]["description"]
    created = DOCUMENT["paths"]["/api/tokens"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/CreatedToken"}
    assert set(DOCUMENT["paths"]["/api/session/password"]["post"]["responses"]) >= {"204", "400", "401", "429"}


def _matches(resource: web.AbstractResource, path: str) -> bool:
    pattern = resource.get_info().get("pattern")
    return bool(pattern and pattern.fullmatch(path))
