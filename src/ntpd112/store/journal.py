"""The journal: every record about a call goes through here, asynchronously, in order, and is never lost.

Call handling only calls `record_call` / `record_event`, which never wait for the database. A writer task drains
the in-memory queue into PostgreSQL in batches. When PostgreSQL fails, the journal switches to spooling: pending
and new records are appended to a JSON-lines spool file (so they also survive a restart of the service) until the
spool has been replayed into PostgreSQL, which keeps the order. Every write is idempotent (upsert by call id,
insert-or-ignore by event or fix id, AML claimed only while unclaimed), so replaying a record twice is harmless.

Spool lines carry a `kind`: `call` and `event` since the first version, `fix` and `claim_aml` since intake stored
locations; a spool written by an older version replays unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Table, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from ntpd112.backoff import Backoff
from ntpd112.clock import call_id_for, utcnow
from ntpd112.live import CallActivity, Hub
from ntpd112.logs import get_logger
from ntpd112.store.db import Database
from ntpd112.store.json_rows import json_text, rows_json
from ntpd112.store.locations import AmlClaim, TimelineEntry, claim_waiting_aml, insert_new_fixes, stored_fix_entries
from ntpd112.store.models import Call, LocationFixRow
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

BATCH_SIZE = 200
# How long the writer gathers records before a transaction. A batch costs the same few statements however many calls
# it holds, so at 40 calls/s 50 ms (two calls a batch) took 3 points of a core less than 20 ms (BENCHMARKS.md); a
# console learns of a change after the commit, so a screen pop waits up to this long more.
BATCH_LINGER_SECONDS = 0.05
_CALLS = cast(Table, Call.__table__)
_SPOOL_NAME = "journal.jsonl"
_REPLAY_NAME = "journal.replaying.jsonl"


@dataclass(frozen=True)
class CallRecord:
    """Set these fields of the call (creating the row if needed). Fields left out keep their stored value."""

    call_id: uuid.UUID
    uniqueid: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRecord:
    event_id: uuid.UUID
    call_id: uuid.UUID
    at: datetime
    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class FixRecord:
    """Store a location fix (columns of location_fixes) and reconsider the call's best location."""

    fix_id: uuid.UUID
    call_id: uuid.UUID
    columns: dict[str, Any]


# Give the call the AML of its number that arrived before the call's record (see store/locations.py).
AmlClaimRecord = AmlClaim


Record = CallRecord | EventRecord | FixRecord | AmlClaimRecord


def _parse_datetimes(values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v) if k in names and isinstance(v, str) else v) for k, v in values.items()}


def _to_json(record: Record) -> str:
    # json_text writes datetimes in ISO 8601 with their offset and UUIDs as text; _from_json reads them back.
    payload: dict[str, Any]
    if isinstance(record, CallRecord):
        payload = {
            "kind": "call",
            "call_id": record.call_id,
            "uniqueid": record.uniqueid,
            "fields": record.fields,
        }
    elif isinstance(record, FixRecord):
        payload = {
            "kind": "fix",
            "fix_id": record.fix_id,
            "call_id": record.call_id,
            "columns": record.columns,
        }
    elif isinstance(record, AmlClaimRecord):
        payload = {
            "kind": "claim_aml",
            "call_id": record.call_id,
            "caller_number": record.caller_number,
            "offered_at": record.offered_at,
        }
    else:
        payload = {
            "kind": "event",
            "event_id": record.event_id,
            "call_id": record.call_id,
            "at": record.at,
            "type": record.type,
            "data": record.data,
        }
    return json_text(payload)


def _datetime_columns(model: Any) -> set[str]:
    return {c.name for c in model.__table__.columns if c.type.python_type is datetime}


_DATETIME_FIELDS = _datetime_columns(Call)
_FIX_DATETIME_FIELDS = _datetime_columns(LocationFixRow)


