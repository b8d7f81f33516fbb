"""The monthly report's schedule and files (pure: the clock is given). On the 1st of each month, from 01:00 in the
room's time zone (an hour for the journal to land the last calls of the month before), last month's report is due;
it is written once: a month whose files are all there is done, so a restart, a second check or a second service
changes nothing. A service that was down on the 1st catches up when it comes back, any day of that month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ntpd112.reports.files import to_json
from ntpd112.reports.national import recap_csv, recap_json
from ntpd112.reports.rules import Report, ReportRange

GENERATE_AT = time(1, 0)
# The longest sleep between two checks: a clock that jumps (NTP, a suspended VM) is noticed within it.
MAX_SLEEP = timedelta(hours=1)


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _previous_month(first: date) -> date:
    return _first_of_month(first - timedelta(days=1))


def _start_of(first: date, timezone: str) -> datetime:
    return datetime.combine(first, GENERATE_AT, ZoneInfo(timezone))


def month_due(now: datetime, timezone: str) -> date | None:
    """The first day of the month whose report is due at `now` (last month), or None before 01:00 on the 1st."""
    this_month = _first_of_month(now.astimezone(ZoneInfo(timezone)).date())
    if now < _start_of(this_month, timezone):
        return None
    return _previous_month(this_month)


def next_check(now: datetime, timezone: str) -> timedelta:
    """How long to sleep: until 01:00 on the next 1st, at most MAX_SLEEP."""
    local = now.astimezone(ZoneInfo(timezone))
    this_month = _first_of_month(local.date())
    start = _start_of(this_month, timezone)
    if now >= start:
        start = _start_of(_first_of_month(this_month + timedelta(days=32)), timezone)
    return min(start - now, MAX_SLEEP)


def month_range(first: date, timezone: str) -> ReportRange:
    last = _first_of_month(first + timedelta(days=32)) - timedelta(days=1)
    return ReportRange(first, last, timezone)


def monthly_file_names(month: date) -> tuple[str, ...]:
    """The files of a month: the printable PDF, the full report (JSON), the national recap (JSON and CSV)."""
    return (
        f"laporan-112-{month:%Y-%m}.pdf",
        f"laporan-112-{month:%Y-%m}.json",
        f"rekap-nasional-112-{month:%Y-%m}.json",
        f"rekap-nasional-112-{month:%Y-%m}.csv",
    )


def monthly_files(month: date, report: Report, pdf: bytes) -> dict[str, bytes]:
    """The month's files by name; the PDF is built by the caller (in a child process: publish/report_files.py)."""
    contents = (pdf, to_json(report), recap_json(report), recap_csv(report))
    return dict(zip(monthly_file_names(month), contents, strict=True))
