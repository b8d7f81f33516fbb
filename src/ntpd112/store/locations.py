"""Location fixes in PostgreSQL: storing a fix, keeping the call's best location and area current, matching AML
messages to calls, and what intake's lookup counts as AML waiting for its call (store/intake_lookups.py).

Writers (`store_fix`, `insert_new_fixes` with `stored_fix_entries`, `claim_waiting_aml`) run inside a transaction
the caller owns (the journal's writer, or the AML endpoint) and return the timeline entries to record; they are
idempotent: a fix already stored, or AML already claimed, yields nothing. The call row is locked while its best
location is compared, so fixes arriving at once through different paths (intake, AML over HTTPS, a second
service) cannot overwrite a better one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from pydantic import BaseModel
from sqlalchemy import DateTime, RowMapping, Table, Text, bindparam, column, func, select, text, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from ntpd112.intake.areas import AdminArea, AreaNames, locate, parse_feature
from ntpd112.intake.best_location import is_better
from ntpd112.intake.cells import CellRecord
from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.geoloc import LocationFix
from ntpd112.intake.pani import CellId
from ntpd112.logs import get_logger
from ntpd112.store.json_rows import rows_json
from ntpd112.store.models import AdminAreaRow, Call, LocationFixRow

log = get_logger(__name__)

# AML is matched to a call of the same number offered at most AML_BEFORE_CALL after the message (the handset may
# send before the network delivers the call) and up to AML_AFTER_END after the call ended (ETSI TS 103 625 lets the
# handset keep sending for a while; a fix minutes late still helps the dispatched unit).
AML_BEFORE_CALL = timedelta(minutes=5)
AML_AFTER_END = timedelta(minutes=30)


class TimelineEntry(NamedTuple):
    type: str
    data: dict[str, Any]
    at: datetime


def fix_columns(
    fix: LocationFix | None,
    *,
    source: str,
    channel: str,
    received_at: datetime,
    raw: str,
    cell: CellId | None = None,
    caller_number: str | None = None,
    dedup_key: str | None = None,
) -> dict[str, Any]:
    """The location_fixes columns for a fix (None: no position, e.g. an unknown cell or AML pm=N)."""
    columns: dict[str, Any] = {
        "source": source,
        "channel": channel,
        "received_at": received_at,
        "raw": raw,
        "caller_number": caller_number,
        "dedup_key": dedup_key,
        "lat": None,
        "lon": None,
        "radius_m": None,
        "confidence": None,
        "method": None,
        "shape": None,
        "measured_at": None,
        "radio": None,
        "mcc": None,
        "mnc": None,
        "area_code": None,
        "cell_id": None,
    }
    if fix is not None:
        columns |= fix.model_dump(include={"lat", "lon", "radius_m", "confidence", "method", "shape", "measured_at"})
    if cell is not None:
        columns |= cell.lookup_key._asdict()
    return columns


def _fix_event(fix_id: uuid.UUID, columns: dict[str, Any]) -> dict[str, Any]:
    data = {
        name: columns[name] for name in ("source", "channel", "lat", "lon", "radius_m", "confidence", "method", "shape")
    }
    measured_at = columns["measured_at"]
    data |= {"fix_id": str(fix_id), "measured_at": measured_at.isoformat() if measured_at else None}
    if columns["radio"] is not None:
        data["cell"] = {name: columns[name] for name in ("radio", "mcc", "mnc", "area_code", "cell_id")}
    return data


async def store_fix(
    connection: AsyncConnection, fix_id: uuid.UUID, call_id: uuid.UUID | None, columns: dict[str, Any]
) -> list[TimelineEntry] | None:
    """Insert a fix; a call's fix may become its best. None when its id or dedup key was stored already."""
    if fix_id not in await insert_new_fixes(connection, [(fix_id, call_id, columns)]):
        return None
    return [] if call_id is None else await stored_fix_entries(connection, call_id, fix_id, columns)


async def stored_fix_entries(
    connection: AsyncConnection, call_id: uuid.UUID, fix_id: uuid.UUID, columns: dict[str, Any]
) -> list[TimelineEntry]:
    """The timeline of a call's fix just stored; the fix becomes the call's best location if it is better."""
    return [TimelineEntry("location_fix", _fix_event(fix_id, columns), columns["received_at"])] + (
        await _consider_for_best(connection, call_id, fix_id, columns)
    )


async def insert_new_fixes(
    connection: AsyncConnection, fixes: list[tuple[uuid.UUID, uuid.UUID | None, dict[str, Any]]]
) -> set[uuid.UUID]:
    """Insert fixes (id, call id, location_fixes columns) in one statement; the ids of those not stored before (by
    id or dedup key)."""
    if not fixes:
        return set()
    rows = rows_json({"id": fix_id, "call_id": call_id} | columns for fix_id, call_id, columns in fixes)
    return set((await connection.execute(_INSERT_FIXES, {"rows": rows})).scalars())


