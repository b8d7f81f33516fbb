"""The service's event-loop watch (metrics.EventLoopWatch): a loop held up by other work shows in the histogram."""

from __future__ import annotations

import asyncio
import time

from ntpd112.metrics import EventLoopWatch, Metrics


def observed(metrics: Metrics, bound: str) -> float:
    value = metrics.registry.get_sample_value("ntpd112_event_loop_late_seconds_bucket", {"le": bound})
    assert value is not None
    return value


async def test_a_loop_held_up_by_other_work_is_counted_late() -> None:
    metrics = Metrics()
    watch = EventLoopWatch(metrics.event_loop_late_seconds, interval=0.01)
    await watch.start()
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # noqa: ASYNC251 (on purpose: other work holding the loop; the timer fires ~200 ms late)
        await asyncio.sleep(0.05)
    finally:
        await watch.stop()
    total = observed(metrics, "+Inf")
    assert total >= 3
    assert total - observed(metrics, "0.1") >= 1  # the held-up timer: over 100 ms late
