"""The reports' benchmark (not a test): generated calls in a scratch database, then a month's report and the
wallboard's queries timed.

The calls are spread evenly over the 365 days that end with the measured month, generated inside PostgreSQL
(generate_series, a fixed seed): about 80 % answered, 12 % abandoned (a quarter of them phantom), the rest
unanswered; every answered call classified (prank, silent, information, complaints, emergencies), emergencies
dispatched to an agency that mostly answers; four to six timeline events a call; 300 desa in 29 kecamatan (as in
Kabupaten Tangerang).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.clock import utcnow
from ntpd112.reports.export import render
from ntpd112.reports.rules import ReportRange, report_names
from ntpd112.reports.wallboard import today_range
from ntpd112.room.config import ReportSettings
from ntpd112.store.db import Database
from ntpd112.store.reports import ReportRepository
from ntpd112.store.wallboard import WallboardRepository

BENCH_DATABASE = "ntpd112_bench"
_BATCH = 200_000
WIB = ZoneInfo("Asia/Jakarta")

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

_INCIDENTS = """
INSERT INTO incidents (id, call_id, category, status, created_by, updated_by, created_at, updated_at)
SELECT md5('bench-incident-' || c.uniqueid)::uuid, c.id,
       (ARRAY['prank', 'prank', 'prank', 'prank', 'silent', 'silent', 'silent', 'silent', 'information',
              'medical', 'fire', 'traffic_accident', 'non_emergency', 'road', 'crime', 'wrong_number']
       )[1 + floor(random() * 16)::int],
       'closed', c.operator, c.operator, c.operator_answered_at, c.operator_answered_at
FROM calls c
WHERE c.uniqueid LIKE 'bench-%' AND c.operator_answered_at IS NOT NULL
"""

_EVENTS = """
INSERT INTO call_events (id, call_id, at, type, data)
SELECT gen_random_uuid(), c.id, e.at, e.type, e.data
FROM calls c
LEFT JOIN incidents i ON i.call_id = c.id
CROSS JOIN LATERAL (VALUES
    (c.offered_at, 'offered', '{}'::jsonb),
    (c.offered_at + interval '1 second', 'queued', '{}'::jsonb),
    (c.operator_answered_at, 'operator_answered', jsonb_build_object('operator', c.operator)),
    (c.abandoned_at, 'abandoned', '{}'::jsonb),
    (CASE WHEN i.category IN ('medical', 'fire', 'traffic_accident', 'crime')
          THEN c.operator_answered_at + interval '40 seconds' END,
     'dispatch_attempt', jsonb_build_object('agency', CASE i.category WHEN 'fire' THEN 'damkar'
                                                      WHEN 'crime' THEN 'polres' ELSE 'psc119' END)),
    (CASE WHEN i.category IN ('medical', 'fire', 'traffic_accident', 'crime') AND random() < 0.9
          THEN c.operator_answered_at + interval '52 seconds' END,
     'agency_answered', jsonb_build_object('agency', CASE i.category WHEN 'fire' THEN 'damkar'
                                                     WHEN 'crime' THEN 'polres' ELSE 'psc119' END)),
    (c.ended_at, 'ended', '{}'::jsonb)
) AS e(at, type, data)
WHERE c.uniqueid LIKE 'bench-%' AND e.at IS NOT NULL
"""


@dataclass(frozen=True)
class BenchResult:
    calls: int
    month_calls: int
    report_seconds: list[float]
    render_seconds: dict[str, float]


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


async def fill(bench_url: str, calls: int, month: date, say: Callable[[str], None]) -> None:
    """`calls` calls over the year up to the end of `month`, into the migrated, empty scratch database."""
    start = _next_month(month) - timedelta(days=365)
    engine = create_async_engine(bench_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT setseed(0.112)"))
            for first in range(1, calls + 1, _BATCH):
                last = min(first + _BATCH - 1, calls)
                await connection.execute(
                    text(_CALLS),
                    {"start": datetime.combine(start, time(0), WIB), "total": calls, "first": first, "last": last},
                )
                say(f"calls {last:,}/{calls:,}")
            await connection.execute(text(_INCIDENTS))
            say("incidents")
            await connection.execute(text(_EVENTS))
            say("timeline events")
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


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
        async with database.session() as session:
            total = int(await session.scalar(text("SELECT count(*) FROM calls")) or 0)
    finally:
        await database.stop()
    return BenchResult(total, report.totals.offered, timings, render_seconds)


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


async def time_wallboard(bench_url: str, month: date, settings: ReportSettings, runs: int) -> list[float]:
    """The wallboard's queries (store/wallboard.py, everything GET /api/wallboard reads from PostgreSQL) at 18:00
    room time on the month's last day, so that "today" and the 7 days before it are full of generated calls."""
    last_day = _next_month(month) - timedelta(days=1)
    now = datetime.combine(last_day, time(18), ZoneInfo(settings.timezone))
    categories, agency_names = report_names(None)
    database = Database(bench_url)
    await database.start()
    try:
        repository = WallboardRepository(database)
        timings = []
        for _ in range(runs):
            started = perf_counter()
            await repository.read(
                now, today_range(now, settings.timezone), settings.phantom_abandon_seconds, categories, agency_names
            )
            timings.append(perf_counter() - started)
    finally:
        await database.stop()
    return timings
