"""Faults the service must survive without losing a call or a record."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ntpd112.app import Service
from ntpd112.devtools.loadtest.faults import restart_asterisk
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.devtools.tcp_proxy import TcpProxy
from tests.integration.conftest import (
    assert_complete_timeline,
    calls_from,
    empty_queue,
    empty_queue_and_stop_the_service,
    service_settings,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


def _via_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
    return urlunsplit(parts._replace(netloc=netloc))


async def _health(service: Service) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{service.settings.http_port}/health") as response,
    ):
        return response.status, await response.json()


async def test_database_outage_spools_records_and_writes_them_when_it_returns(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    target = urlsplit(clean_database)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.open()
    service = Service(service_settings(_via_port(clean_database, proxy.port), tmp_path / "spool"))
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected)
        await proxy.cut()

        number = unique_mobile_number()
        result = await run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["telkom"],
            keys={"caller": number, "caller_name": "During Outage"},
        )
        assert result.succeeded, result.output  # the caller was answered with the database gone
        await wait_until(lambda: not service.journal.health()["ok"])
        status, body = await _health(service)
        assert status == 503
        assert body["components"]["database"]["ok"] is False  # type: ignore[index]
        assert (tmp_path / "spool" / "journal.jsonl").exists()

        await proxy.open()  # the database is back
        await service.journal.flushed(timeout=30)
        [call] = await calls_from(service, "+62" + number[1:])
        assert call.ended_at is not None and call.hangup_cause == 16
        assert_complete_timeline([e.type for e in await timeline(service, call.id)])
        status, _ = await _health(service)
        assert status == 200
    finally:
        await service.stop()
        await proxy.cut()


async def test_service_started_with_the_database_down_keeps_records_across_its_own_restart(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    proxy = TcpProxy("127.0.0.1", urlsplit(clean_database).port or 5432)
    await proxy.open()
    await proxy.cut()  # the port is known, nothing listens: database unreachable from the start
    settings = service_settings(_via_port(clean_database, proxy.port), tmp_path / "spool")
    service = Service(settings)
    await service.start()
    number = unique_mobile_number()
    try:
        await wait_until(lambda: service.ari.connected)
        result = await run_sipp(
            "caller.xml", source=TRUNK_ADDRESSES["xl"], keys={"caller": number, "caller_name": "Restart"}
        )
        assert result.succeeded, result.output
        await wait_until(lambda: not service.calls.active)
    finally:
        await service.stop()  # records still unwritten: they must be in the spool file now
    assert (tmp_path / "spool" / "journal.jsonl").stat().st_size > 0

    await proxy.open()
    restarted = Service(settings)
    await restarted.start()
    try:
        await restarted.journal.flushed(timeout=30)
        [call] = await calls_from(restarted, "+62" + number[1:])
        assert_complete_timeline([e.type for e in await timeline(restarted, call.id)])
    finally:
        await restarted.stop()
        await proxy.cut()


async def test_asterisk_unreachable_at_start_the_service_runs_and_health_says_what_is_down(
    clean_database: str, tmp_path: Path
) -> None:
    closed_port = 9  # discard: nothing listens on loopback
    service = Service(
        service_settings(
            clean_database,
            tmp_path / "spool",
            ari_url=f"http://127.0.0.1:{closed_port}/ari",
            ami_port=closed_port,
        )
    )
    await service.start()
    try:
        await wait_until(lambda: service.ari.last_error is not None)
        status, body = await _health(service)
        components = body["components"]
        assert status == 503
        assert components["ari"]["ok"] is False and "Connect" in components["ari"]["last_error"]  # type: ignore[index]
        assert components["ami"]["ok"] is False  # type: ignore[index]
        assert components["database"]["ok"] is True  # type: ignore[index]
    finally:
        await service.stop()


async def test_an_asterisk_restart_during_an_ari_cut_puts_the_dropped_caller_on_the_callback_list(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    # The service cannot see the shutdown (its ARI connection is cut): it learns of the restart at the reconnect,
    # from Asterisk's startup time, and the call it followed is gone.
    direct = service_settings(clean_database, tmp_path / "spool")
    ari = urlsplit(direct.ari_base_url)
    proxy = TcpProxy(ari.hostname or "127.0.0.1", ari.port or 8088)
    await proxy.open()
    via_proxy = _via_port(direct.ari_base_url, proxy.port)
    service = Service(service_settings(clean_database, tmp_path / "spool", ari_url=via_proxy))
    await service.start()
    caller: asyncio.Task[object] | None = None
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        await empty_queue(service)  # nobody answers: the caller waits until the restart drops the call
        number = unique_mobile_number()
        caller = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["indosat"],
                keys={"caller": number, "caller_name": "Dropped"},
                hold_ms=20_000,
                timeout_s=40,
            )
        )
        e164 = "+62" + number[1:]

        async def waiting() -> bool:  # taken in and queued: waiting for an operator
            await service.journal.flushed()
            rows = await calls_from(service, e164)
            return bool(rows) and "queued" in [e.type for e in await timeline(service, rows[0].id)]

        await wait_until(waiting)
        await proxy.cut()
        await wait_until(lambda: not service.ari.connected)
        await asyncio.to_thread(restart_asterisk, local_asterisk, 0.5)
        await proxy.open()
        await wait_until(lambda: service.ari.connected and not service.calls.active, timeout=30)
        await service.journal.flushed()
        [call] = await calls_from(service, e164)
        assert (call.callback_status, call.callback_reason) == ("pending", "asterisk_restart")
        assert call.ended_at is not None
        events = await timeline(service, call.id)
        unobserved = [e.data for e in events if e.type == "ended_unobserved"]
        assert unobserved == [{"reason": "asterisk restarted"}], [(e.type, e.data) for e in events]
        types = [e.type for e in events]
        # Recorded live: the end, then the drop that puts the caller on the list (calls/handler._ended).
        assert (types.count("ended"), types[-2:]) == (1, ["ended", "caller_dropped"]), types
    finally:
        await service.stop()
        await proxy.cut()
        if caller is not None:
            caller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await caller


async def test_a_caller_dropped_by_an_asterisk_restart_while_the_service_was_down_is_reconciled_for_a_callback(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    settings = service_settings(clean_database, tmp_path / "spool")
    await empty_queue_and_stop_the_service(settings)  # nobody to answer: the callers wait in the fail-safe path
    # The service is down: the caller takes the fail-safe path and waits; the restart drops them.
    number = unique_mobile_number()
    caller = asyncio.create_task(
        run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["smartfren"],
            keys={"caller": number, "caller_name": "Dropped"},
            hold_ms=20_000,
            timeout_s=40,
        )
    )
    try:
        await wait_until(lambda: "trunk-smartfren" in local_asterisk.cli("core show channels concise"), timeout=10)
        await asyncio.to_thread(restart_asterisk, local_asterisk, 0.5)
    finally:
        caller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await caller

    service = Service(settings)
    await service.start()  # reconciles at start
    try:

        async def reconciled() -> bool:
            await service.journal.flushed()
            return any(row.ended_at is not None for row in await calls_from(service, "+62" + number[1:]))

        await wait_until(reconciled, timeout=20)
        [call] = await calls_from(service, "+62" + number[1:])
        events = await timeline(service, call.id)
        assert (call.callback_status, call.handled_by) == ("pending", "failsafe"), [(e.type, e.data) for e in events]
        # `core stop now` runs the hangup handler (observed on 22.10: cause 0, no hangup source): a release nobody
        # asked for, which the CDR cannot tell from another; only a crash leaves the arrival mark alone.
        assert call.callback_reason == "cut_off", [(e.type, e.data) for e in events]
        assert [e.data["source"] for e in events if e.type == "caller_dropped"] == ["asterisk_cdr"]
    finally:
        await service.stop()
