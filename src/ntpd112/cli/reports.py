"""`ntpd112 report` (the room's report as JSON, CSV, XLSX or PDF) and `ntpd112 report-bench` (its benchmark)."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ntpd112.cli.common import cli_settings, fail, with_database

if TYPE_CHECKING:
    from ntpd112.reports.files import ReportFormat  # click.Choice below holds the same names

_DAY = click.DateTime(["%Y-%m-%d"])


@click.command(help="The room's report for whole days in the room's time zone (asterisk/room.toml [reports]).")
@click.option("--from", "first", required=True, type=_DAY, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, type=_DAY, help="Last day (included), YYYY-MM-DD.")
@click.option(
    "--format", "file_format", type=click.Choice(["json", "csv", "xlsx", "pdf"]), default="json", show_default=True
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: standard output)."
)
def report(first: datetime, last: datetime, file_format: ReportFormat, output: Path | None) -> None:
    from ntpd112.clock import utcnow
    from ntpd112.reports.export import render
    from ntpd112.reports.rules import RangeError, ReportRange
    from ntpd112.room.config import load_room
    from ntpd112.store.reports import ReportRepository
    from ntpd112.store.routing_versions import RoutingVersionRepository

    settings = cli_settings()
    room = load_room()
    try:
        period = ReportRange(first.date(), last.date(), room.reports.timezone)
    except RangeError as error:
        fail(str(error))
        return
    if output is None and file_format in ("xlsx", "pdf") and sys.stdout.isatty():
        fail(f"a {file_format.upper()} file is binary: give --output FILE or redirect the output")

    async def build(database: Any) -> bytes:
        stored = await RoutingVersionRepository(database).current()
        table = stored.table if stored is not None else None
        built = await ReportRepository(database, room.queue.wrapup_seconds).build(period, room.reports, table, utcnow())
        return render(built, file_format, room.reports.logo)

    data = with_database(settings, build)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"report written to {output}", err=True)


@click.command(
    "report-bench",
    help="Benchmark: N generated calls in the scratch database ntpd112_bench, then a "
    "month's report and the wallboard's queries timed (never the development or test database).",
)
@click.option("--calls", default=1_000_000, show_default=True, type=click.IntRange(1, 20_000_000))
@click.option("--month", default="2026-11", show_default=True, help="The month reported, YYYY-MM.")
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1, 20))
@click.option("--reuse", is_flag=True, help="Time the data already in ntpd112_bench; generate nothing.")
def report_bench(calls: int, month: str, runs: int, reuse: bool) -> None:
    from ntpd112.cli.service import migrate_database
    from ntpd112.devtools.local_asterisk import local_asterisk_lock
    from ntpd112.devtools.report_bench import (
        bench_database_url,
        create_database,
        fill,
        time_month,
        time_wallboard,
        wallboard_now,
    )
    from ntpd112.room.config import load_room

    settings = cli_settings()
    try:
        first_day = date.fromisoformat(month + "-01")
    except ValueError:
        fail("--month is YYYY-MM")
        return
    url = bench_database_url(settings.database_url.get_secret_value())
    room = load_room().reports
    if not reuse:
        started = time.perf_counter()
        asyncio.run(create_database(url))
        migrate_database(url)  # alembic runs its own event loop: outside ours
        now = wallboard_now(first_day, room.timezone)
        asyncio.run(fill(url, calls, first_day, now, lambda line: click.echo(line, err=True)))
        click.echo(f"generated {calls:,} calls in {time.perf_counter() - started:.1f} s")
    # The machine is shared: no integration test or load test (they hold this lock) runs during the timings.
    waiting = time.monotonic()
    with local_asterisk_lock():
        click.echo(f"holding the local Asterisk lock (waited {time.monotonic() - waiting:.0f} s)")
        result = asyncio.run(time_month(url, first_day, room, runs))
        wallboard = asyncio.run(time_wallboard(url, first_day, room, max(runs, 5)))
    click.echo(f"database: {result.calls:,} calls; {month}: {result.month_calls:,} calls")
    click.echo("report (PostgreSQL): " + ", ".join(f"{s:.2f} s" for s in result.report_seconds))
    click.echo("files: " + ", ".join(f"{name} {s:.2f} s" for name, s in result.render_seconds.items()))
    click.echo("files beside the event loop (its 1 ms timers late by p50 / p99 / max):")
    for name, lags in result.beside_loop.items():
        for where, lag in zip(("in a thread", "in a child (as the service)"), lags, strict=True):
            late = " / ".join(f"{v:.1f}" for v in (lag.late.p50, lag.late.p99, lag.late.max) if v is not None)
            click.echo(f"  {name} {where}: {lag.seconds:.2f} s, late {late or '-'} ms")
    click.echo("wallboard queries (PostgreSQL): " + ", ".join(f"{s * 1000:.0f} ms" for s in wallboard.reads))
    for name, times in wallboard.parts.items():
        click.echo(f"  {name}: " + ", ".join(f"{s * 1000:.1f}" for s in times) + " ms")
