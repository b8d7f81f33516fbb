"""Intake's lookups against PostgreSQL, one statement: what the room knows about the number (counts and the prankster
flag) and about the call's location (the cell's tower, AML waiting for the call)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from ntpd112.clock import call_id_for
from ntpd112.intake.cells import CellKey
from ntpd112.store.db import Database
from ntpd112.store.history import CallerContext
from ntpd112.store.intake_lookups import NOTHING_FOUND, IntakeLookups
from ntpd112.store.locations import IntakeLocation
from ntpd112.store.models import Call, CallerFlag, CellTower, LocationFixRow

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
NUMBER, OTHER = "+6281234500001", "+6281234500002"
CELL = CellKey("lte", 510, 10, 1234, 987654)


def _call(uniqueid: str, number: str, hours_ago: float) -> Call:
    return Call(
        id=call_id_for(uniqueid), uniqueid=uniqueid, caller_number=number, offered_at=NOW - timedelta(hours=hours_ago)
    )


def _aml(
    number: str, minutes_ago: float, *, lat: float | None = -6.2, claimed_by: uuid.UUID | None = None
) -> LocationFixRow:
    return LocationFixRow(
        id=uuid.uuid4(),
        call_id=claimed_by,
        source="aml",
        channel="sms",
        lat=lat,
        lon=106.8 if lat is not None else None,
        received_at=NOW - timedelta(minutes=minutes_ago),
        raw='A"ML=1',
        caller_number=number,
    )


async def test_the_history_counts_a_days_and_a_months_calls_and_reads_the_flag(database: Database) -> None:
    async with database.session() as session, session.begin():
        session.add_all(
            [
                _call("now", NUMBER, 0),  # the call being taken in: not counted
                _call("earlier-today", NUMBER, 2),
                _call("last-week", NUMBER, 24 * 7),
                _call("two-months-ago", NUMBER, 24 * 60),
                _call("someone-else", OTHER, 1),
                CallerFlag(number=NUMBER, prankster=True, set_by="t"),
                CallerFlag(number=OTHER, prankster=False, set_by="t"),
            ]
        )
    lookups = IntakeLookups(database)
    try:
        found = await lookups.lookup(NUMBER, None, NOW, exclude_uniqueid="now")
        assert found.history == CallerContext(calls_24h=1, calls_30d=2, prankster=True)
        assert found.location == IntakeLocation()
        found = await lookups.lookup(OTHER, CELL, NOW, exclude_uniqueid="x")  # a cell the table does not have
        assert found.history == CallerContext(calls_24h=1, calls_30d=1, prankster=False)
        assert found.location == IntakeLocation()
        unknown = await lookups.lookup("+6281234500009", None, NOW, exclude_uniqueid="x")
        assert unknown.history == CallerContext(calls_24h=0, calls_30d=0, prankster=False)
    finally:
        await lookups.stop()


async def test_the_location_lookup_finds_the_tower_and_counts_only_waiting_aml_with_a_position(
    database: Database,
) -> None:
    async with database.session() as session, session.begin():
        session.add(_call("claimed", NUMBER, 1))
        session.add_all(
            [
                CellTower(
                    **CELL._asdict(),
                    unit=301,
                    lat=-6.175,
                    lon=106.827,
                    range_m=1500,
                    samples=12,
                    changeable=True,
                    created=NOW - timedelta(days=400),
                    updated=NOW - timedelta(days=3),
                    average_signal=None,
                ),
                _aml(NUMBER, 1),  # waiting, with a position: counted
                _aml(NUMBER, 4),  # counted
                _aml(NUMBER, 6),  # older than the five minutes before the call: not
                _aml(NUMBER, 1, lat=None),  # no position: not
                _aml(NUMBER, 1, claimed_by=call_id_for("claimed")),  # another call's already: not
                _aml(OTHER, 1),  # another number: not
            ]
        )
    lookups = IntakeLookups(database)
    try:
        found = (await lookups.lookup(NUMBER, CELL, NOW, exclude_uniqueid="x")).location
        assert found.pending_aml_fixes == 2
        assert found.cell is not None and found.cell.key == CELL
        assert (found.cell.lat, found.cell.lon, found.cell.range_m, found.cell.unit) == (-6.175, 106.827, 1500, 301)
        # No number (withheld): the tower still, no history and no AML.
        without_number = await lookups.lookup(None, CELL, NOW, exclude_uniqueid="x")
        assert without_number.history is None
        assert without_number.location.cell == found.cell and without_number.location.pending_aml_fixes == 0
        nothing = await lookups.lookup(None, CELL._replace(cell_id=1), NOW, exclude_uniqueid="x")
        assert nothing.location == IntakeLocation() and nothing.history is None
        assert await lookups.lookup(None, None, NOW, exclude_uniqueid="x") == NOTHING_FOUND  # a withheld landline
    finally:
        await lookups.stop()
