"""A call whose records never reached PostgreSQL (the service was killed before its journal wrote) while the caller
waits in the queue: the restarted service records who is calling from the channel itself, and reconciliation fills
the rest from Asterisk's CDR once the call ends, without replacing what was recorded live (issue 13)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import Call, CallEvent
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import (
    calls_from,
    empty_queue,
    service_settings,
    started,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


async def test_a_call_whose_records_were_lost_gets_its_caller_back_after_the_restart(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    number = unique_mobile_number()
    e164 = "+62" + number[1:]
    # The operator's phone rings 4 s before it answers: the call waits in the queue across the restart.
    phone = SippAgent("operator.xml", "127.0.0.31", hold_ms=4000)
    first = await started(Service(service_settings(clean_database, tmp_path / "first-spool")))
    running_services = [first]
    try:
        await empty_queue(first)
        await first.operators.add(NewOperator(username="op1", name="Operator", contact=phone.contact))
        await first.operators.login("op1")
        async with running(phone):
            caller = asyncio.create_task(
                run_sipp(
                    "caller.xml",
                    source=TRUNK_ADDRESSES["telkomsel"],
                    keys={"caller": number, "caller_name": "Lost"},
                    hold_ms=7000,  # the operator answers 4 s after the queue rings them, then talks 3 s
                    timeout_s=30,
                )
            )

            async def queued() -> bool:
                rows = await calls_from(first, e164)
                return bool(rows) and "queued" in [e.type for e in await timeline(first, rows[0].id)]

            await wait_until(queued, timeout=10, interval=0.05)
            lost = (await calls_from(first, e164))[0].id
            running_services.remove(first)
            await first.stop()
            # What a SIGKILL before the journal's write leaves: no row, no timeline.
            engine = create_async_engine(clean_database)
            async with engine.begin() as connection:
                await connection.execute(delete(CallEvent).where(CallEvent.call_id == lost))
                await connection.execute(delete(Call).where(Call.id == lost))
            await engine.dispose()

            # Reconciliation runs when the test says (the first run at start sees the call still active).
            second = await started(
                Service(service_settings(clean_database, tmp_path / "second-spool", reconcile_interval=3600))
            )
            running_services.append(second)

            async def resumed() -> bool:
                await second.journal.flushed()
                rows = await calls_from(second, e164)
                return bool(rows) and "tracking_resumed" in [e.type for e in await timeline(second, rows[0].id)]

            await wait_until(resumed, timeout=10)
            row = (await calls_from(second, e164))[0]
            # Recovered from the channel while the caller still waits: the number, the trunk, the offer time.
            assert (row.caller_number, row.caller_number_raw, row.trunk) == (e164, number, "telkomsel")
            assert row.carrier == "Telkomsel"
            assert row.offered_at is not None and row.ended_at is None
            resumed_event = next(e for e in await timeline(second, row.id) if e.type == "tracking_resumed")
            assert resumed_event.data["source"] == "asterisk_channel"
            assert {"caller_number", "trunk", "offered_at"} <= set(resumed_event.data["recovered"])

            result = await caller
        assert result.succeeded, result.output

        async def ended() -> bool:
            await second.journal.flushed()
            return (await calls_from(second, e164))[0].ended_at is not None

        await wait_until(ended, timeout=10)
        # The CDR is written as the call ends; wait until reconciliation has it.
        await wait_until(lambda: second.reconciler.run_once(), timeout=10, interval=0.2)
        await second.journal.flushed()
        row = (await calls_from(second, e164))[0]
        # Filled from the CDR: what the channel could not say; the live end was kept, not replaced.
        assert (row.handled_by, row.dialed_number, row.operator) == ("service", "112", "op1")
        assert row.answered_at is not None and row.ended_at is not None and row.answered_at <= row.ended_at
        events = await timeline(second, row.id)
        types = [e.type for e in events]
        assert types.count("offered") == 1 and types.count("ended") == 1, types
        assert next(e for e in events if e.type == "offered").data == {"source": "asterisk_cdr"}
        reconciled = next(e for e in events if e.type == "reconciled")
        assert "ended_at" not in reconciled.data["fields"] and "handled_by" in reconciled.data["fields"]
        assert await second.reconciler.run_once() == 0  # idempotent: a second run changes nothing
    finally:
        for running_service in running_services:
            await running_service.stop()
