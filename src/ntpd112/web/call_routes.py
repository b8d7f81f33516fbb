"""REST for the call records: the list and one call with its timeline."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.store.repo import CallDetail, CallSummary
from ntpd112.web.common import DEPS, ApiError
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
