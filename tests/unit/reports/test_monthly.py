"""The monthly report's schedule with an injected clock: due from 01:00 WIB on the 1st, written once (idempotent),
caught up later in the month, rewritten when a file is missing; the sleep until the next check; and the national
recap's mapping (JSON and CSV carry the same figures)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ntpd112.publish.monthly import MonthlyReports
from ntpd112.publish.report_files import ReportFiles
from ntpd112.reports.monthly import MAX_SLEEP, month_due, month_range, next_check
from ntpd112.reports.national import CSV_COLUMNS, INDICATORS, recap_csv, recap_json
from ntpd112.reports.rules import Report, ReportRange
from ntpd112.room.config import ReportSettings, RoomConfigError, load_room
from ntpd112.routing.tables import RoutingTable
from tests.report_pdf import printed_totals
from tests.unit.reports.test_export import sample

WIB = "Asia/Jakarta"


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - timedelta(hours=7)  # type: ignore[misc]


def test_last_month_is_due_from_one_oclock_on_the_first_in_the_rooms_zone() -> None:
    assert month_due(wib(2026, 12, 1, 0, 59), WIB) is None
    assert month_due(wib(2026, 12, 1, 1, 0), WIB) == date(2026, 11, 1)
    assert month_due(wib(2026, 12, 31, 23, 59), WIB) == date(2026, 11, 1)  # a service down on the 1st catches up
    assert month_due(wib(2027, 1, 1, 1, 0), WIB) == date(2026, 12, 1)  # across the year
    # 17:30 UTC on 30 November is 01:30 WITA on 1 December (due there) but 00:30 WIB (not yet).
    assert month_due(datetime(2026, 11, 30, 17, 30, tzinfo=UTC), "Asia/Makassar") == date(2026, 11, 1)
    assert month_due(datetime(2026, 11, 30, 17, 30, tzinfo=UTC), WIB) is None


def test_the_sleep_until_the_next_check() -> None:
    assert next_check(wib(2026, 12, 1, 0, 30), WIB) == timedelta(minutes=30)
    assert next_check(wib(2026, 12, 1, 0, 59, 59), WIB) == timedelta(seconds=1)
    assert next_check(wib(2026, 12, 1, 1, 0), WIB) == MAX_SLEEP
    assert next_check(wib(2026, 12, 31, 23, 30), WIB) == MAX_SLEEP


def test_a_months_range_is_every_day_of_it() -> None:
    assert month_range(date(2028, 2, 1), WIB) == ReportRange(date(2028, 2, 1), date(2028, 2, 29), WIB)
    assert month_range(date(2026, 12, 1), WIB) == ReportRange(date(2026, 12, 1), date(2026, 12, 31), WIB)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Builds:
    """Stands in for ReportRepository.build: records the ranges asked, answers the sample report."""

    def __init__(self) -> None:
        self.asked: list[ReportRange] = []

    async def __call__(
        self, period: ReportRange, settings: ReportSettings, table: RoutingTable | None, generated_at: datetime
    ) -> Report:
        self.asked.append(period)
        return sample().model_copy(
            update={"period_from": period.first, "period_to": period.last, "generated_at": generated_at}
        )


@pytest.fixture
def clock() -> Clock:
    return Clock(wib(2026, 12, 1, 0, 30))


async def test_the_month_is_written_once_on_the_first(tmp_path: Path, clock: Clock) -> None:
    builds = Builds()
    settings = ReportSettings(pemda_name="Kab. X")
    monthly = MonthlyReports(builds, settings, tmp_path / "out", lambda: None, ReportFiles(settings.logo), clock)
    assert await monthly.run_once() is None  # 00:30: not yet
    assert not (tmp_path / "out").exists()

    clock.now = wib(2026, 12, 1, 1, 0)
    assert await monthly.run_once() == date(2026, 11, 1)
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == [
        "laporan-112-2026-11.json",
        "laporan-112-2026-11.pdf",
        "rekap-nasional-112-2026-11.csv",
        "rekap-nasional-112-2026-11.json",
    ]
    assert builds.asked == [ReportRange(date(2026, 11, 1), date(2026, 11, 30), WIB)]
    written = Report.model_validate_json((tmp_path / "out" / "laporan-112-2026-11.json").read_bytes())
    assert printed_totals((tmp_path / "out" / "laporan-112-2026-11.pdf").read_bytes()) == written.totals.model_dump()

    clock.now = wib(2026, 12, 1, 2, 0)  # a second check, or a restart: nothing more
    assert await monthly.run_once() is None
    assert len(builds.asked) == 1

    (tmp_path / "out" / "rekap-nasional-112-2026-11.csv").unlink()  # a file lost: the month again
    clock.now = wib(2026, 12, 9, 12, 0)
    assert await monthly.run_once() == date(2026, 11, 1)
    assert (tmp_path / "out" / "rekap-nasional-112-2026-11.csv").is_file()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]


def test_the_national_recap_in_json_and_csv() -> None:
    report = sample()
    document = json.loads(recap_json(report))
    assert (document["schema_version"], document["period_from"], document["pemda"]) == (1, "2026-11-01", report.pemda)
    figures = {(f["indicator"], f["key"]): f["value"] for f in document["figures"]}
    # sample(): 3 offered, 2 answered, 1 abandoned, 0 unanswered; 2 of 3 within every threshold.
    assert figures[("calls_offered", "")] == 3
    assert figures[("calls_unanswered", "")] == 1
    assert figures[("valid_emergency", "")] == 1
    assert figures[("prank", "")] == 1
    assert figures[("service_level_10s", "")] == 0.6667
    assert figures[("category_calls", "fire")] == 1
    assert figures[("agency_acknowledged", "damkar")] == 1
    assert len(document["figures"]) == len(INDICATORS) + 2 + 2  # two categories, one agency (two rows)
    rows = list(csv.DictReader(io.StringIO(recap_csv(report).decode("utf-8"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {(r["indicator"], r["key"]): r["value"] for r in rows} == {
        key: "" if value is None else str(value) for key, value in figures.items()
    }


def test_the_monthly_directory_in_the_room_file(tmp_path: Path) -> None:
    text = (Path(__file__).parents[3] / "asterisk" / "room.toml").read_text(encoding="utf-8")
    room_file = tmp_path / "room.toml"
    room_file.write_text(text.replace('pemda_name = ""', 'pemda_name = ""\nmonthly_dir = "laporan"'), encoding="utf-8")
    assert load_room(room_file).reports.monthly_dir == (tmp_path / "laporan").resolve()  # created when first used
    (tmp_path / "laporan").write_text("a file, not a directory")
    with pytest.raises(RoomConfigError, match="not a directory"):
        load_room(room_file)
