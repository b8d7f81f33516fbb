"""REST for a supervisor listening to an operator's call on their own phone (queue/spy.py): listen, whisper or
barge, switch the mode or the operator while listening, stop. The mode is in the path, so the audit entry the
audit middleware writes for every request (web/auth.py) names both the operator and the mode."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.pbx.phones import PhoneName
from ntpd112.queue.spy import SpyMode, SpyView
from ntpd112.web.common import DEPS, Identity
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()


class SpyPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: PhoneName
    mode: SpyMode


class SpyStatus(BaseModel):
    listening: SpyView | None  # None: the supervisor's phone listens to nobody


@routes.post(
    "/api/supervisor/operators/{username}/spy/{mode}",
    access="supervisor",
    summary="Listen to, whisper to or barge into the operator's call on your phone (rings it; switches if listening)",
    refusals={
        404: ("operator_not_found",),
        409: ("operator_not_on_call", "no_supervisor_phone", "spy_on_self", "spy_phone_ringing"),
        502: ("asterisk_refused",),
        503: ("asterisk_unavailable",),
    },
)
async def spy_on_operator(request: web.Request, path: SpyPath, identity: Identity) -> SpyView:
    return await request.app[DEPS].spy.start(identity.username, path.username, path.mode)


@routes.get("/api/supervisor/spy", access="supervisor", summary="Whose call your phone listens to, if any")
async def get_spy(request: web.Request, identity: Identity) -> SpyStatus:
    return SpyStatus(listening=await request.app[DEPS].spy.current(identity.username))


@routes.delete(
    "/api/supervisor/spy",
    access="supervisor",
    summary="Stop listening: hang up your phone's listen",
    refusals={409: ("not_listening",), 503: ("asterisk_unavailable",)},
)
async def stop_spy(request: web.Request, identity: Identity) -> None:
    await request.app[DEPS].spy.stop(identity.username)
