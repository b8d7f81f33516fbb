"""The HTTP API (aiohttp). One app factory, used by the service and by the tests; the route modules add the rest."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.paths import WEBAPP_BUILD_DIR
from ntpd112.web.aml_routes import add_aml_routes
from ntpd112.web.common import (
    DEPS,
    ApiError,
    WebDeps,
    auth_middleware,
    call_id_param,
    errors_middleware,
    json_response,
    require_role,
)
from ntpd112.web.dispatch_routes import add_dispatch_routes
from ntpd112.web.live_dispatch_routes import add_live_dispatch_routes
from ntpd112.web.operator_routes import add_operator_routes
from ntpd112.web.static import add_static_routes

__all__ = ["DEPS", "WebDeps", "create_app"]


async def health(request: web.Request) -> web.Response:
    components = await request.app[DEPS].health()
    ok = all(component.get("ok") for component in components.values())
    return web.json_response(
        {"status": "ok" if ok else "degraded", "components": components}, status=200 if ok else 503
    )


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[DEPS].metrics.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


class CallListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


async def list_calls(request: web.Request) -> web.Response:
    require_role(request, "operator")
    query = CallListQuery.model_validate(dict(request.query))
    return json_response(await request.app[DEPS].repository.list_calls(query.limit, query.offset))


async def get_call(request: web.Request) -> web.Response:
    require_role(request, "operator")
    call_id = call_id_param(request)
    call = await request.app[DEPS].repository.get_call(call_id)
    if call is None:
        raise ApiError(404, "call_not_found", "no call with this id", {"id": str(call_id)})
    return json_response(call)


def create_app(deps: WebDeps, webapp_dir: Path = WEBAPP_BUILD_DIR) -> web.Application:
    app = web.Application(middlewares=[errors_middleware, auth_middleware], client_max_size=256 * 1024)
    app[DEPS] = deps
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    for add_routes in (add_dispatch_routes, add_operator_routes, add_aml_routes, add_live_dispatch_routes):
        add_routes(app)
    add_static_routes(app, webapp_dir)  # last: it answers every path no API route took
    return app