def _from_json(line: str) -> Record:
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError:
        # A spool written before orjson (issue 12) may hold NaN, which orjson refuses and the standard library wrote.
        payload = json.loads(line)
    if payload["kind"] == "call":
        fields = _parse_datetimes(payload["fields"], _DATETIME_FIELDS)
        return CallRecord(uuid.UUID(payload["call_id"]), payload["uniqueid"], fields)
    if payload["kind"] == "fix":
        columns = _parse_datetimes(payload["columns"], _FIX_DATETIME_FIELDS)
        return FixRecord(uuid.UUID(payload["fix_id"]), uuid.UUID(payload["call_id"]), columns)
    if payload["kind"] == "claim_aml":
        offered_at = datetime.fromisoformat(payload["offered_at"])
        return AmlClaimRecord(uuid.UUID(payload["call_id"]), payload["caller_number"], offered_at)
    return EventRecord(
        uuid.UUID(payload["event_id"]),
        uuid.UUID(payload["call_id"]),
        datetime.fromisoformat(payload["at"]),
        payload["type"],
        payload["data"],
    )


def activities(records: Iterable[Record]) -> list[CallActivity]:
    """What a committed batch did to each call, for the live hub: its event types and the operators they name."""
    types: dict[uuid.UUID, set[str]] = {}
    named: dict[uuid.UUID, dict[str, set[str]]] = {}
    for record in records:
        call_types = types.setdefault(record.call_id, set())
        by_role = named.setdefault(record.call_id, {"any": set(), "rung": set(), "answered": set()})
        if isinstance(record, EventRecord):
            call_types.add(record.type)
            operator = record.data.get("operator")
            if isinstance(operator, str) and operator:
                by_role["any"].add(operator)
                if record.type == "operator_ringing":
                    by_role["rung"].add(operator)
                elif record.type == "operator_answered":
                    by_role["answered"].add(operator)
        elif isinstance(record, CallRecord):
            operator = record.fields.get("operator")
            if isinstance(operator, str) and operator:
                by_role["any"].add(operator)
        else:
            call_types.add("location_fix")
    return [
        CallActivity(
            call_id,
            frozenset(types[call_id]),
            frozenset(roles["any"]),
            frozenset(roles["rung"]),
            frozenset(roles["answered"]),
        )
        for call_id, roles in named.items()
    ]


async def write_records(connection: AsyncConnection, records: Iterable[Record]) -> None:
    """Apply records inside the caller's transaction, with the outcome of applying them one by one in order.
    Idempotent. One statement of each kind a batch, however many calls it holds (a statement per record, or per set
    of columns, was the service's largest CPU cost under load: docs/BENCHMARKS.md): the call records, merged per call
    (later fields win, as later upserts would); the fixes; the AML claims; then, in the records' order, the timeline
    of each new fix and claimed AML (a better fix becomes the call's best location), written with the batch's events
    after them (their foreign key needs the row)."""
    records = list(records)
    await _upsert_calls(connection, [record for record in records if isinstance(record, CallRecord)])
    fixes = [record for record in records if isinstance(record, FixRecord)]
    new_fixes = await insert_new_fixes(connection, [(f.fix_id, f.call_id, f.columns) for f in fixes])
    claims = iter(await claim_waiting_aml(connection, [r for r in records if isinstance(r, AmlClaimRecord)]))
    events: list[EventRecord] = []
    for record in records:
        if isinstance(record, FixRecord) and record.fix_id in new_fixes:
            entries = await stored_fix_entries(connection, record.call_id, record.fix_id, record.columns)
            events += timeline_events(record.call_id, entries)
        elif isinstance(record, AmlClaimRecord):
            events += timeline_events(record.call_id, next(claims))
    await _write_events(connection, events + [record for record in records if isinstance(record, EventRecord)])


async def _upsert_calls(connection: AsyncConnection, records: list[CallRecord]) -> None:
    """One statement for the batch, whatever each call's fields: one statement per set of columns, each with as
    many rows as it had, was several statements a batch, each prepared anew by PostgreSQL (BENCHMARKS.md)."""
    if not records:
        return
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    for record in records:
        row = rows.setdefault(record.call_id, {"id": record.call_id, "uniqueid": record.uniqueid})
        row.update(record.fields)
    updated_at = utcnow()
    for row in rows.values():
        row["updated_at"] = updated_at
    await connection.execute(_CALL_UPSERT, {"rows": rows_json(rows.values())})


