"""Intake test calls: SIPp callers with chosen headers (caller-intake.xml) or a PIDF-LO body (caller-pidf.xml),
and reading back what intake stored for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.store.models import Call, CallEvent, LocationFixRow
from tests.integration.conftest import timeline, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, SippResult, run_sipp

PAD = "X-Pad: -"  # an unused header slot of the scenarios


async def intake_call(
    *,
    trunk: str = "telkomsel",
    number: str | None = None,
    from_: str | None = None,
    headers: tuple[str, ...] = (),
    pidf: str | None = None,
    hold_ms: int = 1000,
) -> SippResult:
    """One call; `headers` are whole header lines (at most 4). PAI carries `number` unless `headers` has one."""
    if number is not None and not any(h.lower().startswith("p-asserted-identity") for h in headers):
        headers = (f"P-Asserted-Identity: <sip:{number}@operator.test;user=phone>", *headers)
    assert len(headers) <= 4
    slots = [*headers, *[PAD] * (4 - len(headers))]
    keys = {"from": from_ or f"<sip:{number or 'unknown'}@operator.test;user=phone>"}
    keys |= {f"h{index}": header for index, header in enumerate(slots, 1)}
    scenario = "caller-intake.xml"
    if pidf is not None:
        keys["pidf"] = pidf
        scenario = "caller-pidf.xml"
    return await run_sipp(scenario, source=TRUNK_ADDRESSES[trunk], keys=keys, hold_ms=hold_ms)


@dataclass
class Stored:
    call: Call
    fixes: list[LocationFixRow]
    events: list[CallEvent]

    def of_type(self, event_type: str) -> list[CallEvent]:
        return [event for event in self.events if event.type == event_type]

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    @property
    def priority_decision(self) -> dict[str, object]:
        """What intake decided the priority from: `prioritised`, or `priority_reviewed` when the lookups came after
        the call joined the queue (on a busy machine; calls/handler.py LOOKUP_HEAD_START_SECONDS)."""
        decisions = self.of_type("prioritised") + self.of_type("priority_reviewed")
        return decisions[-1].data


async def settle(service: Service) -> None:
    await wait_until(lambda: len(service.calls.active) == 0)
    await service.journal.flushed()


async def stored_call(service: Service, **where: object) -> Stored:
    async with service.database.session() as session:
        found = (await session.scalars(select(Call).filter_by(**where))).all()
        if len(found) != 1:  # say what is there: a flaky miss (seen once in CI) needs the rows to be understood
            stored = (await session.scalars(select(Call))).all()
            rows = [(c.uniqueid, c.trunk, c.caller_number, c.caller_number_raw, c.ended_at) for c in stored]
            raise AssertionError(f"{len(found)} calls where {where}; stored: {rows}")
        call = found[0]
        fixes = await fixes_of(service, call.id)
    return Stored(call, fixes, await timeline(service, call.id))


async def fixes_of(service: Service, call_id: uuid.UUID | None) -> list[LocationFixRow]:
    async with service.database.session() as session:
        statement = select(LocationFixRow).where(LocationFixRow.call_id == call_id).order_by(LocationFixRow.received_at)
        return list((await session.scalars(statement)).all())


def e164(number: str) -> str:
    return "+62" + number[1:]
