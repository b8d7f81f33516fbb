"""The load test's bound on a step: a wait nobody foresaw ends the run and says where it waited; the wait for the
service to drain a step's calls and records."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ntpd112.devtools.loadtest.runner import HarnessStalled, within
from ntpd112.devtools.loadtest.service import ServiceProcess


async def _callers_never_end() -> None:
    await asyncio.Event().wait()


async def _step() -> None:
    await _callers_never_end()


async def test_a_step_past_its_bound_is_stopped_and_names_the_await_it_was_stuck_in() -> None:
    with pytest.raises(HarnessStalled) as stalled:
        async with within(0.05, "the service path's step at 20 calls/s"):
            await _step()
    message = str(stalled.value)
    assert message.startswith("the service path's step at 20 calls/s did not end within 0 s")
    assert "_step (test_runner.py:" in message
    assert message.index("_step (") < message.index("_callers_never_end (")


async def test_a_timeout_the_step_raises_itself_passes_through() -> None:
    async def ask_asterisk() -> None:
        raise TimeoutError("AMI did not answer")

    with pytest.raises(TimeoutError, match="AMI did not answer") as raised:
        async with within(5, "a step"):
            await ask_asterisk()
    assert not isinstance(raised.value, HarnessStalled)


async def test_a_step_within_its_bound_ends_as_it_would() -> None:
    done = []
    async with within(5, "a step"):
        await asyncio.sleep(0)
        done.append(True)
    assert done == [True]


class _BusyService(ServiceProcess):
    """Answers its metrics only after two scrapes time out, then with calls still in progress, then idle."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__("postgresql+asyncpg://unused", None, tmp_path)
        self.scrapes = 0

    async def metrics(self) -> dict[str, float]:
        self.scrapes += 1
        if self.scrapes <= 2:
            raise TimeoutError
        if self.scrapes == 3:
            return {"ntpd112_calls_active": 12.0, "ntpd112_journal_backlog": 9944.0}
        return {"ntpd112_calls_active": 0.0, "ntpd112_journal_backlog": 0.0}


async def test_a_service_too_busy_to_answer_its_metrics_has_not_settled(tmp_path: Path) -> None:
    service = _BusyService(tmp_path)
    await service.drained(timeout=10)
    assert service.scrapes == 4  # waited through the timeouts and the backlog, until it was idle
