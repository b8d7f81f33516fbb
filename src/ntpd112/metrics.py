"""Prometheus metrics of one service instance (own registry, so tests can build several apps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ntpd112.tasks import TaskSet


class _LiveValues(Collector):
    """Values read at scrape time from the adapters (reconnect counts, backlog), so nobody keeps copies."""

    def __init__(
        self,
        counters: dict[str, tuple[str, Callable[[], float]]],
        gauges: dict[str, tuple[str, Callable[[], float]]],
    ) -> None:
        self._counters = counters
        self._gauges = gauges

    def collect(self):  # type: ignore[no-untyped-def]
        for name, (help_text, read) in self._counters.items():
            yield CounterMetricFamily(name, help_text, value=read())
        for name, (help_text, read) in self._gauges.items():
            yield GaugeMetricFamily(name, help_text, value=read())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls_offered = Counter(
            "ntpd112_calls_offered", "112 calls that reached the service", registry=self.registry
        )
        self.calls_answered = Counter(
            "ntpd112_calls_answered", "112 calls answered by the service", registry=self.registry
        )
        self.calls_active = Gauge("ntpd112_calls_active", "112 calls in progress", registry=self.registry)
        self.intake_seconds = Histogram(
            "ntpd112_intake_seconds",
            "StasisStart until the call continues to the queue",
            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.event_loop_late_seconds = Histogram(
            "ntpd112_event_loop_late_seconds",
            "How late the event loop ran a timer: what every call's next step waited behind other work",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

    def watch(
        self,
        counters: dict[str, tuple[str, Callable[[], float]]],
        gauges: dict[str, tuple[str, Callable[[], float]]],
    ) -> None:
        self.registry.register(_LiveValues(counters, gauges))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class EventLoopWatch:
    """A timer every `interval` on the service's event loop, its lateness into the histogram. Every step of every
    call (its ARI event, its database write, its continue) waits as long when the loop is busy elsewhere or the
    process does not get the CPU; intake's time alone does not tell those apart (docs/BENCHMARKS.md)."""

    def __init__(self, histogram: Histogram, interval: float = 0.1) -> None:
        self._histogram = histogram
        self._interval = interval
        self._tasks = TaskSet("event-loop-watch")

    async def start(self) -> None:
        self._tasks.spawn(self._watch(), name="event-loop-watch")

    async def stop(self) -> None:
        await self._tasks.aclose()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self._interval
            await asyncio.sleep(self._interval)
            self._histogram.observe(max(0.0, loop.time() - due))
