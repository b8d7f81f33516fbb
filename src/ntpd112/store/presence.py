"""Operators' presence as history (table operator_presence) and the operator time the reports sum from it
(definitions: reports/rules.py; what a row means: reports/operator_time.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Table, and_, cast, extract, func, insert, literal, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ntpd112.reports.operator_time import OperatorTime, Presence, PresenceState
from ntpd112.reports.rules import CallOutcome
from ntpd112.store.db import Database
from ntpd112.store.models import OperatorPresence


class PresenceLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, operator: str, at: datetime, presence: Presence) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(
                insert(OperatorPresence).values(
                    operator=operator, at=at, state=presence.state.value, reason=presence.reason
                )
            )


def epoch_seconds(interval: ColumnElement[Any]) -> ColumnElement[float]:
    """An interval in seconds (PostgreSQL's epoch of it), as a float."""
    return cast(extract("epoch", interval), Float)


async def operator_times(
    session: AsyncSession, calls: Table, start: datetime, end: datetime, wrapup_seconds: float | None
) -> dict[str, OperatorTime]:
    """Per operator with presence in [start, end): available and paused seconds, and wrap-up after the answered
    calls of `calls` (the report's temporary table). `end`: the range's end, or now for a range that reaches it."""
    presence = OperatorPresence
    columns = (presence.operator, presence.state, presence.reason, presence.at, presence.id)
    inside = select(*columns).where(presence.at >= start, presence.at < end)
    # The state each operator was in when the range began: their last row before it.
    carried_in = (
        select(*columns)
        .ext(distinct_on(presence.operator))
        .where(presence.at < start)
        .order_by(presence.operator, presence.at.desc(), presence.id.desc())
    )
    rows = union_all(inside, select(carried_in.subquery())).subquery()
    spans = select(
        rows.c.operator,
        rows.c.state,
        func.coalesce(rows.c.reason, literal_column("''")).label("reason"),  # "": paused without a reason
        func.greatest(rows.c.at, start).label("since"),
        func.least(
            func.coalesce(
                func.lead(rows.c.at).over(partition_by=rows.c.operator, order_by=(rows.c.at, rows.c.id)), end
            ),
            end,
        ).label("until"),
    ).subquery()
    statement = (
        select(
            spans.c.operator,
            spans.c.state,
            spans.c.reason,
            func.sum(epoch_seconds(spans.c.until - spans.c.since)),
        )
        .where(spans.c.until > spans.c.since, spans.c.state != PresenceState.LOGGED_OUT.value)
        .group_by(spans.c.operator, spans.c.state, spans.c.reason)
    )
    available: dict[str, float] = {}
    paused: dict[str, dict[str, float]] = {}
    for operator, state, reason, total in await session.execute(statement):
        if state == PresenceState.PAUSED.value:
            paused.setdefault(operator, {})[reason] = total
        else:
            available[operator] = available.get(operator, 0.0) + total
    wrap_ups = await _wrap_ups(session, calls, wrapup_seconds) if wrapup_seconds is not None else {}
    return {
        operator: OperatorTime(
            available=available.get(operator, 0.0),
            paused=paused.get(operator, {}),
            wrap_up=None if wrapup_seconds is None else wrap_ups.get(operator, 0.0),
        )
        for operator in available.keys() | paused.keys()
    }


async def _wrap_ups(session: AsyncSession, calls: Table, wrapup_seconds: float) -> dict[str, float]:
    """The queue's wrap-up after each answered call, cut short by the operator's next answer."""
    talk_end = calls.c.operator_answered_at + func.make_interval(0, 0, 0, 0, 0, 0, calls.c.talk_seconds)
    next_answer = func.lead(calls.c.operator_answered_at).over(
        partition_by=calls.c.operator, order_by=calls.c.operator_answered_at
    )
    per_call = (
        select(
            calls.c.operator,
            func.least(
                literal(float(wrapup_seconds)),
                func.greatest(0.0, func.coalesce(epoch_seconds(next_answer - talk_end), float(wrapup_seconds))),
            ).label("wrap_up"),
        )
        .where(
            and_(
                calls.c.outcome == CallOutcome.ANSWERED.value,
                calls.c.operator.is_not(None),
                calls.c.talk_seconds.is_not(None),
            )
        )
        .subquery()
    )
    statement = select(per_call.c.operator, func.sum(per_call.c.wrap_up)).group_by(per_call.c.operator)
    return {operator: total for operator, total in await session.execute(statement)}
