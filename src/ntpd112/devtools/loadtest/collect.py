"""What a run leaves behind, gathered: SIPp's statistics file, the service's /metrics, the run's calls in the
database, and CPU and memory of the service, Asterisk, PostgreSQL and SIPp sampled once a second, with how short of
CPU the whole machine was."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import or_, select

from ntpd112.devtools.loadtest.report import TAG_RE, CpuPressure, ProcessUsage, RecordFields
from ntpd112.store.db import Database
from ntpd112.store.models import Call, CallEvent

CPU_PRESSURE_FILE = Path("/proc/pressure/cpu")


def cpu_stall_microseconds(text: str) -> int | None:
    """The `some` total of /proc/pressure/cpu: microseconds in which at least one runnable task waited for a core."""
    for line in text.splitlines():
        kind, *fields = line.split()
        if kind == "some":
            totals = [field.removeprefix("total=") for field in fields if field.startswith("total=")]
            return int(totals[0]) if totals and totals[0].isdigit() else None
    return None


def cpu_pressure(stalls: Sequence[tuple[float, int]]) -> CpuPressure | None:
    """Percent of the time between (epoch seconds, stall microseconds) readings that tasks waited for a core."""
    if len(stalls) < 2:
        return None
    shares = [
        (stall - earlier_stall) / ((at - earlier) * 1e4)
        for (earlier, earlier_stall), (at, stall) in pairwise(stalls)
        if at > earlier
    ]
    (first, first_stall), (last, last_stall) = stalls[0], stalls[-1]
    if not shares or last <= first:
        return None
    return CpuPressure(
        avg_percent=round((last_stall - first_stall) / ((last - first) * 1e4), 1), max_percent=round(max(shares), 1)
    )


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []


def sipp_statistics(path: Path) -> dict[str, float]:
    """The cumulative counters of the last line of SIPp's -trace_stat file (semicolon-separated, header first)."""
    lines = [line for line in read_lines(path) if line.strip()]
    if len(lines) < 2:
        return {}
    header, last = lines[0].split(";"), lines[-1].split(";")
    values = {}
    for name, value in zip(header, last, strict=False):
        if name.endswith("(C)"):
            with contextlib.suppress(ValueError):
                values[name.removesuffix("(C)")] = float(value)
    return values


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text as name{labels} -> value (histogram buckets keep their `le`)."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = float(sample.value)
    return values


# A scrape that failed: the service not answering (yet, or any more), or too busy to answer within the timeout.
SCRAPE_ERRORS = (aiohttp.ClientError, TimeoutError)


