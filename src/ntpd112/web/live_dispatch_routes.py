"""REST for dispatch on the live call (operators) and the agency desks' phones (admins).

`POST /api/calls/{id}/dispatch` answers once the first target rings (or the after-hours message plays); the walk
along the chain goes on in the service and every attempt is on the call's timeline. Refusals leave the call as it
was: the request is checked (call live, classified, target or agency known) before anything moves.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.dispatch.desks import CreatedDesk, DeskView, NewDesk
from ntpd112.dispatch.models import DispatchRequest, DispatchView
from ntpd112.pbx.phones import PhoneName
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, ApiError, Identity, require_call_of
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
_NO_DISPATCH = {404: ("no_dispatch",)}


class DeskPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: PhoneName


def _is_supervisor(identity: Identity) -> bool:
    return identity.has_role("supervisor")


@routes.post(
    "/api/calls/{call_id}/dispatch",
    access="operator",
    summary="Dispatch the live call; answers once the first target rings",
    status=202,
    refusals={403: ("not_your_call",), 404: ("call_not_found",)},
)
async def start_dispatch(
    request: web.Request, path: CallPath, body: DispatchRequest, identity: Identity
) -> DispatchView:
    deps = request.app[DEPS]
    # An unknown call is a 404, not "call ended": look it up first (raises CallNotFound).
    await deps.incidents.get(path.call_id)
    # An operator dispatches only the calls they answered (app_queue's member name is the username).
    await require_call_of(request, identity, path.call_id, unanswered_too=False)
    return await deps.dispatch.dispatch(path.call_id, body, identity.username)


@routes.get(
    "/api/calls/{call_id}/dispatch", access="operator", summary="The dispatch holding the call", refusals=_NO_DISPATCH
)
async def get_dispatch(request: web.Request, path: CallPath) -> DispatchView:
    view = request.app[DEPS].dispatch.view(path.call_id)
    if view is None:
        raise ApiError(404, "no_dispatch", "no dispatch holds this call now", {"call_id": str(path.call_id)})
    return view


@routes.post(
    "/api/calls/{call_id}/dispatch/complete",
    access="operator",
    summary="The agency has the caller: the operator leaves, the dispatch is done",
    refusals=_NO_DISPATCH,
)
async def complete_dispatch(request: web.Request, path: CallPath, identity: Identity) -> DispatchView:
    return await request.app[DEPS].dispatch.complete(path.call_id, identity.username, _is_supervisor(identity))


@routes.post(
    "/api/calls/{call_id}/dispatch/cancel",
    access="operator",
    summary="Stop the dispatch; the caller stays with the operator",
    refusals=_NO_DISPATCH,
)
async def cancel_dispatch(request: web.Request, path: CallPath, identity: Identity) -> DispatchView:
    return await request.app[DEPS].dispatch.cancel(path.call_id, identity.username, _is_supervisor(identity))


@routes.post(
    "/api/calls/{call_id}/dispatch/leave",
    access="operator",
    summary="The operator leaves a conference; caller and agency stay",
    refusals=_NO_DISPATCH,
)
async def leave_dispatch(request: web.Request, path: CallPath, identity: Identity) -> DispatchView:
    return await request.app[DEPS].dispatch.leave(path.call_id, identity.username, _is_supervisor(identity))


@routes.get("/api/agency-desks", access="operator", summary="The agency desks' phones")
async def list_desks(request: web.Request) -> list[DeskView]:
    return await request.app[DEPS].desks.list()


@routes.post(
    "/api/agency-desks", access="admin", summary="Add an agency desk (answers its SIP password once)", status=201
)
async def add_desk(request: web.Request, body: NewDesk) -> CreatedDesk:
    deps = request.app[DEPS]
    known = {agency.id for agency in deps.routing.current.table.agencies}
    return await deps.desks.add(body, known)


@routes.delete("/api/agency-desks/{endpoint}", access="admin", summary="Remove an agency desk and its phone")
async def remove_desk(request: web.Request, path: DeskPath) -> None:
    await request.app[DEPS].desks.remove(path.endpoint)
