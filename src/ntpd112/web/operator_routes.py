"""REST for operators, their sessions, the callback list and caller flags."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.pbx.phones import PhoneName
from ntpd112.queue.operators import NewOperator, PauseReason
from ntpd112.web.common import (
    DEPS,
    call_id_param,
    json_response,
    parse_body,
    require_role,
    require_self_or_supervisor,
)


class PauseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: PauseReason


class TakeCallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: PhoneName | None = None  # None: whoever asks


class CallbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["silent", "operator"] = "silent"


async def list_operators(request: web.Request) -> web.Response:
    require_role(request, "operator")
    return json_response(await request.app[DEPS].operators.list())


async def add_operator(request: web.Request) -> web.Response:
    require_role(request, "admin")
    new = await parse_body(request, NewOperator)
    return json_response(await request.app[DEPS].operators.add(new), status=201)


async def remove_operator(request: web.Request) -> web.Response:
    require_role(request, "admin")
    await request.app[DEPS].operators.remove(request.match_info["username"])
    return web.Response(status=204)


async def session_action(request: web.Request) -> web.Response:
    username, action = request.match_info["username"], request.match_info["action"]
    require_self_or_supervisor(request, username)
    operators = request.app[DEPS].operators
    if action == "login":
        result = await operators.login(username)
    elif action == "logout":
        result = await operators.logout(username)
    elif action == "pause":
        result = await operators.pause(username, (await parse_body(request, PauseRequest)).reason)
    else:
        result = await operators.resume(username)
    return json_response(result)


async def list_callbacks(request: web.Request) -> web.Response:
    require_role(request, "operator")
    return json_response(await request.app[DEPS].callbacks.list(include_done=request.query.get("all") == "1"))


async def take_callback(request: web.Request) -> web.Response:
    identity = require_role(request, "operator")
    call_id = call_id_param(request)
    body = await parse_body(request, TakeCallbackRequest)
    operator = body.operator or identity.username
    require_self_or_supervisor(request, operator)
    return json_response(await request.app[DEPS].callbacks.take(call_id, operator))


async def request_callback(request: web.Request) -> web.Response:
    identity = require_role(request, "operator")
    body = await parse_body(request, CallbackRequest)
    await request.app[DEPS].callbacks.request(call_id_param(request), body.reason, identity.username)
    return web.json_response({"status": "pending"}, status=202)


def add_operator_routes(app: web.Application) -> None:
    app.router.add_get("/api/operators", list_operators)
    app.router.add_post("/api/operators", add_operator)
    app.router.add_delete("/api/operators/{username}", remove_operator)
    app.router.add_post("/api/operators/{username}/{action:login|logout|pause|resume}", session_action)
    app.router.add_get("/api/callbacks", list_callbacks)
    app.router.add_post("/api/callbacks/{call_id}/take", take_callback)
    app.router.add_post("/api/calls/{call_id}/callback", request_callback)
