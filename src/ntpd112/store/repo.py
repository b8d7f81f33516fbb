"""Queries for the API and the CLI. Reads only; all call writes go through the journal.

The call list is also the search (GET /api/calls, the console's search). A call's outcome there is the reports' one
rule (reports.rules.OUTCOME_RULE, in SQL by store.reports.outcome_expression), so the search never calls
"abandoned" what a report calls "answered".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ntpd112.reports.rules import CallOutcome
from ntpd112.room.config import ReportSettings
from ntpd112.store.db import Database
from ntpd112.store.history import PreviousCall, previous_calls
from ntpd112.store.locations import StoredArea
from ntpd112.store.models import Call, CallEvent, Incident, LocationFixRow
from ntpd112.store.reports import outcome_expression


class CallSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    uniqueid: str
    linkedid: str | None
    trunk: str | None
    carrier: str | None
    dialed_number: str | None
    caller_number_raw: str | None
    caller_number: str | None
    caller_name: str | None
    caller_presentation: str | None
    handled_by: str | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    hangup_cause: int | None
    hangup_cause_text: str | None


class TimelineEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    type: str
    data: dict[str, Any]


class FixView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source: str
    channel: str | None
    lat: float | None
    lon: float | None
    radius_m: float | None
    confidence: float | None
    method: str | None
    shape: str | None
    measured_at: datetime | None
    received_at: datetime
    radio: str | None
    mcc: int | None
    mnc: int | None
    area_code: int | None
    cell_id: int | None
    raw: str


class BestLocation(BaseModel):
    fix_id: uuid.UUID
    source: str | None
    lat: float | None
    lon: float | None
    radius_m: float | None
    measured_at: datetime | None


class CallerHistoryView(BaseModel):
    """Counts as intake saw them (None: the number is unknown or history was unavailable), and the earlier calls."""

    repeat_caller: bool | None
    calls_24h: int | None
    calls_30d: int | None
    previous_calls: list[PreviousCall]


class CallDetail(CallSummary):
    best_location: BestLocation | None
    area: StoredArea | None
    fixes: list[FixView]
    history: CallerHistoryView
    timeline: list[TimelineEvent]


def _best_location(call: Call) -> BestLocation | None:
    if call.best_fix_id is None:
        return None
    return BestLocation(
        fix_id=call.best_fix_id,
        source=call.best_source,
        lat=call.best_lat,
        lon=call.best_lon,
        radius_m=call.best_radius_m,
        measured_at=call.best_measured_at,
    )


def _area(call: Call) -> StoredArea | None:
    if call.area_id is None:
        return None
    return StoredArea(
        id=call.area_id,
        code=call.area_code,
        kabupaten=call.area_kabupaten,
        kecamatan=call.area_kecamatan,
        kelurahan=call.area_kelurahan,
    )


DEFAULT_PHANTOM_SECONDS = ReportSettings().phantom_abandon_seconds


@dataclass(frozen=True)
class CallFilter:
    """Every field set narrows the search; the empty filter lists every call."""

    # The caller's number in the forms a call may have stored it: E.164 (`caller_number`) or as the trunk sent it.
    numbers: tuple[str, ...] = ()
    start: datetime | None = None  # offered at or after
    end: datetime | None = None  # offered before
    category: str | None = None  # the incident's category
    outcome: CallOutcome | None = None
    operator: str | None = None  # who answered it
    kecamatan: str | None = None  # part of the kecamatan's name, any case


class CallListItem(CallSummary):
    outcome: CallOutcome
    category: str | None
    operator: str | None
    area_kecamatan: str | None
    area_kelurahan: str | None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(search: CallFilter, outcome: ColumnElement[str]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if search.numbers:
        conditions.append(or_(Call.caller_number.in_(search.numbers), Call.caller_number_raw.in_(search.numbers)))
    if search.start is not None:
        conditions.append(Call.offered_at >= search.start)
    if search.end is not None:
        conditions.append(Call.offered_at < search.end)
    if search.category is not None:
        conditions.append(Incident.category == search.category)
    if search.outcome is not None:
        conditions.append(outcome == search.outcome.value)
    if search.operator is not None:
        conditions.append(Call.operator == search.operator)
    if search.kecamatan is not None:
        conditions.append(Call.area_kecamatan.ilike(f"%{_like_escaped(search.kecamatan)}%", escape="\\"))
    return conditions


def _search_statement(search: CallFilter, phantom_seconds: float, limit: int, offset: int) -> Select[Call, str, str]:
    """Newest first; each call with its outcome and its incident's category."""
    outcome = outcome_expression(phantom_seconds)
    return (
        select(Call, outcome.label("outcome"), Incident.category)
        .outerjoin(Incident, Incident.call_id == Call.id)
        .where(*_conditions(search, outcome))
        .order_by(Call.offered_at.desc().nulls_last(), Call.id)
        .limit(limit)
        .offset(offset)
    )


