"""REST for dispatch on the live call (operators) and the agency desks' phones (admins).

`POST /api/calls/{id}/dispatch` answers once the first target rings (or the after-hours message plays); the walk
along the chain goes on in the service and every attempt is on the call's timeline. Refusals leave the call as it
was: the request is checked (call live, classified, target or agency known) before anything moves.
"""

from __future__ import annotations

from aiohttp import web

from ntpd112.dispatch.desks import NewDesk
from ntpd112.dispatch.models import DispatchRequest
from ntpd112.web.common import DEPS, ApiError, call_id_param, json_response, parse_body, require_role


async def start_dispatch(request: web.Request) -> web.Response:
    identity = require_role(request, "operator")
    call_id = call_id_param(request)
    body = await parse_body(request, DispatchRequest)
    deps = request.app[DEPS]
    # An unknown call is a 404, not "call ended": look it up first (raises CallNotFound).
    await deps.incidents.get(call_id)
    # An operator dispatches only the calls they answered (app_queue's member name is the username).
    handler = await deps.repository.call_operator(call_id)
    if handler != identity.username and not identity.has_role("supervisor"):
        raise ApiError(403, "not_your_call", "an operator dispatches only the calls they handle", {"operator": handler})
    return json_response(await deps.dispatch.dispatch(call_id, body, identity.username), status=202)


async def get_dispatch(request: web.Request) -> web.Response:
    require_role(request, "operator")
    call_id = call_id_param(request)
    view = request.app[DEPS].dispatch.view(call_id)
    if view is None:
        raise ApiError(404, "no_dispatch", "no dispatch holds this call now", {"call_id": str(call_id)})
    return json_response(view)


async def change_dispatch(request: web.Request) -> web.Response:
    identity = require_role(request, "operator")
    call_id = call_id_param(request)
    supervisor = identity.has_role("supervisor")
    dispatch = request.app[DEPS].dispatch
    action = {"complete": dispatch.complete, "cancel": dispatch.cancel, "leave": dispatch.leave}
    return json_response(await action[request.match_info["action"]](call_id, identity.username, supervisor))


async def list_desks(request: web.Request) -> web.Response:
    require_role(request, "operator")
    return json_response(await request.app[DEPS].desks.list())


async def add_desk(request: web.Request) -> web.Response:
    require_role(request, "admin")
    new = await parse_body(request, NewDesk)
    deps = request.app[DEPS]
    known = {agency.id for agency in deps.routing.current.table.agencies}
    return json_response(await deps.desks.add(new, known), status=201)


async def remove_desk(request: web.Request) -> web.Response:
    require_role(request, "admin")
    await request.app[DEPS].desks.remove(request.match_info["endpoint"])
    return web.Response(status=204)


def add_live_dispatch_routes(app: web.Application) -> None:
    app.router.add_post("/api/calls/{call_id}/dispatch", start_dispatch)
    app.router.add_get("/api/calls/{call_id}/dispatch", get_dispatch)
    app.router.add_post("/api/calls/{call_id}/dispatch/{action:complete|cancel|leave}", change_dispatch)
    app.router.add_get("/api/agency-desks", list_desks)
    app.router.add_post("/api/agency-desks", add_desk)
    app.router.add_delete("/api/agency-desks/{endpoint}", remove_desk)
