"""Report files for the web and the monthly publication. JSON and the recap CSV are built here; the XLSX and the
PDF by a worker process (publish/render_child.py) at the lowest scheduling priority, one file at a time. The worker
starts at the first XLSX or PDF and leaves after IDLE_SECONDS without one.

Why a worker: building a month's PDF is a second or more of pure Python, and in a thread of the service it held the
interpreter's lock that the event loop carrying the calls needs (docs/BENCHMARKS.md, twelfth slice of issue 12:
every wake-up of the loop some 5 ms late for the whole PDF, a stall of 180 ms in an XLSX). The file libraries
(openpyxl, fpdf and what they import) also stayed in the service's memory after the first download. Why one that
stays a while: their import costs over a second of CPU, which a process per file paid every time, on the same
cores as Asterisk (measured there too: worse for callers than the thread).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ntpd112.logs import get_logger
from ntpd112.reports.files import ReportFormat, to_csv, to_json
from ntpd112.reports.rules import Report
from ntpd112.tasks import TaskSet

log = get_logger(__name__)
WORKER_MODULE = "ntpd112.publish.render_child"
# Below the service and Asterisk (coreutils' nice, so that the worker's imports run at that priority too): on a
# busy machine a 112 call's answer comes first, the file a little later.
NICENESS = 19
# A year's PDF takes a few seconds on a busy machine; a worker still on one file after this is stuck.
TIMEOUT_SECONDS = 300.0
# A supervisor downloading several files pays the worker's start-up once; a quiet room gets the memory back.
IDLE_SECONDS = 600.0
# What the worker keeps of the service's environment: enough to find Python, ntpd112 and the locale. Not the
# service's secrets (the database URL, the ARI and AMI passwords), which the worker has no use for.
_WORKER_ENVIRONMENT = frozenset({"PATH", "PYTHONPATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"})
# A worker told to leave (its input closed) that is still there after this is killed.
_LEAVE_SECONDS = 5.0


def worker_environment(environment: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environment.items() if name in _WORKER_ENVIRONMENT}


class ReportFileError(RuntimeError):
    pass


# What the service and its worker say to each other (the worker's side: publish/render_child.py).
FileFormat = Literal["xlsx", "pdf"]


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: FileFormat
    logo: Path | None = None
    length: int = Field(ge=0)


class RenderReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: int = Field(ge=0)
    error: str | None = None


class ReportFiles:
    def __init__(
        self, logo: Path | None, timeout_seconds: float = TIMEOUT_SECONDS, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        """`logo`: the Pemda's logo, printed on the PDF only."""
        self._logo = logo
        self._timeout = timeout_seconds
        self._idle = idle_seconds
        self._worker: asyncio.subprocess.Process | None = None
        self._one_file_at_a_time = asyncio.Lock()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._leaving = TaskSet("report-worker")

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker is not None else None

    async def stop(self) -> None:
        """The worker leaves (a file it is building fails), and so does any still leaving."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        worker, self._worker = self._worker, None
        if worker is not None:
            await self._leave(worker)
        await self._leaving.aclose()

    async def render(self, report: Report, file_format: ReportFormat) -> bytes:
        if file_format == "json":
            return to_json(report)
        if file_format == "csv":  # some 20 ms for a year's recap
            return (await asyncio.to_thread(to_csv, report)).encode("utf-8")
        async with self._one_file_at_a_time:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            try:
                return await asyncio.wait_for(self._exchange(report, file_format), self._timeout)
            except TimeoutError:
                self._retire()
                raise ReportFileError(f"building the {file_format} took over {self._timeout:.0f} s") from None
            except (OSError, asyncio.IncompleteReadError, ValidationError):
                # It could not start, its pipes broke, its output ended or is not a reply: the next file gets a new
                # worker.
                self._retire()
                raise ReportFileError(f"the worker building the {file_format} failed") from None
            finally:
                self._idle_timer = asyncio.get_running_loop().call_later(self._idle, self._retire)

    async def _exchange(self, report: Report, file_format: FileFormat) -> bytes:
        worker = self._worker or await self._start_worker()
        assert worker.stdin is not None and worker.stdout is not None
        body = to_json(report)
        logo = self._logo if file_format == "pdf" else None
        request = RenderRequest(format=file_format, logo=logo, length=len(body))
        worker.stdin.write(request.model_dump_json().encode("utf-8") + b"\n" + body)
        await worker.stdin.drain()
        line = await worker.stdout.readline()
        if not line:
            raise ConnectionResetError("the worker's output ended")
        reply = RenderReply.model_validate_json(line)
        content = await worker.stdout.readexactly(reply.length)
        if reply.error is not None:
            log.error("report file failed", format=file_format, error=reply.error)
            raise ReportFileError(f"building the {file_format} failed: {reply.error}")
        return content

    async def _start_worker(self) -> asyncio.subprocess.Process:
        # A session of its own: the worker's scheduling group is not the service's (render_child.py says why), and
        # a terminal's Ctrl-C reaches the service alone, which then closes the worker's input.
        self._worker = await asyncio.create_subprocess_exec(
            "nice",
            "-n",
            str(NICENESS),
            sys.executable,
            "-m",
            WORKER_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=worker_environment(os.environ),
            start_new_session=True,
        )
        log.info("report worker started", pid=self._worker.pid)
        return self._worker

    def _retire(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            self._leaving.spawn(self._leave(worker), name="report-worker-leaves")

    @staticmethod
    async def _leave(worker: asyncio.subprocess.Process) -> None:
        if worker.stdin is not None:
            worker.stdin.close()  # the worker ends when its input does
        try:
            await asyncio.wait_for(worker.wait(), _LEAVE_SECONDS)
        except TimeoutError:
            log.warning("report worker did not leave; killed", pid=worker.pid)
        finally:
            if worker.returncode is None:  # still there after _LEAVE_SECONDS, or the service is stopping
                worker.kill()
