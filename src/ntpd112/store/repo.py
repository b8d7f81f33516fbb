"""Queries for the API and the CLI. Reads only; all call writes go through the journal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select

from ntpd112.store.db import Database
from ntpd112.store.history import PreviousCall, previous_calls
from ntpd112.store.locations import StoredArea
from ntpd112.store.models import Call, CallEvent, Incident, LocationFixRow


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


class Repository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def list_calls(self, limit: int = 50, offset: int = 0) -> list[CallSummary]:
        statement = select(Call).order_by(Call.offered_at.desc().nulls_last(), Call.id).limit(limit).offset(offset)
        async with self._database.session() as session:
            rows = (await session.scalars(statement)).all()
        return [CallSummary.model_validate(row) for row in rows]

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
