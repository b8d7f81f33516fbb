"""The supervisors' wallboard over HTTP: one snapshot (GET /api/wallboard); the page keeps it fresh by re-reading it
when the live stream (GET /api/stream, `follow_room`) says something changed."""

from __future__ import annotations

from aiohttp import web

from ntpd112.clock import utcnow
from ntpd112.reports.wallboard import Wallboard
from ntpd112.web.common import DEPS, table_in_force
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()


@routes.get(
    "/api/wallboard",
    access="supervisor",
    summary="The wallboard: waiting calls, operators, today's service level and calls, open incidents and tickets",
)
async def get_wallboard(request: web.Request) -> Wallboard:
    return await request.app[DEPS].wallboard.snapshot(utcnow(), table_in_force(request))
