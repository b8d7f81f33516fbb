"""Calls the service never saw (it was down: the fail-safe path took them) get the operator who answered, the wait
and the abandon from Asterisk's queue log once the service is back; reconciliation is idempotent and never replaces
a fact recorded live (issue 13, item 4)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import Call
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


async def test_the_queue_log_completes_calls_taken_while_the_service_was_down(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    # The operator's phone rings 2 s before it answers: the first caller is answered, the second hangs up after 1 s
    # of waiting (while the phone rings for the first).
    phone = SippAgent("operator.xml", "127.0.0.31", hold_ms=2000)
    setup = await started(Service(service_settings(clean_database, tmp_path / "setup-spool")))
    await empty_queue(setup)
    await setup.operators.add(NewOperator(username="op1", name="Operator", contact=phone.contact))
    await setup.operators.login("op1")
    await setup.stop()

    answered_number, abandoned_number = unique_mobile_number(), unique_mobile_number()
    async with running(phone):
        answered = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["telkomsel"],
                keys={"caller": answered_number, "caller_name": "Answered"},
                hold_ms=5000,
                timeout_s=30,
            )
        )
        await asyncio.sleep(0.5)
        abandoned = await run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": abandoned_number, "caller_name": "Gone"},
            hold_ms=1000,
            timeout_s=30,
        )
        results = [await answered, abandoned]
    assert all(result.succeeded for result in results), [r.output for r in results]

    service = await started(Service(service_settings(clean_database, tmp_path / "spool", reconcile_interval=3600)))
    try:
        answered_e164, abandoned_e164 = "+62" + answered_number[1:], "+62" + abandoned_number[1:]

        async def reconciled() -> bool:
            await service.reconciler.run_once()
            await service.journal.flushed()
            rows = [*await calls_from(service, answered_e164), *await calls_from(service, abandoned_e164)]
            return len(rows) == 2 and all(row.ended_at is not None for row in rows)

        # The CDRs are written as the calls end; the queue log as the queue events happen.
        await wait_until(reconciled, timeout=15, interval=0.3)
        row = (await calls_from(service, answered_e164))[0]
        assert (row.handled_by, row.operator) == ("failsafe", "op1")
        assert row.queue_joined_at is not None and row.operator_answered_at is not None
        assert row.queue_joined_at <= row.operator_answered_at <= row.ended_at  # type: ignore[operator]
        assert row.wait_seconds is not None and row.talk_seconds is not None
        assert row.abandoned_at is None and row.callback_status is None
        events = await timeline(service, row.id)
        types = [e.type for e in events]
        # Runs at start and asked for here did not fill the same gaps twice.
        assert types.count("offered") == types.count("operator_answered") == types.count("reconciled") == 1, types
        answer = next(e for e in events if e.type == "operator_answered")
        assert answer.data["source"] == "queue_log" and answer.data["operator"] == "op1"
        marked = next(e for e in events if e.type == "reconciled")
        assert {"operator", "operator_answered_at", "wait_seconds", "talk_seconds"} <= set(
            marked.data["sources"]["queue_log"]
        )
        assert "caller_number" in marked.data["sources"]["asterisk_cdr"]

        gone = (await calls_from(service, abandoned_e164))[0]
        assert gone.abandoned_at is not None and gone.operator is None and gone.wait_seconds is not None
        assert (gone.callback_status, gone.callback_reason) == ("pending", "abandoned")
        assert gone.id in {item.id for item in await service.callbacks.list()}
        abandon = next(e for e in await timeline(service, gone.id) if e.type == "abandoned")
        assert abandon.data["source"] == "queue_log"

        # Idempotent: the same run again changes nothing.
        assert await service.reconciler.run_once() == 0
    finally:
        await service.stop()

    # What the service recorded live is never replaced: a live wait (not whole seconds, as the queue log's are) and
    # a field lost with the journal (talk time) on the answered call; a service started afresh reads the whole queue
    # log again and fills only the lost field.
    engine = create_async_engine(clean_database)
    async with engine.begin() as connection:
        await connection.execute(
            update(Call).where(Call.id == row.id).values(wait_seconds=1.25, talk_seconds=None, operator="op1")
        )
    await engine.dispose()
    again = await started(Service(service_settings(clean_database, tmp_path / "spool", reconcile_interval=3600)))
    try:
        await wait_until(lambda: again.reconciler.runs >= 1)
        await again.reconciler.run_once()
        await again.journal.flushed()
        refilled = (await calls_from(again, answered_e164))[0]
        assert (refilled.wait_seconds, refilled.talk_seconds) == (1.25, row.talk_seconds)
        assert await again.reconciler.run_once() == 0
        types = [e.type for e in await timeline(again, row.id)]
        assert types.count("operator_answered") == 1 and types.count("reconciled") == 2, types
    finally:
        await again.stop()
