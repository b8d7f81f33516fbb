"""The journal's batch writer against PostgreSQL: a batch of records of several calls, written in one transaction,
ends where writing the records one by one in order would (calls/store/journal.write_records)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ntpd112.clock import call_id_for
from ntpd112.store.db import Database
from ntpd112.store.journal import CallRecord, EventRecord, Record, write_records
from ntpd112.store.models import Call, CallEvent

AT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def call_record(uniqueid: str, **fields: object) -> CallRecord:
    return CallRecord(call_id_for(uniqueid), uniqueid, dict(fields))


def event(uniqueid: str, event_type: str, seconds: int) -> EventRecord:
    return EventRecord(uuid.uuid4(), call_id_for(uniqueid), AT + timedelta(seconds=seconds), event_type, {})


async def write_one_batch(database: Database, records: list[Record]) -> None:
    async with database.engine.begin() as connection:
        await write_records(connection, records)


async def test_a_batch_merges_each_calls_fields_in_order_and_keeps_every_event(clean_database: str) -> None:
    database = Database(clean_database)
    await database.start()
    try:
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
    finally:
        await database.stop()
