"""The wallboard's queries (what they mean: reports/wallboard.py and reports/rules.py).

Each one reads a narrow slice through an index: today's calls and the 7 days before by `offered_at`, the waiting
calls and the operators' recent calls by `offered_at` too, open incidents through their calls; open dispatches,
open tickets and those past their limits: store/wallboard_dispatch.py. Outcomes are decided by
the reports' one rule in SQL (store/reports.outcome_expression). All of them run in one REPEATABLE READ
transaction, so the numbers agree with each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import LateralFromClause

from ntpd112.reports.rules import (
    SERVICE_LEVEL_OUTCOMES,
    SERVICE_LEVEL_TARGETS,
    CallOutcome,
    CategoryRow,
    ReportRange,
    category_rows,
    flow_of,
    service_level,
)
from ntpd112.reports.wallboard import (
    ABANDONED_LISTED,
    AVERAGE_DAYS,
    INCIDENT_WINDOW,
    WAITING_WINDOW,
    BoardAbandonedCall,
    BoardDispatch,
    BoardEscalation,
    BoardMapIncident,
    BoardOpenTicket,
    BoardToday,
    BoardWaitingCall,
    OpenCall,
    hours_against_average,
    nuisance,
)
from ntpd112.room.priority import PriorityReason, priority_reasons
from ntpd112.routing.categories import Category, category_index
from ntpd112.store.db import Database
from ntpd112.store.models import Call, CallerFlag, CallEvent, Incident, Operator
from ntpd112.store.reports import answer_seconds, outcome_expression
from ntpd112.store.wallboard_dispatch import FAILED, one_of, open_dispatches, open_tickets

# The dialplan's UserEvents when a call goes on to the supervisors, then the backup number (queue/events.py).
OVERFLOW_EVENTS = ("overflow", "overflow_backup")
# A supervisor raised the waiting call's priority (queue/controls.py).
RAISED_EVENT = "priority_raised"
EARLIER_HOURS_TTL = 600.0  # seconds
# One snapshot for every query of a read, so that the numbers agree with each other.
SNAPSHOT = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
# How far back an operator's calls tell whether they are on one or wrapping up (a shift, with margin).
OPERATOR_CALLS_WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class OperatorRecord:
    username: str
    name: str
    role: str
    logged_in: bool
    paused: bool
    pause_reason: str | None
    state_changed_at: datetime | None
    open_call: OpenCall | None
    last_call_ended_at: datetime | None


@dataclass(frozen=True)
class WallboardRecords:
    waiting: list[BoardWaitingCall]
    operators: list[OperatorRecord]
    today: BoardToday
    incidents: list[BoardMapIncident]
    tickets: list[BoardOpenTicket]
    dispatches: list[BoardDispatch]
    escalations: list[BoardEscalation]


class WallboardRepository:
    def __init__(self, database: Database) -> None:
        self._database = database
        # The hourly totals of the days before today (they only change when reconciliation adds a call the service
        # missed): read once per room day and EARLIER_HOURS_TTL, not at every refresh of every wallboard.
        self._earlier_hours: tuple[date, float, dict[int, int]] | None = None

    async def read(
        self,
        now: datetime,
        day: ReportRange,
        phantom_seconds: float,
        categories: list[Category],
        agency_names: Mapping[str, str],
    ) -> WallboardRecords:
        """Everything the wallboard shows from the records; `day` is today in the room's time zone."""
        async with self._database.session() as session, session.begin():
            # The snapshot in the BEGIN itself (no SET TRANSACTION of its own: one round trip less per read).
            await session.connection(execution_options=SNAPSHOT)
            earlier_hours = await self._hours_before(session, day)
            # Today began less than INCIDENT_WINDOW ago: one pass over the window's incidents serves both today's
            # categories and the open incidents.
            today_categories, open_ids, failed_calls = await _recent_incidents(session, now - INCIDENT_WINDOW, day)
            tickets, escalations = await open_tickets(session, now, categories, agency_names)
            return WallboardRecords(
                waiting=await _waiting(session, now, phantom_seconds),
                operators=await _operators(session, now),
                today=await _today(
                    session, day, phantom_seconds, category_rows(today_categories, categories), earlier_hours
                ),
                incidents=await _open_incidents(session, open_ids, categories),
                tickets=tickets,
                dispatches=await open_dispatches(session, now, failed_calls, categories, agency_names),
                escalations=escalations,
            )

    async def _hours_before(self, session: AsyncSession, day: ReportRange) -> dict[int, int]:
        cached = self._earlier_hours
        if cached is not None and cached[0] == day.first and monotonic() - cached[1] < EARLIER_HOURS_TTL:
            return cached[2]
        hours = _hours(await _hours_rows(session, day.start - timedelta(days=AVERAGE_DAYS), day.start), day)
        self._earlier_hours = (day.first, monotonic(), hours)
        return hours


