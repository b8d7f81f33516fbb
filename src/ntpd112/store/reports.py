"""The room's reports, aggregated in PostgreSQL (definitions: reports/rules.py).

Every section reads the same set of calls: the calls offered in the range, each with its outcome decided by
reports.rules.OUTCOME_RULE stated in SQL (:func:`outcome_expression`), gathered once into a temporary table. The
sections run in one REPEATABLE READ transaction, so they agree with each other even while calls keep arriving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ntpd112.reports.operator_time import operator_rows, pause_rows
from ntpd112.reports.rules import (
    OUTCOME_RULE,
    SERVICE_LEVEL_OUTCOMES,
    SERVICE_LEVEL_TARGETS,
    WEEKDAY_NAMES,
    AgencyRow,
    AnswerTimes,
    AreaRow,
    BreachRow,
    CallbackRow,
    CallOutcome,
    CategoryRow,
    Condition,
    DayRow,
    Flow,
    HourRow,
    OperatorRow,
    ProcessingTimes,
    RecapGroup,
    Report,
    ReportRange,
    Totals,
    TrunkRow,
    WeekdayRow,
    category_rows,
    flow_of,
    report_names,
    seconds,
    service_level,
)
from ntpd112.room.config import ReportSettings
from ntpd112.routing.categories import Category, category_index
from ntpd112.routing.deadlines import Deadline
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.db import Database
from ntpd112.store.models import Call, CallEvent, Incident, Ticket, TicketEscalation
from ntpd112.store.presence import epoch_seconds as _epoch_seconds
from ntpd112.store.presence import operator_times

DISPATCH_ATTEMPT = "dispatch_attempt"
AGENCY_ANSWERED = "agency_answered"
_GROUP_TOTALS = {
    RecapGroup.VALID_EMERGENCY: "valid_emergencies",
    RecapGroup.INFORMATION: "information",
    RecapGroup.NON_EMERGENCY_COMPLAINT: "non_emergency_complaints",
    RecapGroup.PRANK: "prank",
    RecapGroup.SILENT: "silent",
    RecapGroup.WRONG_NUMBER: "wrong_number",
    RecapGroup.TEST: "test",
    RecapGroup.OTHER: "other_category",
}


def outcome_expression(phantom_seconds: float) -> ColumnElement[str]:
    """reports.rules.OUTCOME_RULE in SQL: the same conditions, in the same order."""
    conditions: dict[Condition, ColumnElement[bool]] = {
        Condition.OPERATOR_ANSWERED: Call.operator_answered_at.is_not(None),
        Condition.LEFT_QUEUE_BEFORE_THRESHOLD: Call.abandoned_at - Call.offered_at < timedelta(seconds=phantom_seconds),
        Condition.LEFT_QUEUE: Call.abandoned_at.is_not(None),
        Condition.NOT_ENDED: Call.ended_at.is_(None),
    }
    *decided, (last_condition, otherwise) = OUTCOME_RULE
    assert last_condition is Condition.OTHERWISE
    return case(*((conditions[c], literal(o.value)) for c, o in decided), else_=literal(otherwise.value))


def answer_seconds() -> ColumnElement[float]:
    """Seconds from offer to an operator's answer: the one definition the reports and the wallboard count by."""
    return case(
        (
            Call.operator_answered_at.is_not(None),
            func.greatest(0.0, _epoch_seconds(Call.operator_answered_at - Call.offered_at)),
        )
    )


