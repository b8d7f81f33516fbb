"""Health and metrics: up or down for anyone, details for loopback clients and signed-in staff.

Details (component errors, counters) tell an attacker what is broken and how busy the room is, so the public
gets one word. Loopback means the TCP peer's own address (no forwarding header is believed); behind a reverse proxy
on the same host every client would look local, so such a set-up sets NTPD112_HTTP_LOOPBACK_DETAILS=false and reads
details from /api/health and /api/metrics with a token.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from ntpd112.web.common import DEPS
from ntpd112.web.endpoints import HTTP_POLICY, RouteTable

routes = RouteTable()
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
# What the public scrape shows: the service answers; nothing about calls or components.
_PUBLIC_METRICS = b"# HELP ntpd112_up The service answers HTTP.\n# TYPE ntpd112_up gauge\nntpd112_up 1\n"


class Health(BaseModel):
    status: Literal["up", "down"]


class HealthDetails(Health):
    components: dict[str, dict[str, Any]]


def _is_trusted_local(request: web.Request) -> bool:
    if not request.app[HTTP_POLICY].loopback_sees_details or request.remote is None:
        return False
    try:
        return ipaddress.ip_address(request.remote).is_loopback
    except ValueError:  # a Unix socket peer has no IP address
        return False


async def _health(request: web.Request, details: bool) -> web.Response:
    components = await request.app[DEPS].health()
    status: Literal["up", "down"] = "up" if all(c.get("ok") for c in components.values()) else "down"
    body = HealthDetails(status=status, components=components) if details else Health(status=status)
    return web.Response(
        body=body.model_dump_json(), status=200 if status == "up" else 503, content_type="application/json"
    )


def _metrics(request: web.Request, details: bool) -> web.Response:
    body = request.app[DEPS].metrics.render() if details else _PUBLIC_METRICS
    return web.Response(body=body, headers={"Content-Type": PROMETHEUS_TEXT})


@routes.get(
    "/health",
    access="public",
    summary="Up or down (503 when down); loopback clients also get each component's state",
    response_model=Health | HealthDetails,
)
async def health(request: web.Request) -> web.Response:
    return await _health(request, _is_trusted_local(request))


@routes.get(
    "/api/health",
    access="operator",
    summary="Each component's state (503 when one is down)",
    response_model=HealthDetails,
)
async def health_details(request: web.Request) -> web.Response:
    return await _health(request, details=True)


@routes.get(
    "/metrics",
    access="public",
    summary="Prometheus metrics for loopback clients; ntpd112_up alone for anyone else",
    produces=PROMETHEUS_TEXT,
)
async def metrics(request: web.Request) -> web.Response:
    return _metrics(request, _is_trusted_local(request))


@routes.get("/api/metrics", access="supervisor", summary="Prometheus metrics", produces=PROMETHEUS_TEXT)
async def metrics_details(request: web.Request) -> web.Response:
    return _metrics(request, details=True)
