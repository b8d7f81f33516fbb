"""What the room already knows about a caller's number: the counts intake reads (store/intake_lookups.py) and the
earlier calls with their outcomes for the call card."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.store.models import Call, Incident

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
