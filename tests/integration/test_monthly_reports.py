"""The monthly report against the real PostgreSQL: on 1 December 01:00 WIB (an injected clock) the service's own
report repository writes November's files; the full JSON holds the hand-worked day of test_reports.py, the national
recap carries the same totals, and a second run writes nothing. `ntpd112 report --format pdf` too."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from ntpd112.app import Service
from ntpd112.publish.monthly import MonthlyReports
from ntpd112.reports.rules import Report
from ntpd112.web.common import DEPS
from tests.integration.cli import ntpd112
from tests.integration.test_reports import DAY, EXPECTED_TOTALS, monday, wib
from tests.report_pdf import printed_totals

__all__ = ["monday"]  # the hand-worked day, a fixture


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


async def test_novembers_files_are_written_once(service: Service, monday: None, tmp_path: Path) -> None:
    deps = service.web_app[DEPS]
    first_of_december = wib(DAY + timedelta(days=1), 1)
    monthly = MonthlyReports(
        deps.reports.build,
        deps.report_settings,
        tmp_path,
        service.routing.table_or_none,
        deps.report_files,
        lambda: first_of_december,
    )
    assert await monthly.run_once() == date(2026, 11, 1)
    report = Report.model_validate_json((tmp_path / "laporan-112-2026-11.json").read_bytes())
    assert (report.period_from, report.period_to) == (date(2026, 11, 1), date(2026, 11, 30))
    # November: the hand-worked day, and its call at 23:59:59 WIB on the 29th (abandoned after 20 s); the one at
    # 00:00 WIB on 1 December is December's.
    assert report.totals.model_dump() == EXPECTED_TOTALS | {"offered": 14, "abandoned": 3}
    recap = json.loads((tmp_path / "rekap-nasional-112-2026-11.json").read_bytes())
    figures = {f["indicator"]: f["value"] for f in recap["figures"] if f["key"] == ""}
    # 14 offered; unanswered = 3 abandoned + 1 unanswered; valid emergencies 2; prank 2; ghost 1; information 1.
    assert (figures["calls_offered"], figures["calls_unanswered"], figures["calls_phantom"]) == (14, 4, 1)
    assert (figures["valid_emergency"], figures["prank"], figures["ghost"], figures["information"]) == (2, 2, 1, 1)
    assert figures["service_level_10s"] == 0.3333  # 4 within 10 s of 12 counted (8 + 3 + 1)
    assert (tmp_path / "laporan-112-2026-11.pdf").read_bytes().startswith(b"%PDF-")
    assert await monthly.run_once() is None


async def test_the_report_command_writes_the_pdf(service: Service, monday: None, tmp_path: Path) -> None:
    output = tmp_path / "laporan.pdf"
    day = DAY.isoformat()
    url = service.settings.database_url.get_secret_value()
    done = await ntpd112(url, "report", "--from", day, "--to", day, "--format", "pdf", "--output", str(output))
    assert done.code == 0, done.err
    assert printed_totals(output.read_bytes()) == EXPECTED_TOTALS
    refused = await ntpd112(url, "report", "--from", day, "--to", day, "--format", "docx")
    assert refused.code == 2 and "docx" in refused.err
