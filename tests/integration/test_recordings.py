"""Call recordings over the API: a baresip operator answers a SIPp 112 call, Asterisk's MixMonitor records it, and
the service streams the WAV with range requests to operators and supervisors (never agencies), auditing each
playback. Paths from the call row never leave the recordings directory."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.store.audit import AuditQuery, AuditView
from ntpd112.store.models import Call
from ntpd112.web.call_routes import RECORDING_ACTION
from tests.integration.conftest import (
    agency_token,
    calls_from,
    empty_queue,
    recorded_seconds,
    unique_mobile_number,
    user_token,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.softphone import registered_operator_phone

pytestmark = pytest.mark.integration


def recording_url(call_id: uuid.UUID) -> str:
    return f"/api/calls/{call_id}/recording"


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} | headers


async def playbacks(service: Service) -> list[AuditView]:
    return list(reversed(await service.accounts.audit.query(AuditQuery(action=RECORDING_ACTION))))


async def recorded_call(service: Service, local_asterisk: LocalAsterisk, tmp_path: Path) -> tuple[uuid.UUID, bytes]:
    """A 112 call answered by a real softphone, ended, with its recording on disk: the call's id and the WAV."""
    await empty_queue(service)
    async with registered_operator_phone(service, tmp_path / "baresip", "op9", "Sari", "127.0.0.39"):
        try:
            await service.operators.login("op9")
            number = unique_mobile_number()
            result = await run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["telkomsel"],
                keys={"caller": number, "caller_name": "Caller"},
                hold_ms=2500,
                timeout_s=30,
            )
            assert result.succeeded, result.output
            await wait_until(lambda: not service.calls.active)
            await service.journal.flushed()
        finally:
            await service.operators.remove("op9")
    [call] = await calls_from(service, "+62" + number[1:])
    assert call.recording_path is not None and call.ended_at is not None
    # Half a second of audio at least: the phone's tone went into the recording.
    await recorded_seconds(local_asterisk, call, at_least=0.5)
    return call.id, (local_asterisk.root / "var/spool/asterisk/monitor" / call.recording_path).read_bytes()


async def test_operators_and_supervisors_play_a_recording_with_ranges_and_each_playback_is_audited(
    service: Service, local_asterisk: LocalAsterisk, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    call_id, wav = await recorded_call(service, local_asterisk, tmp_path)
    operator = await user_token(service, "op-listener", "operator")
    supervisor = await user_token(service, "spv-listener", "supervisor")
    url = recording_url(call_id)

    async with http.get(url, headers=bearer(operator)) as response:
        assert response.status == 200
        assert await response.read() == wav
        assert response.headers["Content-Type"] == "audio/wav"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert int(response.headers["Content-Length"]) == len(wav)
    assert wav.startswith(b"RIFF") and wav[8:12] == b"WAVE"

    # A player's first request (from byte 0) and a later seek: both 206 with the right bytes; only the first audited.
    async with http.get(url, headers=bearer(supervisor, Range="bytes=0-")) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-{len(wav) - 1}/{len(wav)}"
        assert await response.read() == wav
    async with http.get(url, headers=bearer(supervisor, Range="bytes=100-199")) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 100-199/{len(wav)}"
        assert response.headers["Content-Length"] == "100"
        assert await response.read() == wav[100:200]

    async with http.get(url, headers=bearer(operator, Range=f"bytes={len(wav)}-")) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{len(wav)}"
        assert (await response.json())["error"]["id"] == "range_not_satisfiable"

    async with http.get(url, headers=bearer(await agency_token(service, "damkar-desk", "damkar"))) as response:
        assert response.status == 403
        assert b"RIFF" not in await response.read()

    # Two playbacks: the seek and the range past the end (not from byte 0) belong to a playback already begun.
    entries = await playbacks(service)
    assert [(e.username, e.status, e.outcome) for e in entries] == [
        ("op-listener", 200, "ok"),
        ("spv-listener", 206, "ok"),
    ]
    assert {e.target for e in entries} == {url}


async def stored_call(service: Service, recording_path: str | None, *, ended: bool = True) -> uuid.UUID:
    call_id = service.journal.record_call(f"test-{uuid.uuid4()}", trunk="telkomsel", offered_at=utcnow())
    await service.journal.flushed()
    async with service.database.session() as session, session.begin():
        await session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(recording_path=recording_path, ended_at=utcnow() if ended else None)
        )
    return call_id


async def test_a_recording_is_refused_unless_the_row_names_a_finished_file_inside_the_directory(
    shared_service: Service, local_asterisk: LocalAsterisk, tmp_path: Path
) -> None:
    service = shared_service
    monitor = local_asterisk.root / "var/spool/asterisk/monitor"
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"RIFF-not-yours")
    escape = monitor / f"escape-{uuid.uuid4()}.wav"
    escape.symlink_to(outside)
    operator = await user_token(service, "op-hostile", "operator")
    hostile = [
        "../../etc/passwd",
        "/etc/passwd",
        str(outside),
        f"ntpd112/../../../../{outside}",
        escape.name,
        "ntpd112",  # a directory
        "ntpd112/19700101/none.wav",  # missing
    ]
    expected: dict[uuid.UUID, tuple[int, str]] = {
        await stored_call(service, path): (404, "recording_not_found") for path in hostile
    }
    expected[await stored_call(service, None)] = (404, "recording_not_found")
    expected[await stored_call(service, "ntpd112/19700101/live.wav", ended=False)] = (409, "recording_in_progress")
    expected[uuid.uuid4()] = (404, "call_not_found")
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{service.settings.http_port}") as http:
            for call_id, (status, error_id) in expected.items():
                async with http.get(recording_url(call_id), headers=bearer(operator)) as response:
                    body = await response.read()
                    assert (response.status, (await response.json())["error"]["id"]) == (status, error_id), call_id
                    assert b"RIFF" not in body and b"root:" not in body
    finally:
        escape.unlink()
    # Refused playbacks are audited too.
    entries = await playbacks(service)
    assert sorted((e.target, e.status, e.outcome) for e in entries) == sorted(
        (recording_url(call_id), status, error_id) for call_id, (status, error_id) in expected.items()
    )