def _call_upsert() -> TextClause:
    """The batch's calls as a JSON array of objects, each with the fields it sets. An existing row takes exactly
    the fields given (`jsonb_populate_record(row, given)` keeps the others, and sets a field given as null to
    NULL); a new row is inserted with them. Should another writer insert the same call meanwhile (a second service
    on the same channel), its row keeps what this batch does not set."""
    columns = [column.name for column in _CALLS.columns]
    changing = [name for name in columns if name not in _CALL_KEYS]
    listed, changed = ", ".join(columns), ", ".join(changing)
    read, read_changing = ", ".join(f"r.{name}" for name in columns), ", ".join(f"r.{name}" for name in changing)
    kept = ", ".join(f"{name} = coalesce(excluded.{name}, calls.{name})" for name in changing)
    # The names are the model's columns, not input: only the rows are a parameter.
    return text(
        f"""WITH input AS (
    SELECT CAST(given->>'id' AS uuid) AS id, given
    FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS given
), updated AS (
    UPDATE calls SET ({changed}) = (SELECT {read_changing} FROM jsonb_populate_record(calls, input.given) AS r)
    FROM input WHERE calls.id = input.id
    RETURNING calls.id
)
INSERT INTO calls ({listed})
SELECT {read} FROM input CROSS JOIN LATERAL jsonb_populate_record(NULL::calls, input.given) AS r
WHERE input.id NOT IN (SELECT id FROM updated)
ON CONFLICT (id) DO UPDATE SET {kept}"""  # noqa: S608
    )


_CALL_KEYS = frozenset({"id", "uniqueid"})
_CALL_UPSERT = _call_upsert()
# Every batch of events in one statement with the same text (prepared once per connection), in the records' order:
# `seq` breaks ties between events with the same timestamp by insertion order.
_EVENT_INSERT = text(
    """INSERT INTO call_events (id, call_id, at, type, data)
SELECT e.id, e.call_id, e.at, e.type, e.data
FROM ROWS FROM (
    jsonb_to_recordset(CAST(:rows AS jsonb)) AS (id uuid, call_id uuid, at timestamptz, type text, data jsonb)
) WITH ORDINALITY AS e(id, call_id, at, type, data, position)
ORDER BY e.position
ON CONFLICT (id) DO NOTHING"""
)


async def _write_events(connection: AsyncConnection, events: list[EventRecord]) -> None:
    if not events:
        return
    rows = [{"id": e.event_id, "call_id": e.call_id, "at": e.at, "type": e.type, "data": e.data} for e in events]
    await connection.execute(_EVENT_INSERT, {"rows": rows_json(rows)})


def timeline_events(call_id: uuid.UUID, entries: list[TimelineEntry]) -> list[EventRecord]:
    # Fresh event ids are safe here: the fix insert and the AML claim yield entries only the first time.
    return [EventRecord(uuid.uuid4(), call_id, e.at, e.type, e.data) for e in entries]


async def write_timeline(connection: AsyncConnection, call_id: uuid.UUID, entries: list[TimelineEntry]) -> None:
    await _write_events(connection, timeline_events(call_id, entries))


