"""The report benchmark's event-loop meter (devtools/report_bench.py): what it reports of the timers it ran while a
file was built."""

from __future__ import annotations

import asyncio

from ntpd112.devtools.report_bench import LoopLag, loop_lag_while


def test_percentiles_of_the_timers_lateness() -> None:
    late = LoopLag(1.0, [3.0, 1.0, 2.0, 4.0]).late
    # Nearest rank, as the load report's percentiles: p50 of four values is the second.
    assert (late.n, late.p50, late.p99, late.max) == (4, 2.0, 4.0, 4.0)
    assert LoopLag(0.0, []).late.p99 is None


async def test_the_timers_run_until_the_file_is_built() -> None:
    async def build() -> bytes:
        await asyncio.sleep(0.05)
        return b"file"

    lag = await loop_lag_while(build())
    assert lag.seconds >= 0.05
    # A 1 ms timer at a time: at most 50 fit in 50 ms, and the loop was free, so several did.
    assert 1 < len(lag.late_ms) <= 50
