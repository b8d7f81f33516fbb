"""Report files built by a real worker process (publish/render_child.py): the PDF prints the report's totals, the
XLSX opens, JSON and CSV are the in-process ones; one worker serves file after file and leaves when idle or told to;
a file that fails is an error that says so and the worker goes on; a worker past its time is replaced."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ntpd112.publish import report_files
from ntpd112.publish.report_files import ReportFileError, ReportFiles
from ntpd112.reports.files import to_csv, to_json
from tests.report_pdf import pdf_image_count, printed_totals
from tests.unit.reports.test_export import sample
from tests.unit.reports.test_pdf import logo

__all__ = ["logo"]  # a fixture


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_one_worker_builds_the_pdf_with_the_logo_then_the_xlsx(logo: Path) -> None:
    files = ReportFiles(logo)
    try:
        pdf = await files.render(sample(), "pdf")
        assert printed_totals(pdf) == sample().totals.model_dump()
        assert pdf_image_count(pdf) == 1
        worker = files.worker_pid
        assert worker is not None and worker != os.getpid()
        workbook = load_workbook(io.BytesIO(await files.render(sample(), "xlsx")), read_only=True)
        assert workbook.sheetnames[0] == "recap" and "by_area" in workbook.sheetnames
        assert files.worker_pid == worker
    finally:
        await files.stop()
    assert files.worker_pid is None and not running(worker)


async def test_the_worker_gets_none_of_the_services_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTPD112_DATABASE_URL", "postgresql://ntpd112:s3cret-db@127.0.0.1/ntpd112")
    monkeypatch.setenv("NTPD112_ARI_PASSWORD", "s3cret-ari")
    files = ReportFiles(None)
    try:
        await files.render(sample(), "xlsx")
        assert files.worker_pid is not None
        environment = (await asyncio.to_thread(Path(f"/proc/{files.worker_pid}/environ").read_bytes)).split(b"\0")
    finally:
        await files.stop()
    names = {entry.split(b"=", 1)[0] for entry in environment if entry}
    assert b"PATH" in names
    assert not any(name.startswith(b"NTPD112_") for name in names)
    assert b"s3cret" not in b"\0".join(environment)


async def test_json_and_csv_are_built_in_the_service() -> None:
    files = ReportFiles(None)
    assert await files.render(sample(), "json") == to_json(sample())
    assert await files.render(sample(), "csv") == to_csv(sample()).encode("utf-8")
    assert files.worker_pid is None


async def test_a_file_that_fails_is_an_error_and_the_worker_goes_on(tmp_path: Path) -> None:
    files = ReportFiles(tmp_path / "no-such-logo.png")
    try:
        with pytest.raises(ReportFileError, match="pdf failed: FileNotFoundError"):
            await files.render(sample(), "pdf")
        worker = files.worker_pid
        assert (await files.render(sample(), "xlsx")).startswith(b"PK")  # the logo is the PDF's alone
        assert files.worker_pid == worker
    finally:
        await files.stop()


async def test_an_idle_worker_leaves_and_the_next_file_starts_another() -> None:
    files = ReportFiles(None, idle_seconds=0.2)
    try:
        await files.render(sample(), "xlsx")
        first = files.worker_pid
        await asyncio.sleep(0.5)
        assert files.worker_pid is None
        assert (await files.render(sample(), "xlsx")).startswith(b"PK")
        assert files.worker_pid not in (None, first)
    finally:
        await files.stop()
    assert first is not None and not running(first)


async def test_a_worker_past_its_time_is_replaced() -> None:
    files = ReportFiles(None, timeout_seconds=0.05)
    try:
        with pytest.raises(ReportFileError, match="took over"):
            await files.render(sample(), "pdf")
        assert files.worker_pid is None
    finally:
        await files.stop()


async def test_a_worker_that_ends_at_once_is_an_error_and_the_next_file_starts_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = ReportFiles(None)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(report_files, "WORKER_MODULE", "ntpd112.publish.no_such_worker")
            with pytest.raises(ReportFileError, match="xlsx failed"):
                await files.render(sample(), "xlsx")
        assert files.worker_pid is None
        assert (await files.render(sample(), "xlsx")).startswith(b"PK")
    finally:
        await files.stop()
