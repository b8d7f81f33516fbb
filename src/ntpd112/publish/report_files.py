"""Report files for the web and the monthly publication. JSON and the recap CSV are built here; the XLSX and the
PDF in a child process (publish/render_child.py), one per file, at a lower scheduling priority.

Why a child: building a month's PDF is a second or more of pure Python, and in a thread of the service it holds the
interpreter's lock that the event loop carrying the calls needs (measured in docs/BENCHMARKS.md: every wake-up of
the loop 5 ms late for the whole PDF, one stall of 180 ms in an XLSX). The file libraries (openpyxl, fpdf and what
they import) are also some 80 MB that the service would otherwise keep for good after the first download. The
price: the child's start-up, over a second, on every XLSX or PDF.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from ntpd112.logs import get_logger
from ntpd112.reports.files import ReportFormat, to_csv, to_json
from ntpd112.reports.rules import Report

log = get_logger(__name__)
CHILD_MODULE = "ntpd112.publish.render_child"
# Below the service and Asterisk (coreutils' nice, so the child's imports run at that priority too): on a busy machine
# a 112 call's answer comes first, the file a little later.
NICENESS = 10
# A year's PDF takes a few seconds on a busy machine; a child still running after this is stuck.
TIMEOUT_SECONDS = 300.0
# What of a failed child's standard error goes into the log and the error.
_STDERR_TAIL = 2000


class ReportFileError(RuntimeError):
    pass


class ReportFiles:
    def __init__(self, logo: Path | None, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        """`logo`: the Pemda's logo, printed on the PDF only."""
        self._logo = logo
        self._timeout = timeout_seconds
        self._children: set[asyncio.subprocess.Process] = set()

    async def stop(self) -> None:
        """Kill the children still building a file (their requests fail)."""
        for child in list(self._children):
            child.kill()
            await child.wait()

    async def render(self, report: Report, file_format: ReportFormat) -> bytes:
        if file_format == "json":
            return to_json(report)
        if file_format == "csv":
            return to_csv(report).encode("utf-8")
        return await self._in_child(report, file_format)

    async def _in_child(self, report: Report, file_format: ReportFormat) -> bytes:
        logo = ["--logo", str(self._logo)] if self._logo is not None and file_format == "pdf" else []
        child = await asyncio.create_subprocess_exec(
            "nice",
            "-n",
            str(NICENESS),
            sys.executable,
            "-m",
            CHILD_MODULE,
            file_format,
            *logo,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._children.add(child)
        try:
            out, err = await asyncio.wait_for(child.communicate(to_json(report)), self._timeout)
        except TimeoutError:
            child.kill()
            await child.wait()
            raise ReportFileError(f"building the {file_format} took over {self._timeout:.0f} s") from None
        finally:
            self._children.discard(child)
        if child.returncode != 0:
            tail = err.decode("utf-8", "replace")[-_STDERR_TAIL:]
            log.error("report file failed", format=file_format, exit_code=child.returncode, stderr=tail)
            raise ReportFileError(f"building the {file_format} failed (exit code {child.returncode})")
        return out
