"""The HTTP API (aiohttp). One app factory, used by the service and by the tests; the route modules declare the
routes (web/endpoints.py), the OpenAPI document is built from those declarations (web/openapi.py)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from ntpd112.paths import WEBAPP_BUILD_DIR
from ntpd112.web import (
    account_routes,
    agency_admin_routes,
    agency_routes,
    aml_routes,
    area_routes,
    call_routes,
    dispatch_routes,
    eido_routes,
    live_dispatch_routes,
    map_routes,
    openapi,
    operator_routes,
    photo_routes,
    report_routes,
    status_routes,
    stream_routes,
    supervisor_listen_routes,
    supervisor_queue_routes,
    ticket_routes,
    wallboard_routes,
)
from ntpd112.web.auth import audit_middleware, auth_middleware
from ntpd112.web.common import DEPS, Accounts, WebDeps, errors_middleware
from ntpd112.web.endpoints import HTTP_POLICY, HttpPolicy, add_routes
from ntpd112.web.hardening import add_security_headers, header_guard_middleware
from ntpd112.web.static import add_static_routes

__all__ = ["DEPS", "Accounts", "HttpPolicy", "WebDeps", "api_document", "create_app"]

API_ROUTES = (
    status_routes.routes,
    openapi.routes,
    call_routes.routes,
    dispatch_routes.routes,
    live_dispatch_routes.routes,
    operator_routes.routes,
    aml_routes.routes,
    account_routes.routes,
    stream_routes.routes,
    area_routes.routes,
    map_routes.routes,
    report_routes.routes,
    ticket_routes.routes,
    photo_routes.routes,
    eido_routes.routes,
    agency_routes.routes,
    agency_admin_routes.routes,
    wallboard_routes.routes,
    supervisor_listen_routes.routes,
    supervisor_queue_routes.routes,
)


def api_document() -> dict[str, Any]:
    """The OpenAPI document the service serves at /api/openapi.json, built without a service (`ntpd112 openapi`);
    a copy of its own for each caller."""
    document: dict[str, Any] = json.loads(_api_document_json())
    return document


@functools.cache
def _api_document_json() -> str:
    # Built once a process: it follows from the code alone (the route tables and their models), and building it
    # (pydantic's JSON Schemas of every model) took about 0.2 s of every service's start.
    return json.dumps(openapi.build_document([endpoint for table in API_ROUTES for endpoint in table.endpoints]))


def create_app(deps: WebDeps, policy: HttpPolicy | None = None, webapp_dir: Path = WEBAPP_BUILD_DIR) -> web.Application:
    policy = policy or HttpPolicy()
    app = web.Application(
        middlewares=[audit_middleware, errors_middleware, header_guard_middleware, auth_middleware],
        client_max_size=policy.max_body_bytes,
    )
    app[DEPS] = deps
    app[HTTP_POLICY] = policy
    app.on_response_prepare.append(add_security_headers)
    add_routes(app, *API_ROUTES)
    stream_routes.install(app)
    app[openapi.OPENAPI_DOCUMENT] = api_document()  # the document of API_ROUTES: every route added above
    add_static_routes(app, webapp_dir)  # last: it answers every path no API route took
    return app