async def lock_number(connection: AsyncConnection, caller_number: str) -> None:
    """Serialize AML matching per number (until commit): AML arriving while its call's record is being written is
    then either seen by the call's claim or sees the call."""
    await connection.execute(_LOCK_NUMBER, {"number": caller_number})


async def match_call(connection: AsyncConnection, caller_number: str, received_at: datetime) -> uuid.UUID | None:
    """The call an AML message received at `received_at` belongs to: the latest call of that number in the window."""
    statement = (
        select(Call.id)
        .where(
            Call.caller_number == caller_number,
            Call.offered_at <= received_at + AML_BEFORE_CALL,
            func.coalesce(Call.ended_at, received_at) + AML_AFTER_END >= received_at,
        )
        .order_by(Call.offered_at.desc())
        .limit(1)
    )
    return (await connection.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True)
class AmlClaim:
    """A new call takes the AML of its number that arrived before its record did (also the journal's record)."""

    call_id: uuid.UUID
    caller_number: str
    offered_at: datetime


async def claim_waiting_aml(connection: AsyncConnection, claims: list[AmlClaim]) -> list[list[TimelineEntry]]:
    """Give each call the AML waiting for its number (each claim's timeline, in the claims' order), with the outcome
    of claiming one by one in order. The numbers are locked first, in one order (see `lock_number`); then one
    statement claims for the first call of each number, which takes all a later call of the number could; a later
    call of a number already claimed for in this batch claims on its own (rare: two calls of a number in 20 ms)."""
    if not claims:
        return []
    numbers = sorted({claim.caller_number for claim in claims})
    await connection.execute(_LOCK_NUMBERS, {"numbers": numbers})
    firsts: dict[str, AmlClaim] = {}
    for claim in claims:
        firsts.setdefault(claim.caller_number, claim)
    claimed: dict[uuid.UUID, list[RowMapping]] = {}
    batch = rows_json({"call_id": c.call_id, **waiting_aml(c.caller_number, c.offered_at)} for c in firsts.values())
    for row in (await connection.execute(_CLAIM_AML_BATCH, {"claims": batch})).mappings():
        claimed.setdefault(row["call_id"], []).append(row)
    timelines = []
    for claim in claims:
        if firsts[claim.caller_number] is not claim:
            parameters = {"claimed_by": claim.call_id, **waiting_aml(claim.caller_number, claim.offered_at)}
            claimed[claim.call_id] = list((await connection.execute(_CLAIM_AML, parameters)).mappings())
        timelines.append(await _claimed_entries(connection, claim.call_id, claimed.get(claim.call_id, [])))
    return timelines


async def _claimed_entries(
    connection: AsyncConnection, call_id: uuid.UUID, rows: list[RowMapping]
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for row in sorted(rows, key=lambda r: r["received_at"]):
        columns = {k: v for k, v in row.items() if k not in ("id", "call_id")}
        entries.append(
            TimelineEntry("location_fix", _fix_event(row["id"], columns) | {"matched_later": True}, row["received_at"])
        )
        entries += await _consider_for_best(connection, call_id, row["id"], columns)
    return entries


# The journal's statements of every call, made once with bound parameters (building them per call, and their cache
# keys, cost more of the service's CPU than running them: py-spy, BENCHMARKS.md).
_FIXES = cast(Table, LocationFixRow.__table__)
_LOCK_NUMBER = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("number"), 112)))


def _waiting_aml_where(number: ColumnElement[str], since: ColumnElement[datetime]) -> tuple[ColumnElement[bool], ...]:
    return (
        _FIXES.c.call_id.is_(None),
        _FIXES.c.source == "aml",
        _FIXES.c.caller_number == number,
        _FIXES.c.received_at >= since,
    )


# AML of a number that no call has claimed yet, received at most AML_BEFORE_CALL before the call: what intake counts
# (those with a position) and what the call's record claims. Parameters: waiting_aml().
WAITING_AML = _waiting_aml_where(bindparam("number"), bindparam("since"))
_CLAIM_AML = update(_FIXES).where(*WAITING_AML).values(call_id=bindparam("claimed_by")).returning(*_FIXES.columns)
# A batch's numbers locked in one statement, in the order given (sorted: two writers never wait for each other).
_LOCK_NUMBERS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(number, 112)) "
    "FROM unnest(CAST(:numbers AS text[])) WITH ORDINALITY AS n(number, position) ORDER BY position"
)
# The same for several calls of different numbers at once (each number at most once: see claim_waiting_aml), the
# claims a JSON array of {call_id, number, since}.
_CLAIMS = (
    func.jsonb_to_recordset(sql_cast(bindparam("claims", type_=Text), JSONB))
    .table_valued(column("call_id", UUID), column("number", Text), column("since", DateTime(timezone=True)))
    .render_derived(name="claims", with_types=True)
)
_CLAIM_AML_BATCH = (
    update(_FIXES)
    .where(*_waiting_aml_where(_CLAIMS.c.number, _CLAIMS.c.since))
    .values(call_id=_CLAIMS.c.call_id)
    .returning(*_FIXES.columns)
)
_FIX_COLUMNS = ", ".join(column.name for column in _FIXES.columns)
_INSERT_FIXES = text(
    f"""INSERT INTO location_fixes ({_FIX_COLUMNS})
SELECT {_FIX_COLUMNS} FROM jsonb_populate_recordset(NULL::location_fixes, CAST(:rows AS jsonb))
ON CONFLICT DO NOTHING
RETURNING id"""  # noqa: S608 (the model's column names)
)


