"""The monthly report, written on schedule into `[reports] monthly_dir` (the schedule and the files:
reports/monthly.py). Each file is written to a temporary name and renamed, so a file that is there is whole; a
month is done when all its files are there. A failure (PostgreSQL down, a full disk) is logged and retried after
RETRY; the calls never wait on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from ntpd112.clock import utcnow
from ntpd112.logs import get_logger
from ntpd112.publish.report_files import ReportFiles
from ntpd112.reports.monthly import month_due, month_range, monthly_file_names, monthly_files, next_check
from ntpd112.reports.rules import Report, ReportRange
from ntpd112.room.config import ReportSettings
from ntpd112.routing.tables import RoutingTable
from ntpd112.tasks import TaskSet

log = get_logger(__name__)
RETRY = timedelta(minutes=10)
BuildReport = Callable[[ReportRange, ReportSettings, RoutingTable | None, datetime], Awaitable[Report]]


class MonthlyReports:
    def __init__(
        self,
        build: BuildReport,
        settings: ReportSettings,
        directory: Path,
        current_table: Callable[[], RoutingTable | None],
        files: ReportFiles,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._build = build
        self._settings = settings
        self._directory = directory
        self._current_table = current_table
        self._clock = clock
        self._files = files
        self._tasks = TaskSet("monthly-reports")

    async def start(self) -> None:
        self._tasks.spawn(self.run(), name="monthly-reports")

    async def stop(self) -> None:
        await self._tasks.aclose()

    def paths(self, month: date) -> list[Path]:
        return [self._directory / name for name in monthly_file_names(month)]

    async def run_once(self) -> date | None:
        """Write the due month's files unless they are all there; the month written, else None."""
        now = self._clock()
        month = month_due(now, self._settings.timezone)
        if month is None or all(path.is_file() for path in self.paths(month)):
            return None
        report = await self._build(
            month_range(month, self._settings.timezone), self._settings, self._current_table(), now
        )
        pdf = await self._files.render(report, "pdf")
        await asyncio.to_thread(self._write, month, report, pdf)
        log.info("monthly report written", month=f"{month:%Y-%m}", directory=str(self._directory))
        return month

    def _write(self, month: date, report: Report, pdf: bytes) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        for name, content in monthly_files(month, report, pdf).items():
            path = self._directory / name
            partial = path.with_name(f".{path.name}.partial")
            partial.write_bytes(content)
            partial.replace(path)

    async def run(self) -> None:
        """Check, then sleep until the next 1st (an hour at most); forever, until cancelled."""
        while True:
            wait = next_check(self._clock(), self._settings.timezone)
            try:
                await self.run_once()
            except Exception:
                log.exception("monthly report failed; retrying", retry_seconds=RETRY.total_seconds())
                wait = RETRY
            await asyncio.sleep(wait.total_seconds())
