"""Rows waiting to be sent with retries (agency webhook deliveries, phone notifications of tickets): the claim that
leases due rows for one attempt, when the next one is due, and the agency's recent rows as an admin follows them. A
row has `id`, `agency`, `status` ('pending' while waiting), `attempts`, `created_at`, `next_attempt_at` and
`finished_at`; each attempt at it is a row of its own with the row's id and the attempt's number `attempt`.

A row is claimed by moving its next_attempt_at past the attempt's time limit (a lease): two services never send it
at once, and one that dies mid-attempt leaves it to be claimed again when the lease ends.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import distinct_on

from ntpd112.clock import utcnow
from ntpd112.store.db import Database


async def enqueue(
    database: Database, model: Any, row_id: uuid.UUID, ticket_id: uuid.UUID, agency: str, **fields: Any
) -> None:
    """A new row of `model` (its own `fields` besides the outbox's), due now."""
    now = utcnow()
    async with database.session() as session, session.begin():
        session.add(
            model(
                id=row_id,
                ticket_id=ticket_id,
                agency=agency,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                **fields,
            )
        )


def after_attempt(attempt: int, final: str | None, retry_in: float | None) -> dict[str, Any]:
    """A row's columns after its attempt number `attempt`: ended as `final`, else retried in `retry_in` seconds, or
    failed when that is None (the last attempt)."""
    now = utcnow()
    if final is not None:
        status, next_at, finished = final, now, now
    elif retry_in is None:
        status, next_at, finished = "failed", now, now
    else:
        status, next_at, finished = "pending", now + timedelta(seconds=retry_in), None
    return {"status": status, "attempts": attempt, "next_attempt_at": next_at, "finished_at": finished}


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


class OutboxRowView(BaseModel):
    """A row as an admin follows it: its state (what it carries, and its attempts' details, are the subclass's)."""

    id: uuid.UUID
    ticket_id: uuid.UUID
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None  # while pending
    finished_at: datetime | None

    @staticmethod
    def fields_of(row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "ticket_id": row.ticket_id,
            "status": row.status,
            "attempts": row.attempts,
            "created_at": row.created_at,
            "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
            "finished_at": row.finished_at,
        }


async def recent(
    database: Database, model: Any, attempt_row_id: Any, agency: str, limit: int, *last_attempt_columns: Any
) -> list[tuple[Any, ...]]:
    """The agency's rows of `model`, newest first, each with `last_attempt_columns` of its last attempt (None before
    the first). `attempt_row_id` is the attempt table's column naming the row."""
    attempt = attempt_row_id.class_
    last = (
        select(attempt_row_id, *last_attempt_columns)
        .ext(distinct_on(attempt_row_id))
        .order_by(attempt_row_id, attempt.attempt.desc())
        .subquery()
    )
    statement = (
        select(model, *(last.c[column.key] for column in last_attempt_columns))
        .outerjoin(last, last.c[attempt_row_id.key] == model.id)
        .where(model.agency == agency)
        .order_by(model.created_at.desc())
        .limit(limit)
    )
    async with database.session() as session:
        return [tuple(row) for row in (await session.execute(statement)).all()]