# The calls of the report, each with its outcome and the facts the sections group by: computed once per report into
# a temporary table (dropped at the end of the transaction), so the sections do not each scan the calls again.
_REPORT_CALLS = Table(
    "report_calls",
    MetaData(),
    Column("id", UUID(as_uuid=True)),
    Column("outcome", String(20)),
    Column("answer_seconds", Float),
    Column("operator_answered_at", DateTime(timezone=True)),
    Column("operator", String(40)),
    Column("talk_seconds", Float),
    Column("trunk", String(80)),
    Column("carrier", String(80)),
    Column("area_kecamatan", String(256)),
    Column("area_kelurahan", String(256)),
    Column("callback_status", String(16)),
    Column("callback_outcome", String(40)),
    Column("hour", Integer),
    Column("weekday", Integer),
    Column("day", Date),
    Column("category", String(40)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _report_calls(period: ReportRange, phantom_seconds: float) -> Insert:
    local = func.timezone(period.timezone, Call.offered_at)
    facts = (
        select(
            Call.id,
            outcome_expression(phantom_seconds),
            answer_seconds(),
            Call.operator_answered_at,
            Call.operator,
            Call.talk_seconds,
            Call.trunk,
            Call.carrier,
            Call.area_kecamatan,
            Call.area_kelurahan,
            Call.callback_status,
            Call.callback_outcome,
            cast(extract("hour", local), Integer),
            cast(extract("isodow", local), Integer),
            cast(local, Date),
            Incident.category,
        )
        .outerjoin(Incident, Incident.call_id == Call.id)
        .where(Call.offered_at >= period.start, Call.offered_at < period.end)
    )
    return insert(_REPORT_CALLS).from_select(list(_REPORT_CALLS.c.keys()), facts)


def _percentile(fraction: float, value: ColumnElement[Any]) -> ColumnElement[float]:
    return func.percentile_cont(fraction).within_group(value)


class ReportRepository:
    def __init__(self, database: Database, wrapup_seconds: float | None = None) -> None:
        """`wrapup_seconds`: the queue's wrap-up time ([queue] in room.toml); None: wrap-up is not reported."""
        self._database = database
        self._wrapup_seconds = wrapup_seconds

    async def build(
        self,
        period: ReportRange,
        settings: ReportSettings,
        table: RoutingTable | None,
        generated_at: datetime,
    ) -> Report:
        """The report of `period`, with the categories and agency names of `table` (None: the defaults)."""
        categories, agency_names = report_names(table)
        calls = _REPORT_CALLS
        async with self._database.session() as session, session.begin():
            # One snapshot for every section; nothing but the temporary table is written.
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            connection = await session.connection()
            await connection.run_sync(lambda sync: _REPORT_CALLS.create(sync))
            await session.execute(_report_calls(period, settings.phantom_abandon_seconds))
            await session.execute(text(f"ANALYZE {_REPORT_CALLS.name}"))  # the planner's row counts for the joins
            by_category = await self._categories(session, calls, categories)
            totals, answer_times, service_levels = await self._totals(session, calls, by_category)
            by_agency, processing, dispatched, acknowledged = await self._agencies(session, calls, agency_names)
            breaches = await _breaches(session, period, categories, agency_names)
            flows = _Flows(session, calls)
            times = await operator_times(
                session, calls, period.start, min(period.end, generated_at), self._wrapup_seconds
            )
            return Report(
                pemda=settings.pemda_name,
                period_from=period.first,
                period_to=period.last,
                timezone=period.timezone,
                phantom_abandon_seconds=settings.phantom_abandon_seconds,
                generated_at=generated_at,
                totals=totals.model_copy(
                    update={
                        "dispatched": dispatched,
                        "acknowledged_by_agency": acknowledged,
                        "breached_acknowledge": sum(row.acknowledge for row in breaches),
                        "breached_resolve": sum(row.resolve for row in breaches),
                    }
                ),
                answer_times=answer_times,
                service_levels=service_levels,
                processing=processing,
                by_category=by_category,
                by_agency=by_agency,
                by_area=[
                    AreaRow(kecamatan=k, kelurahan=d, **flow.model_dump())
                    for (k, d), flow in (await flows.by(calls.c.area_kecamatan, calls.c.area_kelurahan)).items()
                ],
                by_operator=operator_rows(await self._operators(session, calls), times),
                operator_pauses=pause_rows(times),
                by_trunk=[
                    TrunkRow(trunk=t, carrier=c, **flow.model_dump())
                    for (t, c), flow in (await flows.by(calls.c.trunk, calls.c.carrier)).items()
                ],
                by_hour=[
                    HourRow(hour=h, **flow.model_dump()) for h, flow in await flows.filled(calls.c.hour, range(24))
                ],
                by_weekday=[
                    WeekdayRow(weekday=w, name=WEEKDAY_NAMES[w - 1], **flow.model_dump())
                    for w, flow in await flows.filled(calls.c.weekday, range(1, 8))
                ],
                by_day=[
                    DayRow(day=d, **flow.model_dump()) for d, flow in await flows.filled(calls.c.day, _days(period))
                ],
                callbacks=await self._callbacks(session, calls),
                breaches=breaches,
            )

    async def _categories(
        self, session: AsyncSession, calls: Table, categories: Sequence[Category]
    ) -> list[CategoryRow]:
        statement = (
            select(calls.c.category, func.count()).where(calls.c.category.is_not(None)).group_by(calls.c.category)
        )
        return category_rows((await session.execute(statement)), categories)

    async def _totals(
        self, session: AsyncSession, calls: Table, by_category: list[CategoryRow]
    ) -> tuple[Totals, AnswerTimes, list[Any]]:
        outcomes = {
            CallOutcome(outcome): count
            for outcome, count in await session.execute(select(calls.c.outcome, func.count()).group_by(calls.c.outcome))
        }
        answered = calls.c.outcome == CallOutcome.ANSWERED.value
        wait = calls.c.answer_seconds
        row = (
            await session.execute(
                select(
                    _percentile(0.5, wait),
                    _percentile(0.9, wait),
                    _percentile(0.95, wait),
                    func.avg(wait),
                    func.max(wait),
                    func.count().filter(and_(answered, calls.c.category.is_(None))),
                    func.count().filter(calls.c.outcome.in_([o.value for o in SERVICE_LEVEL_OUTCOMES])),
                    *(func.count().filter(and_(answered, wait <= t.within_seconds)) for t in SERVICE_LEVEL_TARGETS),
                )
            )
        ).one()
        p50, p90, p95, mean, longest, unclassified, counted, *within = row
        groups: dict[str, int] = {}
        for category in by_category:
            name = _GROUP_TOTALS[category.group]
            groups[name] = groups.get(name, 0) + category.calls
        totals = Totals(**flow_of(outcomes).model_dump(), **groups, unclassified_answered=unclassified)
        answer_times = AnswerTimes(
            answered=outcomes.get(CallOutcome.ANSWERED, 0),
            p50_seconds=seconds(p50),
            p90_seconds=seconds(p90),
            p95_seconds=seconds(p95),
            mean_seconds=seconds(mean),
            max_seconds=seconds(longest),
        )
        levels = [service_level(t, n, counted) for t, n in zip(SERVICE_LEVEL_TARGETS, within, strict=True)]
        return totals, answer_times, levels

    async def _agencies(
        self, session: AsyncSession, calls: Table, agency_names: Mapping[str, str]
    ) -> tuple[list[AgencyRow], ProcessingTimes, int, int]:
        agency = func.coalesce(CallEvent.data["agency"].astext, "-")
        # Per call and agency: the first attempt to it and its first answer.
        per_agency = (
            select(
                CallEvent.call_id,
                agency.label("agency"),
                func.min(CallEvent.at).filter(CallEvent.type == DISPATCH_ATTEMPT).label("attempted_at"),
                func.min(CallEvent.at).filter(CallEvent.type == AGENCY_ANSWERED).label("answered_at"),
            )
            .where(CallEvent.type.in_([DISPATCH_ATTEMPT, AGENCY_ANSWERED]), CallEvent.call_id.in_(select(calls.c.id)))
            .group_by(CallEvent.call_id, agency)
            .cte("per_agency")
        )
        rows = await session.execute(
            select(
                per_agency.c.agency,
                func.count().filter(per_agency.c.attempted_at.is_not(None)),
                func.count().filter(per_agency.c.answered_at.is_not(None)),
                _percentile(0.5, _epoch_seconds(per_agency.c.answered_at - per_agency.c.attempted_at)),
            )
            .group_by(per_agency.c.agency)
            .order_by(per_agency.c.agency)
        )
        by_agency = [
            AgencyRow(
                agency=name,
                label=agency_names.get(name, name),
                dispatched=dispatched,
                acknowledged=acknowledged,
                ack_p50_seconds=seconds(ack),
            )
            for name, dispatched, acknowledged, ack in rows
        ]
        first_attempt = (
            select(
                per_agency.c.call_id,
                func.min(per_agency.c.attempted_at).label("attempted_at"),
                func.bool_or(per_agency.c.answered_at.is_not(None)).label("acknowledged"),
            )
            .group_by(per_agency.c.call_id)
            .subquery()
        )
        processing = _epoch_seconds(first_attempt.c.attempted_at - calls.c.operator_answered_at)
        dispatched, acknowledged, processed, p50, p90 = (
            await session.execute(
                select(
                    func.count(distinct(first_attempt.c.call_id)).filter(first_attempt.c.attempted_at.is_not(None)),
                    func.count().filter(first_attempt.c.acknowledged),
                    func.count(processing),
                    _percentile(0.5, processing),
                    _percentile(0.9, processing),
                ).select_from(first_attempt.join(calls, calls.c.id == first_attempt.c.call_id))
            )
        ).one()
        times = ProcessingTimes(dispatched=processed, p50_seconds=seconds(p50), p90_seconds=seconds(p90))
        return by_agency, times, dispatched, acknowledged

    async def _operators(self, session: AsyncSession, calls: Table) -> list[OperatorRow]:
        operator = func.coalesce(calls.c.operator, "-")
        statement = (
            select(
                operator,
                func.count(),
                func.coalesce(func.sum(calls.c.talk_seconds), 0.0),
                func.avg(calls.c.talk_seconds),
                func.avg(calls.c.answer_seconds),
            )
            .where(calls.c.outcome == CallOutcome.ANSWERED.value)
            .group_by(operator)
            .order_by(operator)
        )
        return [
            OperatorRow(
                operator=name,
                handled=handled,
                talk_seconds=round(talk, 1),
                mean_talk_seconds=seconds(mean_talk),
                mean_answer_seconds=seconds(mean_answer),
            )
            for name, handled, talk, mean_talk, mean_answer in await session.execute(statement)
        ]

    async def _callbacks(self, session: AsyncSession, calls: Table) -> list[CallbackRow]:
        statement = (
            select(calls.c.callback_status, calls.c.callback_outcome, func.count())
            .where(calls.c.callback_status.is_not(None))
            .group_by(calls.c.callback_status, calls.c.callback_outcome)
            .order_by(calls.c.callback_status, calls.c.callback_outcome)
        )
        return [
            CallbackRow(status=status, outcome=outcome, calls=count)
            for status, outcome, count in await session.execute(statement)
        ]


async def _breaches(
    session: AsyncSession, period: ReportRange, categories: Sequence[Category], agency_names: Mapping[str, str]
) -> list[BreachRow]:
    """Tickets that missed a limit in the range, per agency and category (reports/rules.py: breaches): the level-1
    escalations due in the range, through the index on their due time."""
    deadline = TicketEscalation.deadline
    statement = (
        select(
            Ticket.agency,
            Ticket.category,
            func.count().filter(deadline == Deadline.ACKNOWLEDGE.value),
            func.count().filter(deadline == Deadline.RESOLVE.value),
        )
        .join(Ticket, Ticket.id == TicketEscalation.ticket_id)
        .where(
            TicketEscalation.level == 1, TicketEscalation.due_at >= period.start, TicketEscalation.due_at < period.end
        )
        .group_by(Ticket.agency, Ticket.category)
        .order_by(Ticket.agency, Ticket.category)
    )
    known = category_index(categories)
    return [
        BreachRow(
            agency=agency,
            category=category,
            agency_label=agency_names.get(agency, agency),
            category_label=known[category].label_id if category in known else category,
            acknowledge=acknowledge,
            resolve=resolve,
        )
        for agency, category, acknowledge, resolve in await session.execute(statement)
    ]


class _Flows:
    """Outcome counts grouped by some of the calls' columns."""

    def __init__(self, session: AsyncSession, calls: Table) -> None:
        self._session = session
        self._calls = calls

    async def by(self, *keys: ColumnElement[Any]) -> dict[tuple[Any, ...], Flow]:
        statement = (
            select(*keys, self._calls.c.outcome, func.count())
            .group_by(*keys, self._calls.c.outcome)
            .order_by(*(key.asc().nulls_last() for key in keys))
        )
        counts: dict[tuple[Any, ...], dict[CallOutcome, int]] = {}
        for *key, outcome, count in await self._session.execute(statement):
            counts.setdefault(tuple(key), {})[CallOutcome(outcome)] = count
        return {key: flow_of(value) for key, value in counts.items()}

    async def filled(self, key: ColumnElement[Any], every: Sequence[Any]) -> list[tuple[Any, Flow]]:
        """One row for every value of `every` (hours, weekdays, days), zero where no call fell."""
        found = {k[0]: flow for k, flow in (await self.by(key)).items()}
        return [(value, found.get(value, Flow())) for value in every]


def _days(period: ReportRange) -> list[date]:
    return [period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1)]