class Journal:
    def __init__(
        self, database: Database, spool_dir: Path, max_in_memory: int, backoff: Backoff, hub: Hub | None = None
    ) -> None:
        self._database = database
        self._hub = hub
        self._spool_dir = spool_dir
        self._max_in_memory = max_in_memory
        self._backoff = backoff
        self._queue: asyncio.Queue[Record] = asyncio.Queue()
        self._tasks = TaskSet("journal")
        self._spooling = False
        self._writing: list[Record] = []  # the batch being written now (gathering or in its transaction)
        self.written = 0
        self.last_error: str | None = None

    @property
    def _spool_file(self) -> Path:
        return self._spool_dir / _SPOOL_NAME

    @property
    def _replay_file(self) -> Path:
        return self._spool_dir / _REPLAY_NAME

    # -- what call handling calls (never waits) --------------------------------------------------------------

    def record_call(self, uniqueid: str, **fields: Any) -> uuid.UUID:
        call_id = call_id_for(uniqueid)
        self._submit(CallRecord(call_id, uniqueid, fields))
        return call_id

    def record_event(
        self,
        call_id: uuid.UUID,
        event_type: str,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        self._submit(EventRecord(uuid.uuid4(), call_id, at or utcnow(), event_type, data or {}))

    def record_fix(self, call_id: uuid.UUID, columns: dict[str, Any]) -> uuid.UUID:
        """A location fix of the call (see store/locations.fix_columns); the timeline events come with it."""
        fix_id = uuid.uuid4()
        self._submit(FixRecord(fix_id, call_id, columns))
        return fix_id

    def claim_aml(self, call_id: uuid.UUID, caller_number: str, offered_at: datetime) -> None:
        self._submit(AmlClaimRecord(call_id, caller_number, offered_at))

    def _submit(self, record: Record) -> None:
        if self._spooling or self._queue.qsize() >= self._max_in_memory:
            self._append_to_spool([record])
        else:
            self._queue.put_nowait(record)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        # Records spooled by an earlier run are replayed before anything new.
        self._spooling = self._spool_file.exists() or self._replay_file.exists()
        self._tasks.spawn(self._writer(), name="journal-writer")

    async def stop(self, flush_timeout: float = 5.0) -> None:
        if self.last_error is None:
            with contextlib.suppress(TimeoutError):
                await self.flushed(flush_timeout)
        await self._tasks.aclose()
        leftover = self._drain_queue()
        if leftover:
            self._append_to_spool(leftover)
            log.warning("journal stopped with unwritten records; spooled", records=len(leftover))

    @property
    def spooling(self) -> bool:
        """Records wait on disk for PostgreSQL (it was down, or an earlier run left a spool to replay)."""
        return self._spooling

    @property
    def backlog(self) -> int:
        # The batch being written counts: until its commit, its records are not in PostgreSQL.
        return self._queue.qsize() + len(self._writing) + (1 if self._spooling else 0)

    def health(self) -> dict[str, Any]:
        return {
            "ok": not self._spooling,
            "queued": self._queue.qsize(),
            "spooling": self._spooling,
            "written": self.written,
            "last_error": self.last_error,
        }

    async def flushed(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is in PostgreSQL (tests and shutdown use this)."""
        async with asyncio.timeout(timeout):
            # Polling is fine here: only shutdown and tests wait for this, never call handling.
            while self._queue.qsize() or self._spooling or self._writing:  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    # -- the writer --------------------------------------------------------------------------------------

    def _drain_queue(self, limit: int | None = None) -> list[Record]:
        records: list[Record] = []
        while not self._queue.empty() and (limit is None or len(records) < limit):
            records.append(self._queue.get_nowait())
        return records

    def _append_to_spool(self, records: list[Record]) -> None:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        with self._spool_file.open("a", encoding="utf-8") as spool:
            spool.writelines(_to_json(record) + "\n" for record in records)

    async def _write(self, records: list[Record]) -> None:
        async with self._database.engine.begin() as connection:
            await write_records(connection, records)
        self.written += len(records)
        # After the commit: a client told of the change reads it back over REST. With no console open (a load
        # test, a night with no one signed in) the batch is not folded for nobody.
        if self._hub is not None and self._hub.subscribers:
            for activity in activities(records):
                self._hub.publish(activity)

    async def _writer(self) -> None:
        while True:
            if self._spooling:
                await self._replay_spool()
                continue
            self._writing = batch = [await self._queue.get()]
            try:
                if self._queue.qsize() < BATCH_SIZE - 1:
                    # A call's records come in bursts (intake writes six or more within milliseconds): waiting a
                    # moment writes them in one transaction, not one each with its own checkout, ping and commit.
                    await asyncio.sleep(BATCH_LINGER_SECONDS)
                batch += self._drain_queue(BATCH_SIZE - 1)
                await self._write(batch)
                self.last_error = None
            except asyncio.CancelledError:
                self._append_to_spool(batch)
                raise
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
                log.exception("database write failed; spooling records until it returns", error=self.last_error)
                self._spooling = True
                self._append_to_spool(batch + self._drain_queue())
            finally:
                self._writing = []

    async def _replay_spool(self) -> None:
        """Write the spool into PostgreSQL in order. New records keep going to a fresh spool file meanwhile."""
        if not self._replay_file.exists():
            if not self._spool_file.exists():
                self._spooling = False
                self._backoff.reset()
                log.info("journal spool replayed; writing directly again")
                return
            self._spool_file.rename(self._replay_file)
        try:
            lines = self._replay_file.read_text(encoding="utf-8").splitlines()
            records = []
            for number, line in enumerate(lines, 1):
                try:
                    records.append(_from_json(line))
                except (ValueError, KeyError) as error:
                    # A torn last line from a crash mid-write: report it, keep the rest.
                    log.exception("unreadable spool line skipped", line=number, error=str(error))
            for start in range(0, len(records), BATCH_SIZE):
                await self._write(records[start : start + BATCH_SIZE])
            self._replay_file.unlink()
            self.last_error = None
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            await asyncio.sleep(self._backoff.next_delay())
