"""REST for the call records: the list, one call with its timeline, and an operator's manual pin."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.store.pins import PinStored
from ntpd112.store.repo import CallDetail, CallSummary
from ntpd112.web.common import DEPS, ApiError, Identity
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
# Deeper pages are no use to a person and PostgreSQL's OFFSET is a bigint: bound it well inside.
MAX_OFFSET = 1_000_000


class CallPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: uuid.UUID


class CallListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PinRequest(BaseModel):
    """Where the operator puts the caller: a point and how sure they are (the radius), with an optional note."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)
    lon: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)
    radius_m: float = Field(50.0, ge=1.0, le=100_000.0, allow_inf_nan=False)
    # One line of text for the timeline: no control characters.
    note: str | None = Field(None, max_length=280, pattern=r"^[^\x00-\x1f\x7f]*$")


@routes.get("/api/calls", access="operator", summary="Calls, newest first")
async def list_calls(request: web.Request, query: CallListQuery) -> list[CallSummary]:
    return await request.app[DEPS].repository.list_calls(query.limit, query.offset)


@routes.get(
    "/api/calls/{call_id}",
    access="operator",
    summary="One call with its timeline",
    refusals={404: ("call_not_found",)},
)
async def get_call(request: web.Request, path: CallPath) -> CallDetail:
    call = await request.app[DEPS].repository.get_call(path.call_id)
    if call is None:
        raise ApiError(404, "call_not_found", "no call with this id", {"id": str(path.call_id)})
    return call


@routes.post(
    "/api/calls/{call_id}/locations",
    access="operator",
    summary="Pin the caller's location by hand (a fix of source operator)",
    status=201,
    refusals={404: ("call_not_found",)},
)
async def pin_location(request: web.Request, path: CallPath, body: PinRequest, identity: Identity) -> PinStored:
    return await request.app[DEPS].pins.store(
        path.call_id, body.lat, body.lon, body.radius_m, body.note, identity.username
    )
