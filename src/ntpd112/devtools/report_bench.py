"""The reports' benchmark (not a test): generated calls in a scratch database, then a month's report and the
wallboard's queries timed.

The calls are spread evenly over the 365 days that end with the measured month, generated inside PostgreSQL
(generate_series, a fixed seed): about 80 % answered, 12 % abandoned (a quarter of them phantom), the rest
unanswered; 300 desa in 29 kecamatan (as in Kabupaten Tangerang). Then every answered call's incident, the
timelines (dispatches included), tickets, escalations and operator presence: devtools/report_bench_data.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.clock import utcnow
from ntpd112.devtools import report_bench_data as data
from ntpd112.devtools.loadtest.report import Percentiles, percentiles
from ntpd112.heap import freeze_startup_objects
from ntpd112.publish.report_files import ReportFiles
from ntpd112.reports.export import render
from ntpd112.reports.rules import ReportRange, report_names
from ntpd112.reports.wallboard import AVERAGE_DAYS, INCIDENT_WINDOW, today_range
from ntpd112.room.config import ReportSettings
from ntpd112.store import wallboard as wb
from ntpd112.store.db import Database
from ntpd112.store.reports import ReportRepository
from ntpd112.store.wallboard import WallboardRepository
from ntpd112.store.wallboard_dispatch import open_dispatches, open_tickets

BENCH_DATABASE = "ntpd112_bench"
_BATCH = 200_000
WIB = ZoneInfo("Asia/Jakarta")
T = TypeVar("T")

# One row per call: its outcome and timings drawn from `r` (uniform 0-1) and `s` (another draw).
_CALLS = """
INSERT INTO calls (id, uniqueid, trunk, carrier, caller_number, handled_by, offered_at, answered_at,
                   operator_answered_at, operator, wait_seconds, talk_seconds, abandoned_at, callback_status,
                   callback_reason, ended_at, area_kecamatan, area_kelurahan, updated_at)
SELECT id, 'bench-' || g, trunk, trunk, '+62812' || lpad((g % 100000)::text, 7, '0'), 'service', offered,
       offered + interval '1 second',
       CASE WHEN r < 0.80 THEN offered + make_interval(secs => 2 + s * 25) END,
       CASE WHEN r < 0.80 THEN 'op' || (g % 20) END,
       CASE WHEN r < 0.92 THEN 1 + s * 25 END,
       CASE WHEN r < 0.80 THEN 20 + s * 200 END,
       CASE WHEN r >= 0.80 AND r < 0.92 THEN offered + make_interval(secs => 1 + s * 40) END,
       CASE WHEN r >= 0.80 AND r < 0.92 THEN 'pending' END,
       CASE WHEN r >= 0.80 AND r < 0.92 THEN 'abandoned' END,
       offered + make_interval(secs => 30 + s * 200),
       'Kecamatan ' || (g % 300 % 29), 'Desa ' || (g % 300), now()
