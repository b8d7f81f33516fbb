"""A 112 call from a trunk, end to end: SIPp -> PJSIP trunk -> dialplan -> Stasis -> service -> PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from ntpd112.app import Service
from ntpd112.clock import call_id_for
from ntpd112.devtools.local_asterisk import LocalAsterisk
from tests.integration.conftest import (
    assert_complete_timeline,
    calls_from,
    room_global,
    service_settings,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp

# The fail-safe tests shorten the intake deadline (room.toml: 5 s) to the least room.toml allows, so the callers
# that must outlive it hold for seconds less; the dialplan runs the same steps whatever its value.
SHORT_INTAKE_DEADLINE = 2
OUTLIVES_THE_DEADLINE_MS = 3500  # 1.5 s past it: a cut at the deadline (a TIMEOUT left set) still shows


async def test_112_call_is_answered_queued_and_recorded_with_its_timeline(service: Service) -> None:
    number = unique_mobile_number()
    e164 = "+62" + number[1:]

    result = await run_sipp(
        "caller.xml",
        source=TRUNK_ADDRESSES["indosat"],
        keys={"caller": number, "caller_name": "Siti Aminah"},
        hold_ms=1500,
    )

    assert result.succeeded, result.output
    await wait_until(lambda: len(service.calls.active) == 0)
    await service.journal.flushed()
    [call] = await calls_from(service, e164)
    assert call.trunk == "indosat"
    assert call.carrier == "Indosat Ooredoo Hutchison"
    assert call.dialed_number == "112"
    assert call.caller_number_raw == number
    assert call.caller_name == "Siti Aminah"
    assert call.caller_presentation == "allowed"
    assert call.handled_by == "service"
    assert call.linkedid == call.uniqueid
    assert call.id == call_id_for(call.uniqueid)
    assert call.offered_at is not None and call.answered_at is not None and call.ended_at is not None
    assert call.offered_at <= call.answered_at < call.ended_at
    # The caller held for 1.5 s after the answer, then sent BYE: Normal Clearing.
    assert 1.0 < (call.ended_at - call.answered_at).total_seconds() < 10
    assert call.hangup_cause == 16
    events = await timeline(service, call.id)
    assert_complete_timeline([event.type for event in events])
    assert events[0].data["identity"]["source"] == "pai"
    assert "P-Asserted-Identity" in events[0].data["headers"]
    assert events[2].data["priority"] == 10  # no history, no flag: the base priority
    assert events[3].data["intake_ms"] > 0
    assert 0 < events[3].data["continue_ms"] <= events[3].data["intake_ms"]
    assert events[-1].data["cause"] == 16


async def test_each_trunk_is_recognised_by_its_source_address(service: Service) -> None:
    numbers = {trunk: unique_mobile_number() for trunk in TRUNK_ADDRESSES}
    results = await asyncio.gather(
        *(
            run_sipp("caller.xml", source=TRUNK_ADDRESSES[trunk], keys={"caller": n, "caller_name": trunk})
            for trunk, n in numbers.items()
        )
    )
    assert all(r.succeeded for r in results), [r.output for r in results]
    await wait_until(lambda: len(service.calls.active) == 0)
    await service.journal.flushed()
    for trunk, number in numbers.items():
        [call] = await calls_from(service, "+62" + number[1:])
        assert call.trunk == trunk


async def test_a_trunk_cannot_call_any_other_number(service: Service) -> None:
    # Toll fraud attempts: an international number, a local number, an agency number. All refused with 403.
    for dialed in ("0018005551234", "0215551234", "110"):
        result = await run_sipp(
            "caller-refused.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            service=dialed,
            keys={"caller": unique_mobile_number()},
        )
        assert result.succeeded, (dialed, result.output)
    await service.journal.flushed()
    assert service.metrics.registry.get_sample_value("ntpd112_calls_offered_total") == 0
    assert service.calls.active == {}


async def test_unknown_source_address_cannot_call_at_all(service: Service) -> None:
    # 127.0.0.99 is no trunk: PJSIP does not identify it and the call never reaches the dialplan.
    result = await run_sipp("caller.xml", source="127.0.0.99", keys={"caller": "0812", "caller_name": "x"}, timeout_s=5)
    assert not result.succeeded
    assert service.metrics.registry.get_sample_value("ntpd112_calls_offered_total") == 0


async def test_with_the_service_down_a_112_call_is_still_answered_by_the_failsafe_path(
    local_asterisk: LocalAsterisk,
    clean_database: str,
) -> None:
    # No service runs in this test, so the Stasis app is not registered.
    async with room_global(local_asterisk, "NTPD112_INTAKE_DEADLINE", SHORT_INTAKE_DEADLINE):
        sipp = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["xl"],
                keys={"caller": unique_mobile_number(), "caller_name": "Fail Safe"},
                # Longer than the intake deadline: the waiting call must outlive it.
                hold_ms=OUTLIVES_THE_DEADLINE_MS,
            )
        )

        async def channel_waits_in_queue_context() -> bool:
            output = await asyncio.to_thread(local_asterisk.cli, "core show channels concise")
            return any("!ntpd112-queue!" in line and "trunk-xl" in line for line in output.splitlines())

        await wait_until(channel_waits_in_queue_context, timeout=10)
        result = await sipp
    # The caller got 200 OK, answered without the service, and was not cut off before hanging up itself.
    assert result.succeeded, result.output
    log = (local_asterisk.root / "var/log/asterisk/messages.log").read_text(errors="replace")
    assert "fail-safe path for" in log


async def test_service_reconnects_after_asterisk_restarts_and_handles_the_next_call(
    service: Service,
    local_asterisk: LocalAsterisk,
) -> None:
    await asyncio.to_thread(local_asterisk.stop)
    await wait_until(lambda: not service.ari.connected and not service.ami.connected, timeout=20)
    health = await service.health()
    assert health["ari"]["ok"] is False and health["ami"]["ok"] is False

    await asyncio.to_thread(local_asterisk.start)
    await wait_until(lambda: service.ari.connected and service.ami.connected, timeout=30)
    assert service.ari.reconnects >= 1
    assert service.ami.reconnects >= 1

    number = unique_mobile_number()
    result = await run_sipp(
        "caller.xml",
        source=TRUNK_ADDRESSES["smartfren"],
        keys={"caller": number, "caller_name": "After Restart"},
    )
    assert result.succeeded, result.output
    await wait_until(lambda: len(service.calls.active) == 0)
    await service.journal.flushed()
    [call] = await calls_from(service, "+62" + number[1:])
    assert call.answered_at is not None and call.ended_at is not None

    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{service.settings.http_port}/metrics") as response,
    ):
        metrics = await response.text()
    assert "ntpd112_ari_reconnects_total" in metrics


async def test_a_service_that_dies_during_intake_does_not_strand_the_call(
    local_asterisk: LocalAsterisk, clean_database: str
) -> None:
    # Stand in for a service that registers the Stasis app, receives the call and dies before finishing intake:
    # Asterisk keeps the call in the dead app until the dialplan's intake deadline hands it to the fail-safe path.
    settings = service_settings(clean_database, Path("/tmp/unused-spool"))
    auth = {"Authorization": aiohttp.encode_basic_auth(settings.ari_username, settings.ari_password.get_secret_value())}
    async with (
        room_global(local_asterisk, "NTPD112_INTAKE_DEADLINE", SHORT_INTAKE_DEADLINE),
        aiohttp.ClientSession(headers=auth) as http,
    ):
        websocket = await http.ws_connect(
            settings.ari_base_url.replace("http", "ws", 1) + "/events", params={"app": settings.ari_app}
        )
        caller = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["smartfren"],
                keys={"caller": unique_mobile_number(), "caller_name": "Stranded"},
                # Well past the deadline that rescued it: the rescued call must not be cut off by it later.
                hold_ms=OUTLIVES_THE_DEADLINE_MS,
                timeout_s=30,
            )
        )
        async for message in websocket:
            if '"StasisStart"' in message.data:
                break
        await websocket.close()  # the service is gone, mid-intake
        result = await caller
    assert result.succeeded, result.output  # answered (200 OK) by the dialplan alone
    log = (local_asterisk.root / "var/log/asterisk/messages.log").read_text(errors="replace")
    assert "intake did not finish in time, fail-safe path" in log
