"""REST for the call records: the list, one call with its timeline, an operator's manual pin and the recording."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.errors import RefusedError
from ntpd112.store.pins import PinStored
from ntpd112.store.repo import CallDetail, CallSummary
from ntpd112.web.auth import audit_entry, record_audit
from ntpd112.web.common import DEPS, ApiError, Identity, error_response
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


RECORDING_ACTION = "GET /api/calls/{call_id}/recording"
# Recordings hold a caller's voice: a browser may keep them in memory to play, never on disk or in a shared cache.
RECORDING_HEADERS = {"Content-Type": "audio/wav", "Cache-Control": "private, no-store"}


def _starts_playback(request: web.Request) -> bool | None:
    """Whether the request starts a playback (no range, or a range from byte 0; a player's later ranges are the
    same playback, seeking); None when its Range header does not parse."""
    if "Range" not in request.headers:
        return True
    try:
        start: int | None = request.http_range.start
    except ValueError:
        return None
    return start == 0


def _range_unsatisfiable(request: web.Request, size: int) -> web.Response | None:
    """aiohttp's FileResponse answers an unsatisfiable range with an empty 416; every refusal here is JSON."""
    try:
        start = request.http_range.start
    except ValueError:
        start = size
    if start is None or start < 0 or start < size:
        return None
    refused = error_response(416, "range_not_satisfiable", "the range is outside the recording", {"size": size})
    refused.headers["Content-Range"] = f"bytes */{size}"
    return refused


@routes.get(
    "/api/calls/{call_id}/recording",
    access="operator",
    summary="The call's recording (WAV), with range requests; every playback is audited",
    produces="audio/wav",
    description="200 with the whole file, or 206 Partial Content for a Range request (Accept-Ranges: bytes). "
    "Served once the call has ended.",
    refusals={
        404: ("call_not_found", "recording_not_found"),
        409: ("recording_in_progress",),
        416: ("range_not_satisfiable",),
    },
)
async def get_recording(request: web.Request, path: CallPath) -> web.StreamResponse:
    # One audit entry per playback, refusals included, not one per range a player fetches while it plays.
    audited = _starts_playback(request) is not False
    try:
        recording = await request.app[DEPS].recordings.file_of(path.call_id)
    except RefusedError as refused:
        if audited:
            await record_audit(request, audit_entry(request, RECORDING_ACTION, refused.status, refused.error_id))
        raise
    unsatisfiable = _range_unsatisfiable(request, recording.size)
    if audited:
        status, outcome = (
            (416, "range_not_satisfiable") if unsatisfiable else (206 if "Range" in request.headers else 200, "ok")
        )
        await record_audit(request, audit_entry(request, RECORDING_ACTION, status, outcome))
    return unsatisfiable or web.FileResponse(recording.path, headers=RECORDING_HEADERS)
