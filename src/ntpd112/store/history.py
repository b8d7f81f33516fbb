"""What the room already knows about a caller's number: counts read on the call path with a hard time limit, and
the earlier calls with their outcomes for the call card."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.logs import get_logger
from ntpd112.store.db import Database, intake_lookups
from ntpd112.store.models import Call, CallerFlag, Incident

log = get_logger(__name__)

HISTORY_WINDOW = timedelta(days=30)
REPEAT_WINDOW = timedelta(hours=24)
PREVIOUS_CALLS_SHOWN = 50


class CallerContext(BaseModel):
    calls_24h: int
    calls_30d: int
    prankster: bool

    @property
    def repeat_caller(self) -> bool:
        return self.calls_24h > 0


class CallerHistory:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._lookups = intake_lookups("caller history lookups")

    async def stop(self) -> None:
        await self._lookups.aclose()

    async def lookup(self, number_e164: str, now: datetime, exclude_uniqueid: str) -> CallerContext | None:
        """Counts of earlier calls (index on caller_number) and the prankster flag; None when unavailable."""
        try:
            return await self._lookups.run(self._read(number_e164, now, exclude_uniqueid))
        except Exception as error:  # history is a nice-to-have on the call path, never a blocker
            log.warning("caller history unavailable", error=type(error).__name__)
            return None

    async def _read(self, number_e164: str, now: datetime, exclude_uniqueid: str) -> CallerContext:
        parameters = {
            "number": number_e164,
            "day_ago": now - REPEAT_WINDOW,
            "month_ago": now - HISTORY_WINDOW,
            "uniqueid": exclude_uniqueid,
        }
        async with self._database.autocommit_connection() as connection:
            calls_24h, calls_30d, prankster = (await connection.execute(_CALLER_CONTEXT, parameters)).one()
        return CallerContext(calls_24h=calls_24h, calls_30d=calls_30d, prankster=bool(prankster))


# Intake's one statement (index on caller_number), made once: building it per call, and reading the flag through the
# ORM in a second statement, cost more than PostgreSQL's work.
_CALLER_CONTEXT = select(
    func.count().filter(Call.offered_at >= bindparam("day_ago")),
    func.count(),
    select(CallerFlag.prankster).where(CallerFlag.number == bindparam("number")).scalar_subquery(),
).where(
    Call.caller_number == bindparam("number"),
    Call.offered_at >= bindparam("month_ago"),
    Call.uniqueid != bindparam("uniqueid"),
)


class PreviousCall(BaseModel):
    """An earlier call of the same number and how it ended: answered or not, the incident found, the callback."""

    id: uuid.UUID
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    operator: str | None
    callback_status: str | None
    incident_category: str | None
    incident_status: str | None


async def previous_calls(session: AsyncSession, number_e164: str, before: datetime) -> list[PreviousCall]:
    """The number's calls in the HISTORY_WINDOW before `before`, newest first (index on caller_number)."""
    statement = (
        select(
            Call.id,
            Call.offered_at,
            Call.answered_at,
            Call.ended_at,
            Call.operator,
            Call.callback_status,
            Incident.category.label("incident_category"),
            Incident.status.label("incident_status"),
        )
        .outerjoin(Incident, Incident.call_id == Call.id)
        .where(
            Call.caller_number == number_e164,
            Call.offered_at >= before - HISTORY_WINDOW,
            Call.offered_at < before,
        )
        .order_by(Call.offered_at.desc())
        .limit(PREVIOUS_CALLS_SHOWN)
    )
    return [PreviousCall.model_validate(row, from_attributes=True) for row in (await session.execute(statement)).all()]