async def scrape_metrics(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as reply:
        reply.raise_for_status()
        return parse_metrics(await reply.text())


@dataclass
class RunRecords:
    timelines: dict[str, list[list[str]]]  # tag -> event types of each call record carrying it
    intake_ms: list[float]
    continue_ms: list[float]  # the part of intake_ms spent waiting for Asterisk's answer to the continue
    fields: dict[str, list[RecordFields]] = field(default_factory=dict)  # tag -> each record's fields, same order


def _tag(call: Call, by_number: Mapping[str, str]) -> str | None:
    if call.caller_name and (match := TAG_RE.search(call.caller_name)):
        return match.group()
    return by_number.get(call.caller_number or "") or by_number.get(call.caller_number_raw or "")


async def fetch_records(database: Database, prefix: str, by_number: Mapping[str, str] | None = None) -> RunRecords:
    """The run's calls, found by the tag each caller's display name carries (`prefix-NNNNN`), or, for a record that
    lost its display name, by its caller number (`by_number`: raw or E.164 -> tag, when every call has its own)."""
    by_number = by_number or {}
    numbers = list(by_number)
    async with database.session() as session:
        found = or_(Call.caller_name.like(f"%{prefix}-%"), Call.caller_number.in_(numbers))
        calls = (await session.scalars(select(Call).where(or_(found, Call.caller_number_raw.in_(numbers))))).all()
        tags = {c.id: tag for c in calls if (tag := _tag(c, by_number)) is not None}
        events = await session.execute(
            select(CallEvent.call_id, CallEvent.type, CallEvent.data)
            .where(CallEvent.call_id.in_(list(tags)))
            .order_by(CallEvent.call_id, CallEvent.at, CallEvent.seq)
        )
        by_call: dict[uuid.UUID, list[str]] = {call_id: [] for call_id in tags}
        intake_ms, continue_ms = [], []
        for call_id, event_type, data in events:
            by_call[call_id].append(event_type)
            if event_type == "queued" and isinstance(data, dict) and "intake_ms" in data:
                intake_ms.append(float(data["intake_ms"]))
                if "continue_ms" in data:
                    continue_ms.append(float(data["continue_ms"]))
    timelines: dict[str, list[list[str]]] = {}
    fields: dict[str, list[RecordFields]] = {}
    for call in calls:
        if call.id not in tags:
            continue
        timelines.setdefault(tags[call.id], []).append(by_call[call.id])
        fields.setdefault(tags[call.id], []).append(
            RecordFields(
                caller_name=call.caller_name,
                caller_number_raw=call.caller_number_raw,
                caller_number=call.caller_number,
                trunk=call.trunk,
                carrier=call.carrier,
                dialed_number=call.dialed_number,
                offered=call.offered_at is not None,
                answered=call.answered_at is not None,
                ended=call.ended_at is not None,
                handled_by=call.handled_by,
                callback_status=call.callback_status,
            )
        )
    return RunRecords(timelines, intake_ms, continue_ms, fields)


def postgresql_pids() -> list[int]:
    # The whole server (postmaster and every backend): the run's writes land in whichever backend serves them.
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")]


@dataclass
class Sample:
    at: float
    group: str
    cpu_percent: float
    rss_mb: float


@dataclass
class ResourceSampler:
    """Samples CPU (percent of one core) and resident memory of process groups every `interval` seconds. Groups
    map to a function giving their current pids, so processes that come and go (the service, SIPp) are followed."""

    groups: dict[str, Callable[[], list[int]]]
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    cpu_stalls: list[tuple[float, int]] = field(default_factory=list)  # (epoch seconds, /proc/pressure/cpu total)
    _processes: dict[int, psutil.Process] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loadtest-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def _process(self, pid: int) -> psutil.Process | None:
        if pid not in self._processes:
            try:
                process = psutil.Process(pid)
                process.cpu_percent()  # the first call only starts the measurement
            except psutil.Error:
                return None
            self._processes[pid] = process
        return self._processes[pid]

    def sample(self) -> None:
        now = time.time()
        for group, pids in self.groups.items():
            cpu = rss = 0.0
            for pid in pids():
                process = self._process(pid)
                if process is None:
                    continue
                try:
                    cpu += process.cpu_percent()
                    rss += process.memory_info().rss / 2**20
                except psutil.Error:
                    self._processes.pop(pid, None)
            self.samples.append(Sample(now, group, cpu, rss))
        with contextlib.suppress(OSError):  # a kernel without pressure stall information
            if (stall := cpu_stall_microseconds(CPU_PRESSURE_FILE.read_text())) is not None:
                # Stamped when read, not with the processes' `now`: on a saturated machine reading them took
                # seconds, and a counter stamped a second early read as 1,396 % of the time.
                self.cpu_stalls.append((time.time(), stall))

    def cpu_pressure(self, start: float, end: float) -> CpuPressure | None:
        return cpu_pressure([reading for reading in self.cpu_stalls if start <= reading[0] <= end])

    def usage(self, start: float, end: float) -> dict[str, ProcessUsage]:
        usage = {}
        for group, pids in self.groups.items():
            window = [s for s in self.samples if s.group == group and start <= s.at <= end and s.rss_mb > 0]
            if window:
                usage[group] = ProcessUsage(
                    processes=len(pids()),
                    cpu_avg_percent=round(sum(s.cpu_percent for s in window) / len(window), 1),
                    cpu_max_percent=round(max(s.cpu_percent for s in window), 1),
                    rss_max_mb=round(max(s.rss_mb for s in window), 1),
                )
        return usage
