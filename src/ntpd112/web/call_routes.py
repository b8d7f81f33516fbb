"""REST for the call records: the list, one call with its timeline, an operator's manual pin and the recording."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.errors import RefusedError
from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.numbering import normalize_phone_number
from ntpd112.pbx.phones import PhoneName
from ntpd112.reports.rules import CallOutcome
from ntpd112.routing.categories import CategoryId
from ntpd112.store.pins import PinStored
from ntpd112.store.repo import CallDetail, CallFilter, CallListItem
from ntpd112.web.auth import audit_entry, record_audit
from ntpd112.web.common import DEPS, ApiError, Identity, error_response, require_call_of
from ntpd112.web.endpoints import RouteTable
from ntpd112.web.report_routes import EARLIEST, LATEST

routes = RouteTable()
# Deeper pages are no use to a person and PostgreSQL's OFFSET is a bigint: bound it well inside.
MAX_OFFSET = 1_000_000


class CallPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: uuid.UUID


class CallListQuery(BaseModel):
    """The list and its search: every filter given narrows it."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    number: str | None = Field(
        None,
        max_length=40,
        pattern=r"^\+?[0-9 ().\-/]+$",
        description="The caller's number in any format (0812-..., 62812..., +62812...)",
    )
    first: date | None = Field(None, alias="from", ge=EARLIEST, le=LATEST, description="First day, room's time zone")
    last: date | None = Field(None, alias="to", ge=EARLIEST, le=LATEST, description="Last day (included)")
    category: CategoryId | None = None
    outcome: CallOutcome | None = None
    operator: PhoneName | None = None
    kecamatan: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")


def _number_forms(text: str) -> tuple[str, ...]:
    """The forms a call may have stored the number in: its E.164 form and the dial string as typed."""
    try:
        number = normalize_phone_number(text)
    except IntakeParseError as error:
        raise ApiError(400, "invalid_number", error.message) from None
    return tuple(form for form in (number.e164, number.raw) if form)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def call_filter(query: CallListQuery, timezone: str) -> CallFilter:
    """The query as the store's filter: days are whole days in the room's time zone, as in the reports."""
    if query.first is not None and query.last is not None and query.first > query.last:
        raise ApiError(400, "invalid_range", "the range starts after it ends (from > to)")
    zone = ZoneInfo(timezone)
    return CallFilter(
        numbers=_number_forms(query.number) if query.number is not None else (),
        start=_midnight(query.first, zone) if query.first is not None else None,
        end=_midnight(query.last + timedelta(days=1), zone) if query.last is not None else None,
        category=query.category,
        outcome=query.outcome,
        operator=query.operator,
        kecamatan=query.kecamatan,
    )


class PinRequest(BaseModel):
    """Where the operator puts the caller: a point and how sure they are (the radius), with an optional note."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)
    lon: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)
    radius_m: float = Field(50.0, ge=1.0, le=100_000.0, allow_inf_nan=False)
    # One line of text for the timeline: no control characters.
    note: str | None = Field(None, max_length=280, pattern=r"^[^\x00-\x1f\x7f]*$")


@routes.get(
    "/api/calls",
    access="operator",
    summary="Calls, newest first, with their outcome; filtered by number, days, category, outcome, operator, area",
    refusals={400: ("invalid_number", "invalid_range")},
)
async def list_calls(request: web.Request, query: CallListQuery) -> list[CallListItem]:
    deps = request.app[DEPS]
    settings = deps.report_settings
    search = call_filter(query, settings.timezone)
    return await deps.repository.list_calls(query.limit, query.offset, search, settings.phantom_abandon_seconds)


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
    refusals={403: ("not_your_call",), 404: ("call_not_found",)},
)
async def pin_location(request: web.Request, path: CallPath, body: PinRequest, identity: Identity) -> PinStored:
    await require_call_of(request, identity, path.call_id, unanswered_too=True)
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
