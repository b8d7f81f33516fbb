"""A real softphone (baresip) as the operator: registers with the credentials ntpd112 generated, is rung by the
queue, answers, and the call record names the operator."""

from __future__ import annotations

from pathlib import Path

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from tests.integration.conftest import (
    calls_from,
    empty_queue,
    recorded_seconds,
    timeline,
    unique_mobile_number,
    wait_until,
)
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.softphone import registered_operator_phone


async def test_baresip_operator_registers_answers_a_112_call_and_is_recorded(
    service: Service, local_asterisk: LocalAsterisk, tmp_path: Path
) -> None:
    await empty_queue(service)
    async with registered_operator_phone(service, tmp_path / "baresip", "op7", "Dewi", "127.0.0.37") as phone:
        try:
            await service.operators.login("op7")

            number = unique_mobile_number()
            result = await run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["telkomsel"],
                keys={"caller": number, "caller_name": "Caller"},
                hold_ms=4000,
                timeout_s=30,
            )
            assert result.succeeded, result.output
            await wait_until(lambda: not service.calls.active)
            await service.journal.flushed()
        finally:
            await service.operators.remove("op7")

    [call] = await calls_from(service, "+62" + number[1:])
    assert call.operator == "op7"
    assert call.talk_seconds is not None and call.talk_seconds > 1
    assert "operator_answered" in [e.type for e in await timeline(service, call.id)]
    assert "Call established" in phone.log
    # The softphone's tone went through the bridge into the call's recording: at least a second of audio.
    await recorded_seconds(local_asterisk, call, at_least=1)
