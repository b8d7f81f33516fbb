"""REST for the supervisors' queue controls on the wallboard (queue/controls.py): force an operator's pause or
logout, raise a waiting call's priority, pull a waiting call to a chosen operator's phone or the supervisor's own.
Supervisors (and admins) only; every request is audited by the audit middleware (web/auth.py), refusals included."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.pbx.phones import PhoneName
from ntpd112.queue.controls import PRIORITY_CEILING, PullStarted, RaisedPriority
from ntpd112.queue.operators import OperatorView, PauseReason
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, Identity
from ntpd112.web.endpoints import RouteTable
from ntpd112.web.operator_routes import OperatorPath

routes = RouteTable()

_OPERATOR_REFUSALS = {404: ("operator_not_found",), 409: ("not_logged_in", "already_paused")}
_CALL_REFUSALS = {404: ("call_not_found",), 409: ("call_not_waiting",)}


class ForcePauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: PauseReason


class RaisePriorityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # None: one above every other waiting caller (answered next).
    priority: Annotated[int, Field(ge=1, le=PRIORITY_CEILING)] | None = None


class PullRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: PhoneName  # the operator (or supervisor) whose phone rings


@routes.post(
    "/api/queue/operators/{username}/force-pause",
    access="supervisor",
    summary="A supervisor pauses an operator, on a call or not (no next call is offered to them)",
    refusals=_OPERATOR_REFUSALS,
)
async def force_pause(
    request: web.Request, path: OperatorPath, body: ForcePauseRequest, identity: Identity
) -> OperatorView:
    return await request.app[DEPS].queue_controls.force_pause(path.username, body.reason, identity.username)


@routes.post(
    "/api/queue/operators/{username}/force-logout",
    access="supervisor",
    summary="A supervisor takes an operator out of the queue (a call in progress goes on)",
    refusals={404: ("operator_not_found",), 409: ("not_logged_in",)},
)
async def force_logout(request: web.Request, path: OperatorPath, identity: Identity) -> OperatorView:
    return await request.app[DEPS].queue_controls.force_logout(path.username, identity.username)


@routes.post(
    "/api/queue/calls/{call_id}/priority",
    access="supervisor",
    summary="Raise a waiting call's priority (by default above every other waiting call: it is answered next)",
    refusals={**_CALL_REFUSALS, 409: ("call_not_waiting", "not_higher", "already_first", "priority_ceiling")},
)
async def raise_priority(
    request: web.Request, path: CallPath, body: RaisePriorityRequest, identity: Identity
) -> RaisedPriority:
    return await request.app[DEPS].queue_controls.raise_priority(path.call_id, body.priority, identity.username)


@routes.post(
    "/api/queue/calls/{call_id}/pull",
    access="supervisor",
    summary="Ring a chosen phone with a waiting call; unanswered, the call goes back to its place in the queue",
    status=202,
    refusals={
        404: ("call_not_found", "operator_not_found"),
        409: ("call_not_waiting", "phone_unreachable", "operator_busy"),
    },
)
async def pull_call(request: web.Request, path: CallPath, body: PullRequest, identity: Identity) -> PullStarted:
    return await request.app[DEPS].queue_controls.pull(path.call_id, body.to, identity.username)
