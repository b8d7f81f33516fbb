"""Per-trunk calling-number formats end to end: SIPp callers on trunks that present numbers differently -> Asterisk
-> the service -> PostgreSQL, and callbacks that go out through the trunk with the number in its format.

Telkomsel is configured here to send international numbers without `+`, Telkom national numbers without the trunk
prefix 0, XL keeps `auto`. The numbers chosen read validly both ways, so only the trunk's format can tell them apart.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.intake.numbering import CallerNumbering, NumberFormat
from ntpd112.pbx.asterisk_config import TrunkTable, load_trunks
from ntpd112.store.models import Call
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import empty_queue, service_settings, wait_until
from tests.integration.intake_calls import intake_call, settle, stored_call
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp
from tests.integration.test_queue import add_phone

TRUNK_FORMATS: dict[str, NumberFormat] = {"telkomsel": "international", "telkom": "national_without_prefix"}
OPERATOR_PHONE = "127.0.0.33"


def trunks_with_formats() -> TrunkTable:
    """The shipped trunks (Asterisk knows them by these names and addresses) with two formats configured."""
    table = load_trunks()
    return TrunkTable(
        trunk=tuple(
            trunk.model_copy(update={"numbers": CallerNumbering(format=TRUNK_FORMATS[trunk.name])})
            if trunk.name in TRUNK_FORMATS
            else trunk
            for trunk in table.trunk
        )
    )


@pytest.fixture
async def service(local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    svc = Service(service_settings(clean_database, tmp_path / "spool"), trunks=trunks_with_formats())
    await svc.start()
    try:
        await wait_until(lambda: svc.ari.connected and svc.ami.connected)
        await empty_queue(svc)
        yield svc
    finally:
        for operator in await svc.operators.list():
            await svc.operators.remove(operator.username)
        await svc.stop()


def _digits(count: int) -> str:
    return str(random.choice("23456789")) + "".join(random.choices("0123456789", k=count - 1))


def jakarta_international() -> str:
    """A Jakarta line (021 + 7 digits) as 62215551234: also Pematangsiantar 0622 1555 1234 without the 0."""
    return "6221" + _digits(7)


def pematangsiantar_without_prefix() -> str:
    """A Pematangsiantar line (0622 + 6 digits) as 622512345: also Bandung +62 22 512345 without the +."""
    return "622" + _digits(6)


async def test_two_trunks_with_different_formats_store_the_right_number_and_auto_keeps_the_raw_one(
    service: Service,
) -> None:
    jakarta, siantar, unsettled = jakarta_international(), pematangsiantar_without_prefix(), jakarta_international()
    results = await asyncio.gather(
        intake_call(trunk="telkomsel", number=jakarta),
        intake_call(trunk="telkom", number=siantar),
        intake_call(trunk="xl", number=unsettled),
    )
    assert all(result.succeeded for result in results), [result.output for result in results]
    await settle(service)

    international = await stored_call(service, caller_number_raw=jakarta)
    assert (international.call.trunk, international.call.caller_number) == ("telkomsel", "+" + jakarta)
    without_prefix = await stored_call(service, caller_number_raw=siantar)
    assert (without_prefix.call.trunk, without_prefix.call.caller_number) == ("telkom", "+62" + siantar)
    for stored in (international, without_prefix):
        assert stored.of_type("parse_error") == []
        assert stored.call.answered_at is not None and "queued" in stored.types

    # The same kind of digits on a trunk without a format: answered and queued, the raw number kept, no guess.
    auto = await stored_call(service, caller_number_raw=unsettled)
    assert (auto.call.trunk, auto.call.caller_number, auto.call.caller_presentation) == ("xl", None, "allowed")
    assert auto.call.answered_at is not None and "queued" in auto.types
    problems = [event.data["problem"] for event in auto.of_type("parse_error")]
    assert [problem.split(": ")[:2] for problem in problems] == [
        ["pai", "ambiguous_number"],
        ["from", "ambiguous_number"],
        ["channel", "ambiguous_number"],
    ]
    assert all(f"+{unsettled} (international)" in problem for problem in problems)
    assert all(f"+62{unsettled} (national_without_prefix)" in problem for problem in problems)


@pytest.mark.parametrize(
    ("trunk", "dialed"),
    [("telkomsel", jakarta_international()), ("telkom", pematangsiantar_without_prefix())],
    ids=TRUNK_FORMATS.values(),
)
async def test_a_callback_dials_the_caller_in_the_trunks_format(
    service: Service, tmp_path: Path, trunk: str, dialed: str
) -> None:
    # The caller is presented in E.164 (a `+` is read on every trunk), so only a number rendered into the trunk's
    # format, not the raw one, makes the expected request line.
    e164 = "+" + dialed if trunk == "telkomsel" else "+62" + dialed
    result = await run_sipp(
        "caller.xml", source=TRUNK_ADDRESSES[trunk], keys={"caller": e164, "caller_name": "C"}, hold_ms=500
    )
    assert result.succeeded, result.output
    await settle(service)
    async with service.database.session() as session:
        call = (await session.scalars(select(Call).where(Call.caller_number == e164))).one()
    assert call.caller_number_raw == e164
    await service.callbacks.request(call.id, "operator", "test")

    operator = SippAgent("operator.xml", OPERATOR_PHONE)
    messages = tmp_path / "citizen-messages.log"
    citizen = SippAgent(
        "phone-answers-then-hangs-up.xml",
        TRUNK_ADDRESSES[trunk],
        hold_ms=500,
        options=["-trace_msg", "-message_file", str(messages)],
    )
    async with running(operator, citizen):
        await add_phone(service, "op1", operator)
        await service.callbacks.take(call.id, "op1")

        async def finished() -> bool:
            async with service.database.session() as session:
                status = await session.scalar(select(Call.callback_status).where(Call.id == call.id))
            return status == "done"

        await wait_until(finished, timeout=30)

    [request_line] = [line for line in messages.read_text().splitlines() if line.startswith("INVITE ")]
    assert request_line.startswith(f"INVITE sip:{dialed}@{TRUNK_ADDRESSES[trunk]}:5070"), request_line