async def _waiting(session: AsyncSession, now: datetime, phantom_seconds: float) -> list[BoardWaitingCall]:
    overflowed = select(CallEvent.id).where(CallEvent.call_id == Call.id, CallEvent.type.in_(OVERFLOW_EVENTS)).exists()
    raised = select(CallEvent.id).where(CallEvent.call_id == Call.id, CallEvent.type == RAISED_EVENT).exists()
    statement = (
        select(Call, func.coalesce(CallerFlag.prankster, False), overflowed, raised)
        .outerjoin(CallerFlag, CallerFlag.number == Call.caller_number)
        .where(
            Call.offered_at >= now - WAITING_WINDOW,
            outcome_expression(phantom_seconds) == CallOutcome.WAITING.value,
        )
        .order_by(Call.offered_at)
    )
    return [
        BoardWaitingCall(
            call_id=call.id,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            offered_at=call.offered_at,
            queue_joined_at=call.queue_joined_at,
            overflowed=sent_on,
            priority=call.queue_priority,
            priority_reasons=priority_reasons(
                has_location=call.best_lat is not None,
                repeat_caller=bool(call.repeat_caller),
                prankster=prankster,
            )
            + ([PriorityReason.SUPERVISOR] if by_supervisor else []),
            repeat_caller=bool(call.repeat_caller),
            calls_24h=call.calls_24h,
            kecamatan=call.area_kecamatan,
            kelurahan=call.area_kelurahan,
        )
        for call, prankster, sent_on, by_supervisor in (await session.execute(statement))
        if call.offered_at is not None
    ]


async def _operators(session: AsyncSession, now: datetime) -> list[OperatorRecord]:
    recent = (
        Call.offered_at >= now - OPERATOR_CALLS_WINDOW,
        Call.operator.is_not(None),
        Call.operator_answered_at.is_not(None),
    )
    open_calls = await session.execute(
        select(Call.operator, Call.id, Call.caller_number, Call.operator_answered_at)
        .where(*recent, Call.ended_at.is_(None))
        .order_by(Call.operator_answered_at)
    )
    # The latest answered call of an operator wins (a call left open by a crash does not hide a newer one).
    open_by_operator = {
        operator: OpenCall(call_id, number, answered_at)
        for operator, call_id, number, answered_at in open_calls
        if operator is not None and answered_at is not None
    }
    # The operator's talk ends at app_queue's AgentComplete (answer + talk time); the caller may stay on longer
    # (a dispatch), so the caller's channel end is only the fallback.
    talk_end = func.coalesce(Call.operator_answered_at + Call.talk_seconds * timedelta(seconds=1), Call.ended_at)
    last_ended = dict(
        (await session.execute(select(Call.operator, func.max(talk_end)).where(*recent).group_by(Call.operator))).all()
    )
    operators = await session.scalars(select(Operator).order_by(Operator.username))
    return [
        OperatorRecord(
            username=row.username,
            name=row.name,
            role=row.role,
            logged_in=row.logged_in,
            paused=row.paused,
            pause_reason=row.pause_reason,
            state_changed_at=row.state_changed_at,
            open_call=open_by_operator.get(row.username),
            last_call_ended_at=last_ended.get(row.username),
        )
        for row in operators
    ]


def _incident_of_call(*columns: Any) -> LateralFromClause:
    """The call's incident (at most one: incidents.call_id is unique) as a LATERAL subquery. Its LIMIT keeps
    PostgreSQL from flattening it into a join, which it would run as a hash join over every incident ever recorded
    (a parallel scan of the whole table, 100+ ms at a million calls) instead of one index lookup per call of the
    slice (a few ms)."""
    return select(*columns).where(Incident.call_id == Call.id).limit(1).lateral()


