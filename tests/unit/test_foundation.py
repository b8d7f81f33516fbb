"""Unit tests of the foundation's pure logic: settings, backoff, ordered execution, trunk table, journal records,
ARI event parsing, Stasis arguments, log redaction."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from ntpd112 import tasks
from ntpd112 import tasks as task_module
from ntpd112.backoff import Backoff
from ntpd112.calls.handler import StasisArgs
from ntpd112.clock import call_id_for
from ntpd112.intake.numbering import CallerNumbering
from ntpd112.logs import _redact_secrets
from ntpd112.pbx.ari_models import AriEventError, ChannelDestroyed, OtherEvent, StasisStart, parse_event
from ntpd112.pbx.asterisk_config import TrunkConfigError, load_trunks, parse_trunks, render_trunks
from ntpd112.store.journal import CallRecord, EventRecord, _from_json, _to_json
from ntpd112.tasks import BoundedWork, KeyedSerialExecutor, Overloaded, TaskSet, cancel_and_wait

VALID_ENV = {
    "NTPD112_DATABASE_URL": "postgresql+asyncpg://u:pw@127.0.0.1:5432/db",
    "NTPD112_ARI_PASSWORD": "ari-secret-value",
    "NTPD112_AMI_PASSWORD": "ami-secret-value",
}


def _run_cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NTPD112_")}
    return subprocess.run(
        [sys.executable, "-m", "ntpd112", *args],
        env=clean | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {k: v for k, v in VALID_ENV.items() if k != "NTPD112_ARI_PASSWORD"},
            "setting NTPD112_ARI_PASSWORD is missing",
        ),
        (VALID_ENV | {"NTPD112_HTTP_PORT": "99999"}, "setting NTPD112_HTTP_PORT is invalid"),
        (
            VALID_ENV | {"NTPD112_DATABASE_URL": "mysql://u:topsecret@h/db"},
            "setting NTPD112_DATABASE_URL is invalid",
        ),
        (VALID_ENV | {"NTPD112_LOG_FORMAT": "xml"}, "setting NTPD112_LOG_FORMAT is invalid"),
    ],
)
def test_bad_settings_stop_startup_with_one_line_naming_the_setting(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    result = _run_cli(["run"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "topsecret" not in result.stderr and "secret-value" not in result.stderr


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert delays[0] <= 0.5 and delays[1] > delays[0] * 1.2
    assert all(d <= 4.0 for d in delays) and delays[-1] >= 4.0 * 0.8
    backoff.reset()
    assert backoff.next_delay() <= 0.5
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_backoff_after_n_failures_grows_from_the_initial_delay_to_the_cap() -> None:
    backoff = Backoff(10, 600)
    assert 8 <= backoff.delay_after(1) <= 10
    assert 16 <= backoff.delay_after(2) <= 20
    assert 480 <= backoff.delay_after(7) <= 600  # 640 capped
    assert 480 <= backoff.delay_after(10_000) <= 600  # no overflow however long a delivery has failed


async def test_keyed_executor_keeps_order_within_a_key_and_runs_keys_in_parallel() -> None:
    seen: list[tuple[str, int]] = []
    release = asyncio.Event()

    async def handle(item: tuple[str, int]) -> None:
        if item == ("slow", 0):
            await release.wait()
        if item == ("slow", 2):
            raise RuntimeError("a failing handler must not stop later items")
        seen.append(item)

    tasks = TaskSet("test")
    executor: KeyedSerialExecutor[tuple[str, int]] = KeyedSerialExecutor(handle, tasks)
    for n in range(4):
        executor.submit("slow", ("slow", n))
        executor.submit("fast", ("fast", n))
    for _ in range(20):
        await asyncio.sleep(0)
    assert seen == [("fast", n) for n in range(4)]  # "fast" did not wait behind the blocked "slow"
    release.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert [item for item in seen if item[0] == "slow"] == [("slow", 0), ("slow", 1), ("slow", 3)]
    assert executor.busy_keys == 0
    await tasks.aclose()


async def test_a_task_that_loses_its_cancellation_is_cancelled_again_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(task_module, "CANCEL_AGAIN_SECONDS", 0.05)
    cancellations = 0

    async def watcher_swallowing_a_cancel() -> None:
        # What aiohttp does to a cancel that races its request timeout: the loop sees a TimeoutError and goes on.
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations > 1:
                    raise

    async def failing() -> None:
        raise RuntimeError("taken, not left to the garbage collector's warning")

    watcher, failed = asyncio.create_task(watcher_swallowing_a_cancel()), asyncio.create_task(failing())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait([watcher, failed]), 5)
    assert watcher.cancelled() and cancellations == 2
    assert isinstance(failed.exception(), RuntimeError)

    tasks = TaskSet("test")
    spawned = tasks.spawn(watcher_swallowing_a_cancel())
    cancellations = 0
    await asyncio.sleep(0)
    await asyncio.wait_for(tasks.aclose(), 5)
    assert spawned.cancelled() and len(tasks) == 0


def test_shipped_trunk_table_is_valid_and_renders_identify_sections() -> None:
    table = load_trunks()
    assert {t.name for t in table.trunk} == {"telkomsel", "indosat", "xl", "smartfren", "telkom"}
    text = render_trunks(table, {})
    assert "[trunk-telkomsel](ntpd112-trunk)" in text
    assert "[trunk-telkomsel-identify]\ntype=identify\nendpoint=trunk-telkomsel\nmatch=127.0.0.11" in text


def test_a_trunk_says_how_it_presents_calling_numbers_and_auto_is_the_default() -> None:
    table = parse_trunks(
        '[[trunk]]\nname="a"\noperator="x"\nnetwork="fixed"\nmatch=["1.2.3.4"]\n'
        '[trunk.numbers]\nformat="national"\nstrip_prefixes=["1717"]\n'
        '[[trunk]]\nname="b"\noperator="y"\nnetwork="mobile"\nmatch=["1.2.3.5"]'
    )
    assert table.trunk[0].numbers == CallerNumbering(format="national", strip_prefixes=("1717",))
    assert table.trunk[1].numbers == CallerNumbering(format="auto", strip_prefixes=())
    assert table.by_name("b") is table.trunk[1] and table.by_name("c") is None


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('[[trunk]]\nname="a]\\n[evil"\noperator="x"\nnetwork="mobile"\nmatch=["1.2.3.4"]', "trunk.0.name"),
        ('[[trunk]]\nname="a"\noperator="x"\nnetwork="mobile"\nmatch=["not-an-ip"]', "trunk.0.match"),
        ('[[trunk]]\nname="a"\noperator="x"\nnetwork="satellite"\nmatch=["1.2.3.4"]', "trunk.0.network"),
        ('[[trunk]]\nname="a"\noperator="x"\nnetwork="fixed"\nmatch=[]', "trunk.0.match"),
        (
            '[[trunk]]\nname="a"\noperator="x\\n[inject]"\nnetwork="fixed"\nmatch=["1.2.3.4"]',
            "trunk.0.operator",
        ),
        (
            '[[trunk]]\nname="a"\noperator="x"\nnetwork="fixed"\nmatch=["1.2.3.4"]\n'
            '[[trunk]]\nname="a"\noperator="y"\nnetwork="fixed"\nmatch=["1.2.3.5"]',
            "duplicate trunk names: a",
        ),
        ("this is = not toml [", "not valid TOML"),
        (
            '[[trunk]]\nname="a"\noperator="x"\nnetwork="fixed"\nmatch=["1.2.3.4"]\nnumbers={format="local"}',
            "trunk.0.numbers.format",
        ),
        (
            '[[trunk]]\nname="a"\noperator="x"\nnetwork="fixed"\nmatch=["1.2.3.4"]\nnumbers={strip_prefixes=["1a"]}',
            "trunk.0.numbers.strip_prefixes.0",
        ),
    ],
)
def test_invalid_trunk_tables_are_refused_naming_the_field(toml: str, problem: str) -> None:
    with pytest.raises(TrunkConfigError, match=problem.replace(".", r"\.")):
        parse_trunks(toml)


def test_journal_records_survive_the_spool_round_trip() -> None:
    call_id = call_id_for("1795389981.0")
    at = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    records = [
        CallRecord(call_id, "1795389981.0", {"trunk": "xl", "offered_at": at, "hangup_cause": 16}),
        EventRecord(uuid.uuid4(), call_id, at, "offered", {"headers": {"From": "<sip:x@y>"}, "n": [1, 2]}),
    ]
    assert [_from_json(_to_json(r)) for r in records] == records
    assert call_id_for("1795389981.0") == call_id != call_id_for("1795389981.1")


def test_a_spool_line_the_standard_library_wrote_with_nan_is_still_read() -> None:
    """Spools written before orjson (which writes NaN as null and refuses to read it) must replay after an upgrade."""
    call_id = call_id_for("1795389981.2")
    fields = {"trunk": "xl", "best_radius_m": math.nan}
    line = json.dumps({"kind": "call", "call_id": str(call_id), "uniqueid": "1795389981.2", "fields": fields})
    assert "NaN" in line
    record = _from_json(line)
    assert isinstance(record, CallRecord) and record.fields["trunk"] == "xl"
    assert math.isnan(record.fields["best_radius_m"])
    written = _to_json(CallRecord(call_id, "1795389981.2", fields))
    assert _from_json(written) == CallRecord(call_id, "1795389981.2", {"trunk": "xl", "best_radius_m": None})


def test_ari_events_parse_into_models_and_unknown_types_are_kept() -> None:
    start = parse_event(
        {
            "type": "StasisStart",
            "application": "ntpd112",
            "args": ["trunk-xl", "1.2", "112"],
            "channel": {
                "id": "1.2",
                "name": "PJSIP/trunk-xl-1",
                "state": "Ring",
                "caller": {"name": "Budi", "number": "0812"},
                "dialplan": {"app_name": "Stasis"},
            },
        }
    )
    assert isinstance(start, StasisStart) and start.channel.caller.number == "0812"
    destroyed = parse_event({"type": "ChannelDestroyed", "channel": {"id": "1.2"}, "cause": 16, "cause_txt": "x"})
    assert isinstance(destroyed, ChannelDestroyed) and destroyed.cause == 16
    assert isinstance(parse_event({"type": "BridgeCreated", "bridge": {}}), OtherEvent)
    with pytest.raises(AriEventError):
        parse_event({"type": "StasisStart"})  # no channel
    with pytest.raises(AriEventError):
        parse_event({"no": "type"})


def test_stasis_args_tolerate_missing_and_oversized_values() -> None:
    assert StasisArgs.parse(["trunk-xl", "1.2", "112"]) == StasisArgs("trunk-xl", "1.2", "112")
    assert StasisArgs.parse([]) == StasisArgs("", None, None)
    assert len(StasisArgs.parse(["x" * 5000]).endpoint) == 80
    assert StasisArgs.from_app_data("ntpd112,trunk-telkom,9.9,112") == StasisArgs("trunk-telkom", "9.9", "112")


def test_secrets_are_redacted_from_log_lines() -> None:
    event = _redact_secrets(None, "info", {"event": "x", "ami_password": "p", "Authorization": "Bearer t", "n": 1})
    assert event == {"event": "x", "ami_password": "***", "Authorization": "***", "n": 1}
    structlog.reset_defaults()


def test_secret_settings_never_print() -> None:
    from ntpd112.config import Settings

    settings = Settings(
        database_url="postgresql+asyncpg://u:dbpass@h/db",
        ari_password="aripass",
        ami_password="amipass",
        _env_file=None,
    )  # type: ignore[call-arg]
    shown = repr(settings) + str(settings) + json.dumps(settings.model_dump(mode="json"))
    assert "dbpass" not in shown and "aripass" not in shown and "amipass" not in shown


async def test_bounded_work_gives_the_result_in_time_and_lets_overrunning_work_finish_uncancelled() -> None:
    bounded = BoundedWork("test", seconds=0.05, max_overrunning=5)
    finished: list[str] = []

    async def work(name: str, seconds: float) -> str:
        await asyncio.sleep(seconds)
        finished.append(name)
        return name

    assert await bounded.run(work("quick", 0.01)) == "quick"
    with pytest.raises(TimeoutError):
        await bounded.run(work("slow", 0.15))
    # Not cancelled at the limit: it runs on to its end (a database round trip hands its connection back cleanly).
    await asyncio.sleep(0.2)
    assert finished == ["quick", "slow"]
    # What is still running at shutdown is cancelled by aclose.
    with pytest.raises(TimeoutError):
        await bounded.run(work("left", 10))
    await bounded.aclose()
    assert finished == ["quick", "slow"]


class _LogRecorder:
    """Stands in for a module's logger: structlog's capture_logs misses a logger cached by an earlier test."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str, dict[str, object]]] = []

    def warning(self, event: str, **fields: object) -> None:
        self.entries.append(("warning", event, fields))

    def error(self, event: str, **fields: object) -> None:
        self.entries.append(("error", event, fields))


