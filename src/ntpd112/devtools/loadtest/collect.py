"""What a run leaves behind, gathered: SIPp's statistics file, the service's /metrics, the run's calls in the
database, and CPU and memory of the service, Asterisk, PostgreSQL and SIPp sampled once a second."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from ntpd112.devtools.loadtest.report import TAG_RE, ProcessUsage
from ntpd112.store.db import Database
from ntpd112.store.models import Call, CallEvent


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


async def scrape_metrics(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as reply:
        reply.raise_for_status()
        return parse_metrics(await reply.text())


@dataclass
class RunRecords:
    timelines: dict[str, list[list[str]]]  # tag -> event types of each call record carrying it
    intake_ms: list[float]


async def fetch_records(database: Database, prefix: str) -> RunRecords:
    """The run's calls, found by the tag each caller's display name carries (`prefix-NNNNN`)."""
    async with database.session() as session:
        calls = await session.execute(select(Call.id, Call.caller_name).where(Call.caller_name.like(f"%{prefix}-%")))
        tags = {call_id: match.group() for call_id, name in calls if name and (match := TAG_RE.search(name))}
        events = await session.execute(
            select(CallEvent.call_id, CallEvent.type, CallEvent.data)
            .where(CallEvent.call_id.in_(list(tags)))
            .order_by(CallEvent.call_id, CallEvent.at, CallEvent.seq)
        )
        by_call: dict[uuid.UUID, list[str]] = {call_id: [] for call_id in tags}
        intake_ms = []
        for call_id, event_type, data in events:
            by_call[call_id].append(event_type)
            if event_type == "queued" and isinstance(data, dict) and "intake_ms" in data:
                intake_ms.append(float(data["intake_ms"]))
    timelines: dict[str, list[list[str]]] = {}
    for call_id, types in by_call.items():
        timelines.setdefault(tags[call_id], []).append(types)
    return RunRecords(timelines, intake_ms)


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
