"""The journal's batch writer against PostgreSQL: a batch of records of several calls, written in one transaction,
ends where writing the records one by one in order would (calls/store/journal.write_records)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ntpd112.clock import call_id_for
from ntpd112.store.db import Database
from ntpd112.store.journal import AmlClaimRecord, CallRecord, EventRecord, FixRecord, Record, write_records
from ntpd112.store.models import Call, CallEvent, LocationFixRow

AT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def call_record(uniqueid: str, **fields: object) -> CallRecord:
    return CallRecord(call_id_for(uniqueid), uniqueid, dict(fields))


def event(uniqueid: str, event_type: str, seconds: int) -> EventRecord:
    return EventRecord(uuid.uuid4(), call_id_for(uniqueid), AT + timedelta(seconds=seconds), event_type, {})


async def write_one_batch(database: Database, records: list[Record]) -> None:
    async with database.engine.begin() as connection:
        await write_records(connection, records)


async def test_a_batch_merges_each_calls_fields_in_order_and_keeps_every_event(database: Database) -> None:
    first, second = "1795000000.1", "1795000000.2"
    batch: list[Record] = [
        call_record(first, caller_number="+6281111", offered_at=AT, queue_priority=10),
        event(first, "offered", 0),
        call_record(second, caller_number="+6282222", offered_at=AT),
        call_record(first, queue_priority=15, repeat_caller=True),  # a later field wins, the others stay
        event(second, "offered", 1),
        event(first, "prioritised", 2),
    ]
    await write_one_batch(database, batch)
    async with database.session() as session:
        assert await session.scalar(select(Call.queue_priority).where(Call.uniqueid == first)) == 15
    # The next batch: an earlier field set again, another left alone; a replayed event is stored once.
    await write_one_batch(database, [call_record(first, queue_priority=20), batch[1]])

    async with database.session() as session:
        calls = {c.uniqueid: c for c in (await session.scalars(select(Call))).all()}
        events = (await session.scalars(select(CallEvent).order_by(CallEvent.seq))).all()
    assert (calls[first].caller_number, calls[first].queue_priority, calls[first].repeat_caller) == (
        "+6281111",
        20,
        True,
    )
    assert (calls[second].caller_number, calls[second].queue_priority) == ("+6282222", None)
    assert calls[first].updated_at is not None
    assert [(e.call_id, e.type) for e in events] == [
        (call_id_for(first), "offered"),
        (call_id_for(second), "offered"),
        (call_id_for(first), "prioritised"),
    ]


async def test_a_field_given_as_none_is_cleared_and_an_unstorable_float_does_not_stop_the_batch(
    database: Database,
) -> None:
    uniqueid = "1795000000.3"
    await write_one_batch(database, [call_record(uniqueid, operator="op1", wait_seconds=2.5, talk_seconds=7.0)])
    # operator given as None is cleared; wait_seconds not given keeps its value; NaN (JSON has none) is stored
    # as NULL rather than refusing the batch; a field of a datetime type and an event with odd data round-trip.
    await write_one_batch(
        database,
        [
            call_record(uniqueid, operator=None, talk_seconds=float("nan"), ended_at=AT),
            EventRecord(uuid.uuid4(), call_id_for(uniqueid), AT, "note", {"text": "ä \" \\ ' ;--", "n": [1, 2]}),
            event(uniqueid, "ended", 0),
        ],
    )
    async with database.session() as session:
        call = (await session.scalars(select(Call).where(Call.uniqueid == uniqueid))).one()
        events = (await session.scalars(select(CallEvent).order_by(CallEvent.seq))).all()
    assert (call.operator, call.wait_seconds, call.talk_seconds, call.ended_at) == (None, 2.5, None, AT)
    # Two events at the same instant keep the order they were recorded in.
    assert [(e.type, e.data) for e in events] == [
        ("note", {"text": "ä \" \\ ' ;--", "n": [1, 2]}),
        ("ended", {}),
    ]


def _waiting_aml(number: str, minutes_before: float, lat: float | None) -> LocationFixRow:
    return LocationFixRow(
        id=uuid.uuid4(),
        source="aml",
        channel="sms",
        lat=lat,
        lon=None if lat is None else 106.8,
        radius_m=None if lat is None else 20.0,
        received_at=AT - timedelta(minutes=minutes_before),
        raw='A"ML=1',
        caller_number=number,
    )


async def test_a_batchs_fixes_and_aml_claims_end_as_one_by_one_would_and_replay_changes_nothing(
    database: Database,
) -> None:
    first, second, again = "1795000000.4", "1795000000.5", "1795000000.6"
    number, other = "+6281200000001", "+6281200000002"
    async with database.session() as session, session.begin():
        session.add_all([_waiting_aml(number, 2, -6.2), _waiting_aml(number, 1, -6.3), _waiting_aml(other, 1, None)])
    pidf = {
        "source": "pidf", "channel": "sip", "received_at": AT, "raw": "<presence/>", "caller_number": None,
        "dedup_key": None, "lat": -6.1, "lon": 106.7, "radius_m": 5000.0, "confidence": None, "method": "GPS",
        "shape": "Circle", "measured_at": None, "radio": None, "mcc": None, "mnc": None, "area_code": None,
        "cell_id": None,
    }  # fmt: skip
    fix = FixRecord(uuid.uuid4(), call_id_for(second), pidf)
    batch: list[Record] = [
        call_record(first, caller_number=number, offered_at=AT),
        call_record(second, caller_number=other, offered_at=AT),
        call_record(again, caller_number=number, offered_at=AT + timedelta(seconds=1)),
        AmlClaimRecord(call_id_for(first), number, AT),
        fix,
        AmlClaimRecord(call_id_for(second), other, AT),
        AmlClaimRecord(call_id_for(again), number, AT + timedelta(seconds=1)),  # the number's AML is taken
    ]
    await write_one_batch(database, batch)
    await write_one_batch(database, batch)  # a replay from the spool: nothing twice

    async with database.session() as session:
        fixes = (await session.scalars(select(LocationFixRow))).all()
        calls = {c.uniqueid: c for c in (await session.scalars(select(Call))).all()}
        events = (await session.scalars(select(CallEvent).order_by(CallEvent.seq))).all()
    owners = sorted((f.caller_number or "", f.source, f.call_id == call_id_for(first)) for f in fixes)
    assert [f.call_id for f in fixes if f.caller_number == number] == [call_id_for(first)] * 2
    assert [f.call_id for f in fixes if f.caller_number == other] == [call_id_for(second)], owners
    # The first call's best location is its better AML fix (20 m); the second's is the device's PIDF-LO.
    assert (calls[first].best_lat, calls[first].best_source) == (-6.2, "aml")
    assert calls[again].best_fix_id is None
    assert (calls[second].best_fix_id, calls[second].best_source) == (fix.fix_id, "pidf")
    timeline = [(e.call_id, e.type, e.data.get("matched_later")) for e in events]
    assert timeline == [
        (call_id_for(first), "location_fix", True),  # received 2 minutes before the call
        (call_id_for(first), "best_location_changed", None),
        (call_id_for(first), "location_fix", True),
        (call_id_for(second), "location_fix", None),  # the PIDF-LO
        (call_id_for(second), "best_location_changed", None),
        (call_id_for(second), "location_fix", True),  # AML without a position: not a best location
    ]
