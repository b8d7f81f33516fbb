"""What the room already knows about a caller's number, read on the call path with a hard time limit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select

from ntpd112.logs import get_logger
from ntpd112.store.db import Database
from ntpd112.store.models import Call, CallerFlag

log = get_logger(__name__)

# Intake must stay fast even when PostgreSQL is slow or down: past this, the call goes on without history.
LOOKUP_TIMEOUT_SECONDS = 0.25


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

    async def lookup(self, number_e164: str, now: datetime, exclude_uniqueid: str) -> CallerContext | None:
        """Counts of earlier calls (index on caller_number) and the prankster flag; None when unavailable."""
        day_ago, month_ago = now - timedelta(hours=24), now - timedelta(days=30)
        counts = select(func.count().filter(Call.offered_at >= day_ago), func.count()).where(
            Call.caller_number == number_e164, Call.offered_at >= month_ago, Call.uniqueid != exclude_uniqueid
        )
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS), self._database.session() as session:
                calls_24h, calls_30d = (await session.execute(counts)).one()
                flag = await session.get(CallerFlag, number_e164)
        except Exception as error:  # history is a nice-to-have on the call path, never a blocker
            log.warning("caller history unavailable", error=type(error).__name__)
            return None
        return CallerContext(calls_24h=calls_24h, calls_30d=calls_30d, prankster=bool(flag and flag.prankster))
