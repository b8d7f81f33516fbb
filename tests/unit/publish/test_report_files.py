"""Report files built in a real child process (publish/render_child.py): the PDF prints the report's totals, the
XLSX opens, JSON and CSV are the in-process ones; a child that fails or hangs is an error that says so, not a file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ntpd112.publish.report_files import ReportFileError, ReportFiles
from ntpd112.reports.files import to_csv, to_json
from tests.report_pdf import pdf_image_count, printed_totals
from tests.unit.reports.test_export import sample
from tests.unit.reports.test_pdf import logo

__all__ = ["logo"]  # a fixture


async def test_the_pdf_is_built_in_a_child_with_the_logo(logo: Path) -> None:
    report = sample()
    pdf = await ReportFiles(logo).render(report, "pdf")
    assert printed_totals(pdf) == report.totals.model_dump()
    assert pdf_image_count(pdf) == 1
    assert pdf_image_count(await ReportFiles(None).render(report, "pdf")) == 0


async def test_the_xlsx_is_built_in_a_child(logo: Path) -> None:
    workbook = load_workbook(io.BytesIO(await ReportFiles(logo).render(sample(), "xlsx")), read_only=True)
    assert workbook.sheetnames[0] == "recap"
    assert "by_area" in workbook.sheetnames


async def test_json_and_csv_are_the_report_itself() -> None:
    files = ReportFiles(None)
    assert await files.render(sample(), "json") == to_json(sample())
    assert await files.render(sample(), "csv") == to_csv(sample()).encode("utf-8")


async def test_a_child_that_fails_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReportFileError, match="pdf failed"):
        await ReportFiles(tmp_path / "no-such-logo.png").render(sample(), "pdf")


async def test_a_child_past_its_time_is_killed() -> None:
    files = ReportFiles(None, timeout_seconds=0.05)
    with pytest.raises(ReportFileError, match="took over"):
        await files.render(sample(), "pdf")