async def test_bounded_work_failures_go_to_the_caller_in_time_and_to_a_warning_after_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = _LogRecorder()
    monkeypatch.setattr(tasks, "log", recorder)
    bounded = BoundedWork("lookups", seconds=0.05, max_overrunning=5)

    async def failing(seconds: float) -> None:
        await asyncio.sleep(seconds)
        raise ConnectionError("database gone")

    with pytest.raises(ConnectionError):
        await bounded.run(failing(0.01))
    with pytest.raises(TimeoutError):
        await bounded.run(failing(0.1))
    await asyncio.sleep(0.15)
    await bounded.aclose()
    # The caller had the first failure; the second, after the limit, is one warning without a traceback.
    assert recorder.entries == [
        ("warning", "work failed after its limit", {"owner": "lookups", "error": "ConnectionError"})
    ]


async def test_bounded_work_whose_caller_left_still_tells_its_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _LogRecorder()
    monkeypatch.setattr(tasks, "log", recorder)
    bounded = BoundedWork("lookups", seconds=1.0, max_overrunning=5)

    async def failing() -> None:
        await asyncio.sleep(0.05)
        raise ConnectionError("database gone")

    caller = asyncio.create_task(bounded.run(failing()))
    await asyncio.sleep(0.01)
    caller.cancel()  # the intake that waited for the lookups failed meanwhile
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0.1)
    await bounded.aclose()
    assert recorder.entries == [
        ("warning", "work failed after its caller left", {"owner": "lookups", "error": "ConnectionError"})
    ]


async def test_bounded_work_is_refused_at_once_while_as_many_as_allowed_overrun() -> None:
    bounded = BoundedWork("test", seconds=0.05, max_overrunning=2)
    release = asyncio.Event()
    started: list[int] = []

    async def work(number: int) -> int:
        started.append(number)
        await release.wait()
        return number

    # A burst within the limit is not refused: three at once, none overrunning yet.
    burst = [asyncio.create_task(bounded.run(work(number))) for number in (1, 2, 3)]
    results = await asyncio.gather(*burst, return_exceptions=True)
    assert [type(result) for result in results] == [TimeoutError] * 3
    with pytest.raises(Overloaded):
        await bounded.run(work(4))  # three still run past their limit: the fourth never starts
    assert started == [1, 2, 3]
    release.set()
    await asyncio.sleep(0.01)
    assert await bounded.run(work(5)) == 5  # they finished: room again
    await bounded.aclose()