async def _today(
    session: AsyncSession,
    day: ReportRange,
    phantom_seconds: float,
    by_category: list[CategoryRow],
    earlier_hours: dict[int, int],
) -> BoardToday:
    in_day = (Call.offered_at >= day.start, Call.offered_at < day.end)
    outcome = outcome_expression(phantom_seconds)
    # One pass over today's calls for the outcomes, the service levels and the hours.
    facts = (
        select(outcome.label("outcome"), answer_seconds().label("answer"), _utc_hour().label("hour"))
        .where(*in_day)
        .subquery()
    )
    counts: dict[CallOutcome, int] = {}
    within = [0] * len(SERVICE_LEVEL_TARGETS)
    per_hour: dict[datetime, int] = {}
    rows = await session.execute(
        select(
            facts.c.outcome,
            facts.c.hour,
            func.count(),
            *(func.count().filter(facts.c.answer <= target.within_seconds) for target in SERVICE_LEVEL_TARGETS),
        ).group_by(facts.c.outcome, facts.c.hour)
    )
    for name, hour_start, count, *answered_within in rows:
        counts[CallOutcome(name)] = counts.get(CallOutcome(name), 0) + count
        within = [total + n for total, n in zip(within, answered_within, strict=True)]
        per_hour[hour_start] = per_hour.get(hour_start, 0) + count
    counted = sum(counts.get(o, 0) for o in SERVICE_LEVEL_OUTCOMES)
    flow = flow_of(counts)
    today_hours = _hours(list(per_hour.items()), day)

    abandoned = await session.execute(
        select(
            Call.id,
            Call.caller_number,
            Call.offered_at,
            Call.wait_seconds,
            Call.callback_status,
            Call.callback_outcome,
            Call.callback_taken_by,
        )
        .where(*in_day, outcome == CallOutcome.ABANDONED.value)
        .order_by(Call.offered_at.desc())
        .limit(ABANDONED_LISTED)
    )
    return BoardToday(
        day=day.first,
        timezone=day.timezone,
        phantom_abandon_seconds=phantom_seconds,
        flow=flow,
        service_levels=[service_level(t, n, counted) for t, n in zip(SERVICE_LEVEL_TARGETS, within, strict=True)],
        abandoned=[
            BoardAbandonedCall(
                call_id=call_id,
                caller_number=number,
                offered_at=offered_at,
                wait_seconds=None if wait is None else round(wait, 1),
                callback_status=status,
                callback_outcome=callback_outcome,
                callback_taken_by=taken_by,
            )
            for call_id, number, offered_at, wait, status, callback_outcome, taken_by in abandoned
        ],
        by_hour=hours_against_average(today_hours, earlier_hours, AVERAGE_DAYS),
        by_category=by_category,
        nuisance=nuisance(by_category, flow.offered),
    )


def _utc_hour() -> ColumnElement[datetime]:
    """The UTC hour a call was offered in (room hours: _hours)."""
    return func.date_trunc("hour", func.timezone("UTC", Call.offered_at))


async def _hours_rows(session: AsyncSession, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Calls offered per UTC hour from `start` to `end`: an index-only scan with a cheap date_trunc per row."""
    utc_hour = _utc_hour()
    rows = await session.execute(
        select(utc_hour, func.count()).where(Call.offered_at >= start, Call.offered_at < end).group_by(utc_hour)
    )
    return [(hour_start, count) for hour_start, count in rows]


def _hours(rows: list[tuple[datetime, int]], day: ReportRange) -> dict[int, int]:
    """UTC hours as room hours (0-23), summed over the days: the three Indonesian zones are whole hours ahead of
    UTC, so every UTC hour is one room hour."""
    zone = ZoneInfo(day.timezone)
    hours: dict[int, int] = {}
    for hour_start, count in rows:
        local = hour_start.replace(tzinfo=UTC).astimezone(zone)
        hours[local.hour] = hours.get(local.hour, 0) + count
    return hours


async def _recent_incidents(
    session: AsyncSession, since: datetime, day: ReportRange
) -> tuple[list[tuple[str, int]], list[uuid.UUID], list[uuid.UUID]]:
    """Over the incidents of the calls offered since `since` (today included): today's count per category, the
    ids of those not closed, and the calls of those whose dispatch failed (for the dispatch panel)."""
    incident = _incident_of_call(Incident.id, Incident.category, Incident.status)
    in_today = and_(Call.offered_at >= day.start, Call.offered_at < day.end)
    rows = await session.execute(
        select(
            incident.c.category,
            func.count().filter(in_today),
            func.array_agg(incident.c.id).filter(incident.c.status != "closed"),
            func.array_agg(Call.id).filter(incident.c.status == FAILED),
        )
        .select_from(Call)
        .join(incident, true())
        .where(Call.offered_at >= since)
        .group_by(incident.c.category)
    )
    counts: list[tuple[str, int]] = []
    open_ids: list[uuid.UUID] = []
    failed_calls: list[uuid.UUID] = []
    for category, today, not_closed, failed in rows:
        if today:
            counts.append((category, today))
        open_ids += not_closed or []
        failed_calls += failed or []
    return counts, open_ids, failed_calls


async def _open_incidents(
    session: AsyncSession, ids: list[uuid.UUID], categories: list[Category]
) -> list[BoardMapIncident]:
    if not ids:
        return []
    known = category_index(categories)
    # Columns, not Incident entities: hydrating hundreds of ORM objects cost more than the query.
    rows = await session.execute(
        select(
            Incident.call_id,
            Incident.category,
            Incident.status,
            Incident.severity,
            func.coalesce(Incident.lat, Call.best_lat),
            func.coalesce(Incident.lon, Call.best_lon),
            Call.area_kecamatan,
            Incident.created_at,
        )
        .join(Call, Call.id == Incident.call_id)
        .where(one_of(Incident.id, ids))
        .order_by(Incident.created_at.desc())
    )
    return [
        BoardMapIncident(
            call_id=call_id,
            category=category,
            label=known[category].label_id if category in known else category,
            status=status,
            severity=severity,
            lat=lat,
            lon=lon,
            kecamatan=kecamatan,
            created_at=created_at,
        )
        for call_id, category, status, severity, lat, lon, kecamatan, created_at in rows
    ]
