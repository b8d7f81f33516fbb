"""Rows waiting to be sent with retries (agency webhook deliveries, phone notifications of tickets): the claim that
leases due rows for one attempt, and when the next one is due. A row has `id`, `status` ('pending' while waiting)
and `next_attempt_at`.

A row is claimed by moving its next_attempt_at past the attempt's time limit (a lease): two services never send it
at once, and one that dies mid-attempt leaves it to be claimed again when the lease ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select, update

from ntpd112.clock import utcnow
from ntpd112.store.db import Database


async def claim_due(database: Database, model: Any, limit: int, lease: timedelta, *columns: Any) -> list[Row[Any]]:
    """Pending rows of `model` whose time has come (oldest first), each leased for one attempt; answers `columns`."""
    now = utcnow()
    due = (
        select(model.id)
        .where(model.status == "pending", model.next_attempt_at <= now)
        .order_by(model.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = update(model).where(model.id.in_(due.scalar_subquery())).values(next_attempt_at=now + lease)
    async with database.session() as session, session.begin():
        return list((await session.execute(claim.returning(*columns))).all())


async def next_due_at(database: Database, model: Any) -> datetime | None:
    async with database.session() as session:
        found: datetime | None = await session.scalar(
            select(model.next_attempt_at).where(model.status == "pending").order_by(model.next_attempt_at).limit(1)
        )
        return found