FROM (
    SELECT g, md5('bench-call-' || g)::uuid AS id, (ARRAY['telkomsel', 'indosat', 'xl'])[1 + g % 3] AS trunk,
           CAST(:start AS timestamptz) + (g::float8 / CAST(:total AS float8)) * interval '365 days' AS offered,
           random() AS r, random() AS s
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
) AS drawn
"""


@dataclass(frozen=True)
class BenchResult:
    calls: int
    month_calls: int
    report_seconds: list[float]
    render_seconds: dict[str, float]
    # XLSX and PDF built beside a running event loop: in a thread of the service, and as the service builds them.
    beside_loop: dict[str, tuple[LoopLag, LoopLag]]


@dataclass(frozen=True)
class LoopLag:
    """A file built while the event loop runs 1 ms timers: how long the file took, and how late the timers fired
    (what each step of a 112 call on that loop waits meanwhile)."""

    seconds: float
    late_ms: list[float]

    @property
    def late(self) -> Percentiles:
        return percentiles(self.late_ms)


async def loop_lag_while(build: Awaitable[bytes]) -> LoopLag:
    late_ms: list[float] = []
    building = asyncio.ensure_future(build)
    started = perf_counter()
    while not building.done():
        tick = perf_counter()
        await asyncio.sleep(0.001)
        late_ms.append((perf_counter() - tick - 0.001) * 1000)
    await building
    return LoopLag(perf_counter() - started, late_ms)


def bench_database_url(database_url: str) -> str:
    """The development database's server and account, the scratch database's name."""
    return make_url(database_url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


async def create_database(bench_url: str) -> None:
    """Drops and creates the scratch database (the URL must name BENCH_DATABASE)."""
    assert make_url(bench_url).database == BENCH_DATABASE
    admin = create_async_engine(make_url(bench_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}"))
            await connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))
    finally:
        await admin.dispose()


async def fill(bench_url: str, calls: int, month: date, now: datetime, say: Callable[[str], None]) -> None:
    """`calls` calls over the year up to the end of `month`, into the migrated, empty scratch database, with their
    incidents, timelines, tickets and escalations (devtools/report_bench_data.py); `now`: the wallboard's moment."""
    start = datetime.combine(_next_month(month) - timedelta(days=365), time(0), WIB)
    end = datetime.combine(_next_month(month), time(0), WIB)
    engine = create_async_engine(bench_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT setseed(0.112)"))
            for first in range(1, calls + 1, _BATCH):
                last = min(first + _BATCH - 1, calls)
                await connection.execute(text(_CALLS), {"start": start, "total": calls, "first": first, "last": last})
                say(f"calls {last:,}/{calls:,}")
            for label, statement in data.STEPS:
                started = perf_counter()
                await connection.execute(text(statement), data.parameters(statement, now, start, end))
                say(f"{label} ({perf_counter() - started:.1f} s)")
            counts = (await connection.execute(text(data.COUNTS))).one()
            say(
                "calls {:,}, incidents {:,} ({:,} dispatched), timeline events {:,}, tickets {:,}, breaches {:,}, "
                "presence rows {:,}".format(*counts)
            )
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


def wallboard_now(month: date, timezone: str) -> datetime:
    """The wallboard's moment: 18:00 room time on the month's last day, so that "today" and the 7 days before it
    are full of generated calls."""
    return datetime.combine(_next_month(month) - timedelta(days=1), time(18), ZoneInfo(timezone))


async def time_month(bench_url: str, month: date, settings: ReportSettings, runs: int) -> BenchResult:
    database = Database(bench_url)
    await database.start()
    try:
        period = ReportRange(month, _next_month(month) - timedelta(days=1), settings.timezone)
        repository = ReportRepository(database)
        timings = []
        for _ in range(runs):
            started = perf_counter()
            report = await repository.build(period, settings, None, utcnow())
            timings.append(perf_counter() - started)
        render_seconds = {}
        for file_format in ("json", "csv", "xlsx", "pdf"):
            started = perf_counter()
            render(report, file_format)
            render_seconds[file_format] = perf_counter() - started
        files = ReportFiles(settings.logo)
        beside_loop = {
            file_format: (
                await loop_lag_while(asyncio.to_thread(render, report, file_format, settings.logo)),
                await loop_lag_while(files.render(report, file_format)),
            )
            for file_format in ("xlsx", "pdf")
        }
        async with database.session() as session:
            total = int(await session.scalar(text("SELECT count(*) FROM calls")) or 0)
    finally:
        await database.stop()
    return BenchResult(total, report.totals.offered, timings, render_seconds, beside_loop)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class WallboardTimes:
    reads: list[float]  # everything GET /api/wallboard reads, as the service runs it (a warm cache from the 2nd)
    parts: dict[str, list[float]]  # each query of it, in one REPEATABLE READ transaction per run


async def time_wallboard(bench_url: str, month: date, settings: ReportSettings, runs: int) -> WallboardTimes:
    """The wallboard's queries (store/wallboard.py, everything GET /api/wallboard reads from PostgreSQL) at
    wallboard_now(), whole and one by one."""
    now = wallboard_now(month, settings.timezone)
    day = today_range(now, settings.timezone)
    phantom = settings.phantom_abandon_seconds
    categories, agency_names = report_names(None)
    database = Database(bench_url)
    await database.start()
    freeze_startup_objects()  # as the service does once started (app.run_service)
    try:
        repository = WallboardRepository(database)
        reads = []
        for _ in range(runs):
            started = perf_counter()
            await repository.read(now, day, phantom, categories, agency_names)
            reads.append(perf_counter() - started)
        parts: dict[str, list[float]] = {}
        for _ in range(runs):
            async with database.session() as session, session.begin():
                await session.connection(execution_options=wb.SNAPSHOT)

                async def timed(name: str, query: Awaitable[T]) -> T:
                    started = perf_counter()
                    result = await query
                    parts.setdefault(name, []).append(perf_counter() - started)
                    return result

                before = day.start - timedelta(days=AVERAGE_DAYS)
                await timed("7 days' hours (cached 10 min)", wb._hours_rows(session, before, day.start))
                _, open_ids, failed = await timed(
                    "incidents of the last 24 h", wb._recent_incidents(session, now - INCIDENT_WINDOW, day)
                )
                await timed("waiting calls", wb._waiting(session, now, phantom))
                await timed("operators", wb._operators(session, now))
                await timed("today (outcomes, hours, abandoned)", wb._today(session, day, phantom, [], {}))
                await timed("open incidents (map)", wb._open_incidents(session, open_ids, categories))
                await timed(
                    "open tickets (30 days) and those past their limits",
                    open_tickets(session, now, categories, agency_names),
                )
                await timed("open dispatches", open_dispatches(session, now, failed, categories, agency_names))
    finally:
        await database.stop()
    return WallboardTimes(reads, parts)