def _list_item(call: Call, outcome: str, category: str | None) -> CallListItem:
    return CallListItem(
        **CallSummary.model_validate(call).model_dump(),
        outcome=CallOutcome(outcome),
        category=category,
        operator=call.operator,
        area_kecamatan=call.area_kecamatan,
        area_kelurahan=call.area_kelurahan,
    )


class Repository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def list_calls(
        self,
        limit: int = 50,
        offset: int = 0,
        search: CallFilter = CallFilter(),
        phantom_seconds: float = DEFAULT_PHANTOM_SECONDS,
    ) -> list[CallListItem]:
        """The calls `search` matches, newest first; `phantom_seconds` as in the room's reports settings."""
        statement = _search_statement(search, phantom_seconds, limit, offset)
        async with self._database.session() as session:
            rows = (await session.execute(statement)).all()
        return [_list_item(call, outcome, category) for call, outcome, category in rows]

    async def get_call(self, call_id: uuid.UUID) -> CallDetail | None:
        async with self._database.session() as session:
            call = await session.get(Call, call_id)
            if call is None:
                return None
            events = (
                await session.scalars(
                    select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.seq)
                )
            ).all()
            fixes = (
                await session.scalars(
                    select(LocationFixRow)
                    .where(LocationFixRow.call_id == call_id)
                    .order_by(LocationFixRow.received_at, LocationFixRow.id)
                )
            ).all()
            previous = (
                await previous_calls(session, call.caller_number, call.offered_at)
                if call.caller_number and call.offered_at
                else []
            )
        summary = CallSummary.model_validate(call)
        return CallDetail(
            **summary.model_dump(),
            best_location=_best_location(call),
            area=_area(call),
            fixes=[FixView.model_validate(fix) for fix in fixes],
            history=CallerHistoryView(
                repeat_caller=call.repeat_caller,
                calls_24h=call.calls_24h,
                calls_30d=call.calls_30d,
                previous_calls=previous,
            ),
            timeline=[TimelineEvent.model_validate(e) for e in events],
        )

    async def open_cards(self, operator: str, since: datetime) -> list[CallSummary]:
        """The calls `operator` answered since `since` that are still theirs to finish: not ended, or not classified
        (no incident) yet; oldest first."""
        statement = (
            select(Call)
            .outerjoin(Incident, Incident.call_id == Call.id)
            .where(
                Call.operator == operator,
                Call.operator_answered_at >= since,
                or_(Call.ended_at.is_(None), Incident.id.is_(None)),
            )
            .order_by(Call.operator_answered_at, Call.id)
        )
        async with self._database.session() as session:
            rows = (await session.scalars(statement)).all()
        return [CallSummary.model_validate(row) for row in rows]

    async def call_operator(self, call_id: uuid.UUID) -> str | None:
        """The operator who answered the call (app_queue's member name), or None."""
        async with self._database.session() as session:
            operator: str | None = await session.scalar(select(Call.operator).where(Call.id == call_id))
        return operator
