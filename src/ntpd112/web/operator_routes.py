"""REST for operators, their sessions, the callback list and caller flags."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.clock import utcnow
from ntpd112.live import OperatorChanged
from ntpd112.pbx.phones import PhoneName
from ntpd112.queue.callbacks import CallbackItem
from ntpd112.queue.operators import CreatedOperator, NewOperator, OperatorView, PauseReason
from ntpd112.store.repo import CallSummary
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, Identity, require_self_or_supervisor
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
# How far back the console restores an operator's unfinished calls (a shift, with margin).
OPEN_CARDS_WINDOW = timedelta(hours=12)


class OperatorPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: PhoneName


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: PauseReason


class CallbackListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: Literal["0", "1"] = "0"  # 1: include the callbacks already done


class TakeCallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: PhoneName | None = None  # None: whoever asks


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["silent", "operator"] = "silent"


class CallbackPending(BaseModel):
    status: Literal["pending"] = "pending"


@routes.get("/api/operators", access="operator", summary="Operators and their queue state")
async def list_operators(request: web.Request) -> list[OperatorView]:
    return await request.app[DEPS].operators.list()


@routes.post("/api/operators", access="admin", summary="Add an operator (answers their SIP password once)", status=201)
async def add_operator(request: web.Request, body: NewOperator) -> CreatedOperator:
    created = await request.app[DEPS].operators.add(body)
    # No AMI event tells of a new or removed operator (no queue membership yet, or none any more).
    request.app[DEPS].hub.publish(OperatorChanged(body.username))
    return created


@routes.delete("/api/operators/{username}", access="admin", summary="Remove an operator and their phone")
async def remove_operator(request: web.Request, path: OperatorPath) -> None:
    await request.app[DEPS].operators.remove(path.username)
    request.app[DEPS].hub.publish(OperatorChanged(path.username))


@routes.post("/api/operators/{username}/login", access="operator", summary="Put the operator in the queue")
async def login_operator(request: web.Request, path: OperatorPath) -> OperatorView:
    require_self_or_supervisor(request, path.username)
    return await request.app[DEPS].operators.login(path.username)


@routes.post("/api/operators/{username}/logout", access="operator", summary="Take the operator out of the queue")
async def logout_operator(request: web.Request, path: OperatorPath) -> OperatorView:
    require_self_or_supervisor(request, path.username)
    return await request.app[DEPS].operators.logout(path.username)


@routes.post("/api/operators/{username}/pause", access="operator", summary="Pause the operator with a reason")
async def pause_operator(request: web.Request, path: OperatorPath, body: PauseRequest) -> OperatorView:
    require_self_or_supervisor(request, path.username)
    return await request.app[DEPS].operators.pause(path.username, body.reason)


@routes.post("/api/operators/{username}/resume", access="operator", summary="End the operator's pause")
async def resume_operator(request: web.Request, path: OperatorPath) -> OperatorView:
    require_self_or_supervisor(request, path.username)
    return await request.app[DEPS].operators.resume(path.username)


@routes.get(
    "/api/operators/{username}/cards",
    access="operator",
    summary="The calls the operator answered in the last 12 hours that are still open (not ended or not classified)",
)
async def operator_cards(request: web.Request, path: OperatorPath) -> list[CallSummary]:
    require_self_or_supervisor(request, path.username)
    return await request.app[DEPS].repository.open_cards(path.username, utcnow() - OPEN_CARDS_WINDOW)


@routes.get("/api/callbacks", access="operator", summary="Calls to call back, oldest first")
async def list_callbacks(request: web.Request, query: CallbackListQuery) -> list[CallbackItem]:
    return await request.app[DEPS].callbacks.list(include_done=query.all == "1")


@routes.post("/api/callbacks/{call_id}/take", access="operator", summary="An operator takes a callback")
async def take_callback(
    request: web.Request, path: CallPath, body: TakeCallbackRequest, identity: Identity
) -> CallbackItem:
    operator = body.operator or identity.username
    require_self_or_supervisor(request, operator)
    return await request.app[DEPS].callbacks.take(path.call_id, operator)


@routes.post("/api/calls/{call_id}/callback", access="operator", summary="Put a call on the callback list", status=202)
async def request_callback(
    request: web.Request, path: CallPath, body: CallbackRequest, identity: Identity
) -> CallbackPending:
    await request.app[DEPS].callbacks.request(path.call_id, body.reason, identity.username)
    return CallbackPending()
