"""A caller whose phone dies without a BYE is released by the trunks' media timeout, the record says why and the
caller is on the callback list; a silent caller whose phone still sends audio keeps the call (issue 13, item 2)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from tests.integration.conftest import (
    SHORT_MEDIA_TIMEOUT,
    calls_from,
    empty_queue,
    service_settings,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


async def test_a_vanished_caller_is_released_and_called_back_and_a_silent_one_is_not(
    short_media_timeout: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    service = Service(service_settings(clean_database, tmp_path / "spool"))
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        # Nobody logged in: both callers go round the overflow loop, where a dead line used to stay forever.
        await empty_queue(service)
        vanished_number, silent_number = unique_mobile_number(), unique_mobile_number()
        vanished, silent = await asyncio.gather(
            run_sipp(
                "caller-vanishes.xml",
                source=TRUNK_ADDRESSES["telkomsel"],
                keys={"caller": vanished_number, "caller_name": "Vanished"},
                timeout_s=30,
            ),
            # Silent but alive: three times the timeout, then the caller hangs up (a BYE from the network first
            # would fail the scenario).
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["xl"],
                keys={"caller": silent_number, "caller_name": "Silent"},
                hold_ms=3 * SHORT_MEDIA_TIMEOUT * 1000,
                timeout_s=30,
            ),
        )
        assert vanished.succeeded, vanished.output  # Asterisk sent the BYE
        assert silent.succeeded, silent.output  # the caller did

        async def both_ended() -> bool:
            await service.journal.flushed()
            rows = [
                *await calls_from(service, "+62" + vanished_number[1:]),
                *await calls_from(service, "+62" + silent_number[1:]),
            ]
            return len(rows) == 2 and all(row.ended_at is not None for row in rows)

        await wait_until(both_ended, timeout=10)
        gone = (await calls_from(service, "+62" + vanished_number[1:]))[0]
        assert (gone.callback_status, gone.callback_reason) == ("pending", "no_media")
        assert gone.id in {item.id for item in await service.callbacks.list()}
        events = await timeline(service, gone.id)
        assert [e.type for e in events].count("caller_media_lost") == 1, [e.type for e in events]

        kept = (await calls_from(service, "+62" + silent_number[1:]))[0]
        assert (kept.hangup_cause, kept.callback_status) == (16, None)
        assert "caller_media_lost" not in [e.type for e in await timeline(service, kept.id)]
    finally:
        await service.stop()


async def test_a_dead_line_released_while_the_service_was_down_is_reconciled_onto_the_callback_list(
    short_media_timeout: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    settings = service_settings(clean_database, tmp_path / "spool")
    service = Service(settings)
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        await empty_queue(service)  # nobody to answer: both callers wait in the fail-safe path's loop
    finally:
        await service.stop()
    # The service is down: both calls take the dialplan's fail-safe path; only the CDRs record them.
    vanished_number, hung_up_number = unique_mobile_number(), unique_mobile_number()
    vanished, hung_up = await asyncio.gather(
        run_sipp(
            "caller-vanishes.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": vanished_number, "caller_name": "Vanished"},
            timeout_s=30,
        ),
        run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["xl"],
            keys={"caller": hung_up_number, "caller_name": "HungUp"},
            hold_ms=2 * SHORT_MEDIA_TIMEOUT * 1000,
            timeout_s=30,
        ),
    )
    assert vanished.succeeded, vanished.output  # Asterisk's media timeout sent the BYE
    assert hung_up.succeeded, hung_up.output  # the caller hung up, as callers do

    service = Service(settings)
    await service.start()  # reconciles at start
    try:

        async def both_reconciled() -> bool:
            await service.journal.flushed()
            rows = [
                *await calls_from(service, "+62" + vanished_number[1:]),
                *await calls_from(service, "+62" + hung_up_number[1:]),
            ]
            return len(rows) == 2 and all(row.ended_at is not None for row in rows)

        await wait_until(both_reconciled, timeout=20)
        gone = (await calls_from(service, "+62" + vanished_number[1:]))[0]
        assert (gone.callback_status, gone.handled_by) == ("pending", "failsafe"), gone.callback_reason
        assert gone.callback_reason == "no_media", gone.callback_reason
        assert gone.id in {item.id for item in await service.callbacks.list()}
        events = await timeline(service, gone.id)
        lost = [e for e in events if e.type == "caller_media_lost"]
        assert len(lost) == 1 and lost[0].data["source"] == "asterisk_cdr", [(e.type, e.data) for e in events]
        reconciled = next(e for e in events if e.type == "reconciled")
        assert "callback_status" in reconciled.data["sources"]["asterisk_cdr"], reconciled.data

        kept = (await calls_from(service, "+62" + hung_up_number[1:]))[0]
        assert kept.callback_status is None, kept.callback_reason

        # Idempotent: another round changes nothing.
        before = len(await timeline(service, gone.id))
        await service.reconciler.run_once()
        await service.journal.flushed()
        assert len(await timeline(service, gone.id)) == before
    finally:
        await service.stop()
