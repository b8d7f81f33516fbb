"""Intake's lookups: what the room knows about the caller's number (counts of earlier calls, the prankster flag) and
about the call's location (the cell's tower, AML waiting for the call). One statement on one connection, under one
hard time limit: as two lookups, each on its own pooled connection, they were three round trips and two checkouts a
call (docs/BENCHMARKS.md)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, func, select

from ntpd112.intake.cells import CellKey, CellRecord
from ntpd112.logs import get_logger
from ntpd112.store.db import Database, intake_lookups
from ntpd112.store.history import HISTORY_WINDOW, REPEAT_WINDOW, CallerContext
from ntpd112.store.locations import WAITING_AML, IntakeLocation, waiting_aml
from ntpd112.store.models import Call, CallerFlag, CellTower, LocationFixRow

log = get_logger(__name__)


class IntakeFindings(NamedTuple):
    history: CallerContext | None  # None: the number is unknown, or the lookup was unavailable
    location: IntakeLocation


NOTHING_FOUND = IntakeFindings(None, IntakeLocation())


class IntakeLookups:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._lookups = intake_lookups("intake lookups")

    async def stop(self) -> None:
        await self._lookups.aclose()

    async def lookup(
        self, number_e164: str | None, cell: CellKey | None, offered_at: datetime, exclude_uniqueid: str
    ) -> IntakeFindings:
        """The counts (index on caller_number) and the flag, the cell's tower, and how many AML fixes with a
        position wait for this number; empty when unavailable (a nice-to-have on the call path, never a blocker)."""
        if not number_e164 and cell is None:
            return NOTHING_FOUND  # nothing to look up (a withheld number from a landline): no connection taken
        try:
            return await self._lookups.run(self._read(number_e164 or None, cell, offered_at, exclude_uniqueid))
        except Exception as error:
            log.warning("intake lookups unavailable", error=type(error).__name__)
            return NOTHING_FOUND

    async def _read(
        self, number: str | None, cell: CellKey | None, offered_at: datetime, exclude_uniqueid: str
    ) -> IntakeFindings:
        # The windows end at the call's offer (for a call taken in again after a restart, not at the restart).
        parameters = {
            "day_ago": offered_at - REPEAT_WINDOW,
            "month_ago": offered_at - HISTORY_WINDOW,
            "uniqueid": exclude_uniqueid,
            **waiting_aml(number, offered_at),
            **(cell._asdict() if cell is not None else dict.fromkeys(CellKey._fields)),
        }
        async with self._database.autocommit_connection() as connection:
            row = (await connection.execute(_INTAKE_LOOKUP, parameters)).mappings().one()
        history = None
        if number is not None:
            history = CallerContext(
                calls_24h=row["calls_24h"], calls_30d=row["calls_30d"], prankster=bool(row["prankster"])
            )
        tower = CellRecord.model_validate({name: row[name] for name in _TOWER_COLUMNS}) if row["radio"] else None
        return IntakeFindings(history, IntakeLocation(cell=tower, pending_aml_fixes=row["pending_aml_fixes"]))


# The statement, made once. With no number, `caller_number = NULL` matches nothing (counts 0, no flag, no AML); with
# no cell, the outer join finds no tower (its columns NULL).
_CELLS = cast(Table, CellTower.__table__)
_FIXES = cast(Table, LocationFixRow.__table__)
_TOWER_COLUMNS = [column.name for column in _CELLS.columns]
_HISTORY = (
    select(
        func.count().filter(Call.offered_at >= bindparam("day_ago")).label("calls_24h"),
        func.count().label("calls_30d"),
    )
    .where(
        Call.caller_number == bindparam("number"),
        Call.offered_at >= bindparam("month_ago"),
        Call.uniqueid != bindparam("uniqueid"),
    )
    .subquery("history")
)
_INTAKE_LOOKUP = select(
    _HISTORY.c.calls_24h,
    _HISTORY.c.calls_30d,
    select(CallerFlag.prankster).where(CallerFlag.number == bindparam("number")).scalar_subquery().label("prankster"),
    select(func.count()).where(*WAITING_AML, _FIXES.c.lat.is_not(None)).scalar_subquery().label("pending_aml_fixes"),
    *_CELLS.columns,
).select_from(_HISTORY.outerjoin(_CELLS, and_(*(_CELLS.c[key] == bindparam(key) for key in CellKey._fields))))
