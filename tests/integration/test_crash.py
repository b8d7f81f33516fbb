"""The service killed with SIGKILL while calls wait: every call still reaches an operator through the dialplan
alone, and after the restart every call is in PostgreSQL (reconciled from Asterisk's own CDRs)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import Call, CallEvent
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    TEST_RECONCILE_LOOKBACK_HOURS,
    assert_complete_timeline,
    assert_ended_last,
    empty_queue,
    free_tcp_port,
    service_settings,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


async def _start_service_process(
    database_url: str, spool: Path, port: int, log_file: Path
) -> asyncio.subprocess.Process:
    env = os.environ | {
        "NTPD112_DATABASE_URL": database_url,
        "NTPD112_HTTP_PORT": str(port),
        "NTPD112_SPOOL_DIR": str(spool),
        "NTPD112_RECONCILE_INTERVAL": "5",
        "NTPD112_RECONCILE_LOOKBACK_HOURS": str(TEST_RECONCILE_LOOKBACK_HOURS),
        # The session's Asterisk writes its CDRs into the test database (conftest.local_asterisk).
        "NTPD112_CDR_DATABASE_URL": database_url,
        "NTPD112_LOG_FORMAT": "json",
    }
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ntpd112", "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log
        )

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as response:
                body = await response.json()
                return bool(body["components"]["ari"]["ok"] and body["components"]["ami"]["ok"])
        except aiohttp.ClientError:
            return False

    await wait_until(healthy, timeout=20)
    return process


async def _queued_calls(database_url: str, numbers: list[str]) -> bool:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            queued = await connection.scalar(
                select(func.count())
                .select_from(CallEvent)
                .join(Call, Call.id == CallEvent.call_id)
                .where(CallEvent.type == "queued", Call.caller_number.in_(["+62" + n[1:] for n in numbers]))
            )
    finally:
        await engine.dispose()
    return queued == len(numbers)


async def test_sigkill_while_calls_wait_loses_no_call(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    # The room: four operators whose phones ring 2 s before answering, so the calls are still waiting in the
    # queue when the service dies. Operators are set up through a short-lived service in this process.
    setup = Service(service_settings(clean_database, tmp_path / "setup-spool"))
    await setup.start()
    await wait_until(lambda: setup.ami.connected)
    await empty_queue(setup)
    phones = [SippAgent("operator.xml", f"127.0.0.3{n}", hold_ms=2000) for n in range(1, 5)]
    operators = [f"op{n}" for n in range(1, 5)]
    for username, phone in zip(operators, phones, strict=True):
        await setup.operators.add(NewOperator(username=username, name=username, contact=phone.contact))
        await setup.operators.login(username)
    await setup.stop()

    port = free_tcp_port()
    log_file = tmp_path / "service.log"
    service = await _start_service_process(clean_database, tmp_path / "spool", port, log_file)
    started = [json.loads(line) for line in log_file.read_text().splitlines() if '"ntpd112 started"' in line]
    assert [line["event_loop"] for line in started] == ["uvloop"]  # `ntpd112 run` runs on uvloop (issue 12)
    numbers = [unique_mobile_number() for _ in range(4)]
    async with running(*phones):
        # Three callers are in the queue, their operators' phones ringing, when the service is killed.
        callers = [
            asyncio.create_task(
                run_sipp(
                    "caller.xml",
                    source=TRUNK_ADDRESSES["telkomsel"],
                    keys={"caller": n, "caller_name": "Waiting"},
                    hold_ms=4000,
                    timeout_s=60,
                )
            )
            for n in numbers[:3]
        ]
        # Killed once the service has taken all three in (they are in the queue, phones ringing for 2 s).
        await wait_until(lambda: _queued_calls(clean_database, numbers[:3]), timeout=10, interval=0.05)
        service.send_signal(signal.SIGKILL)
        await service.wait()
        # With the service dead, one more caller: the fail-safe path.
        callers.append(
            asyncio.create_task(
                run_sipp(
                    "caller.xml",
                    source=TRUNK_ADDRESSES["xl"],
                    keys={"caller": numbers[3], "caller_name": "Down"},
                    hold_ms=4000,
                    timeout_s=60,
                )
            )
        )
        results = await asyncio.gather(*callers)
    assert all(result.succeeded for result in results), [r.output for r in results]

    # The restart: in this process (a second interpreter start-up would only add its imports), on the same spool.
    restarted = Service(service_settings(clean_database, tmp_path / "spool", reconcile_interval=5))
    await restarted.start()
    try:
        await wait_until(lambda: restarted.ari.connected and restarted.ami.connected)
        e164s = ["+62" + n[1:] for n in numbers]

        async def all_recorded() -> bool:
            async with restarted.database.session() as session:
                calls = (await session.scalars(select(Call).where(Call.caller_number.in_(e164s)))).all()
            return len(calls) == 4 and all(c.ended_at is not None and c.operator in operators for c in calls)

        await wait_until(all_recorded, timeout=30)
        async with restarted.database.session() as session:
            calls = {
                c.caller_number: c
                for c in (await session.scalars(select(Call).where(Call.caller_number.in_(e164s)))).all()
            }
        assert calls[e164s[3]].handled_by == "failsafe"
        for e164 in e164s:
            types = [e.type for e in await timeline(restarted, calls[e164].id)]
            assert types[0] == "offered", types
            assert_ended_last(types)
        # Calls that were already with the service before the kill keep their intake timeline.
        assert_complete_timeline([e.type for e in await timeline(restarted, calls[e164s[0]].id)])
    finally:
        for username in operators:
            await restarted.operators.remove(username)
        await restarted.stop()
