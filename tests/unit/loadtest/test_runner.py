"""The load test's bound on a step: a wait nobody foresaw ends the run and says where it waited; the wait for the
service to drain a step's calls and records."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from ntpd112.devtools.loadtest.runner import HarnessStalled, hang_up_left_over_calls, within
from ntpd112.devtools.loadtest.service import ServiceProcess
from ntpd112.pbx.ami import AmiError
from ntpd112.pbx.ami_actions import Hangup


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


async def test_a_step_stuck_in_a_library_names_its_own_awaits_and_the_librarys_innermost() -> None:
    # A server that takes the request and never answers: the client waits in aiohttp's read.
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def scrape_the_service() -> None:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as reply:
            await reply.read()

    async def check_records() -> None:
        await scrape_the_service()

    try:
        with pytest.raises(HarnessStalled) as stalled:
            async with within(0.2, "a step"):
                await check_records()
    finally:
        server.close()
    where = str(stalled.value).split("waiting in ", 1)[1].split(" > ")
    # The test's own awaits down to the request, then where aiohttp itself waited (four of its frames before).
    assert [frame.split(" (")[0] for frame in where[-3:-1]] == ["check_records", "scrape_the_service"]
    assert "test_runner.py" not in where[-1]


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


class _BusyAsterisk:
    """An AMI client whose Asterisk lists its channels (or does not answer) and records the hangups asked of it."""

    def __init__(self, channels: list[str] | None) -> None:
        self.channels = channels  # None: too busy to answer CoreShowChannels
        self.hung_up: list[str] = []

    async def send(self, action: object) -> object:
        if isinstance(action, Hangup):
            self.hung_up.append(action.channel)
            return None
        if self.channels is None:
            raise AmiError("AMI action CoreShowChannels timed out")
        return [SimpleNamespace(name=name) for name in self.channels]


async def test_calls_left_after_a_step_are_counted_and_hung_up_by_name() -> None:
    ami = _BusyAsterisk(["PJSIP/trunk-telkomsel-00000001", "PJSIP/load01-00000002"])
    assert await hang_up_left_over_calls(ami, "PJSIP/trunk-telkomsel-") == 1  # type: ignore[arg-type]
    assert ami.hung_up == ["/^PJSIP/trunk-telkomsel-/"]


async def test_no_call_left_hangs_up_nothing() -> None:
    ami = _BusyAsterisk(["PJSIP/load01-00000002"])
    assert await hang_up_left_over_calls(ami, "PJSIP/trunk-telkomsel-") == 0  # type: ignore[arg-type]
    assert ami.hung_up == []


async def test_an_asterisk_too_busy_to_list_its_calls_has_the_paths_calls_hung_up_and_the_run_goes_on() -> None:
    # A saturated Asterisk did not answer CoreShowChannels in time, and the whole `thousand` run ended without a
    # report (BENCHMARKS.md, eleventh slice).
    ami = _BusyAsterisk(None)
    assert await hang_up_left_over_calls(ami, "PJSIP/trunk-telkomsel-") is None  # type: ignore[arg-type]
    assert ami.hung_up == ["/^PJSIP/trunk-telkomsel-/"]
