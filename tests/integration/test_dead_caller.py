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
    empty_queue_and_stop_the_service,
    service_settings,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


async def a_dead_and_a_live_caller(live_name: str, live_hold_ms: int) -> tuple[str, str]:
    """Two 112 callers at once: one whose phone dies without a BYE (from Telkomsel), one whose phone keeps sending
    audio for `live_hold_ms` and then hangs up (from XL). Their local numbers, once both scenarios succeeded."""
    dead_number, live_number = unique_mobile_number(), unique_mobile_number()
    dead, live = await asyncio.gather(
        run_sipp(
            "caller-vanishes.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": dead_number, "caller_name": "Vanished"},
            timeout_s=30,
        ),
        run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["xl"],
            keys={"caller": live_number, "caller_name": live_name},
            hold_ms=live_hold_ms,
            timeout_s=30,
        ),
    )
    assert dead.succeeded, dead.output  # Asterisk's media timeout sent the BYE
    assert live.succeeded, live.output  # the caller hung up (a BYE from the network first would fail the scenario)
    return dead_number, live_number


async def both_ended(service: Service, numbers: tuple[str, str], timeout: float) -> None:
    """Wait until each of the two local numbers has one call record, ended."""

    async def ended() -> bool:
        await service.journal.flushed()
        rows = [row for number in numbers for row in await calls_from(service, "+62" + number[1:])]
        return len(rows) == 2 and all(row.ended_at is not None for row in rows)

    await wait_until(ended, timeout=timeout)


async def test_a_vanished_caller_is_released_and_called_back_and_a_silent_one_is_not(
    short_media_timeout: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    service = Service(service_settings(clean_database, tmp_path / "spool"))
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        # Nobody logged in: both callers go round the overflow loop, where a dead line used to stay forever.
        await empty_queue(service)
        # Silent but alive: three times the timeout, then the caller hangs up.
        vanished_number, silent_number = await a_dead_and_a_live_caller("Silent", 3 * SHORT_MEDIA_TIMEOUT * 1000)
        await both_ended(service, (vanished_number, silent_number), timeout=10)
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
    await empty_queue_and_stop_the_service(settings)  # nobody to answer: the callers wait in the fail-safe path
    # The service is down: both calls take the dialplan's fail-safe path; only the CDRs record them.
    vanished_number, hung_up_number = await a_dead_and_a_live_caller("HungUp", 2 * SHORT_MEDIA_TIMEOUT * 1000)

    service = Service(settings)
    await service.start()  # reconciles at start
    try:
        await both_ended(service, (vanished_number, hung_up_number), timeout=20)
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