def waiting_aml(caller_number: str | None, offered_at: datetime) -> dict[str, Any]:
    return {"number": caller_number, "since": offered_at - AML_BEFORE_CALL}


def _as_fix(columns: dict[str, Any]) -> LocationFix:
    return LocationFix(
        source=columns["source"],
        lat=columns["lat"],
        lon=columns["lon"],
        radius_m=columns["radius_m"],
        confidence=columns["confidence"],
        method=columns["method"],
        measured_at=columns["measured_at"],
        raw="",
        shape=columns["shape"],
    )


async def _consider_for_best(
    connection: AsyncConnection, call_id: uuid.UUID, fix_id: uuid.UUID, columns: dict[str, Any]
) -> list[TimelineEntry]:
    if columns["lat"] is None:
        return []
    best_fix_id = (
        await connection.execute(select(Call.best_fix_id).where(Call.id == call_id).with_for_update())
    ).scalar_one()
    candidate = _as_fix(columns)
    now = columns["received_at"]
    previous: dict[str, Any] | None = None
    if best_fix_id is not None:
        current = (
            (await connection.execute(select(LocationFixRow).where(LocationFixRow.id == best_fix_id))).mappings().one()
        )
        previous = {"fix_id": str(best_fix_id), "source": current["source"], "radius_m": current["radius_m"]}
        now = max(now, current["received_at"])
        if not is_better(candidate, _as_fix(dict(current)), now):
            return []
    area = await resolve_area(connection, candidate.lat, candidate.lon)
    await connection.execute(
        update(Call)
        .where(Call.id == call_id)
        .values(
            best_fix_id=fix_id,
            best_lat=candidate.lat,
            best_lon=candidate.lon,
            best_radius_m=candidate.radius_m,
            best_source=candidate.source,
            best_measured_at=candidate.measured_at,
            area_id=area.id if area else None,
            area_code=area.code if area else None,
            area_kabupaten=area.kabupaten if area else None,
            area_kecamatan=area.kecamatan if area else None,
            area_kelurahan=area.kelurahan if area else None,
        )
    )
    data = {
        "fix_id": str(fix_id),
        "source": candidate.source,
        "lat": candidate.lat,
        "lon": candidate.lon,
        "radius_m": candidate.radius_m,
        "previous": previous,
        "area": area.model_dump() if area else None,
    }
    return [TimelineEntry("best_location_changed", data, columns["received_at"])]


class StoredArea(AreaNames):
    """An imported area as the rest of the product sees it: its row id and names (a call's area columns copy
    them)."""

    id: int


class _AreaRow(AdminArea):
    """A stored area with its polygons, as `locate` chooses among them."""

    id: int


async def resolve_area(connection: AsyncConnection, lat: float, lon: float) -> StoredArea | None:
    """The most precise area holding the point (the rule of `intake.areas.locate`). The GiST index on the bounding
    box finds the few candidates; only those polygons are tested."""
    point = func.box(func.point(lon, lat), func.point(lon, lat))
    bbox = func.box(
        func.point(AdminAreaRow.min_lon, AdminAreaRow.min_lat), func.point(AdminAreaRow.max_lon, AdminAreaRow.max_lat)
    )
    rows = (await connection.execute(select(AdminAreaRow).where(bbox.op("@>")(point)))).mappings().all()
    best = locate([_area_of(row) for row in rows], lat, lon)
    return None if best is None else StoredArea.model_validate(best.model_dump(exclude={"polygons", "bbox"}))


def _area_of(row: RowMapping) -> _AreaRow:
    try:
        polygons = parse_feature({"type": "Feature", "geometry": row["geometry"], "properties": {}}).polygons
    except IntakeParseError:
        # Stored geometry was validated on import; a row edited by hand since then is skipped, not fatal.
        log.warning("area with unusable geometry skipped", area_id=row["id"])
        polygons = ()
    return _AreaRow(
        id=row["id"],
        code=row["code"],
        kabupaten=row["kabupaten"],
        kecamatan=row["kecamatan"],
        kelurahan=row["kelurahan"],
        polygons=polygons,
        # The stored box, which the index query above matched.
        bbox=(row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"]),
    )


class IntakeLocation(BaseModel):
    cell: CellRecord | None = None
    pending_aml_fixes: int = 0
