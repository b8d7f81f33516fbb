"""Reconciliation: make PostgreSQL hold every 112 call, also those the service missed.

The service can miss calls or parts of them: it was down (the dialplan's fail-safe path took the call), it was
killed before its journal wrote, or it restarted while calls waited in the queue (queue events went unheard).
Asterisk writes a CDR for every call leg through cdr_pgsql whether the service is up or not, and app_queue writes
its queue log (who answered, after how long, who hung up waiting); this compares those with the calls table and
fills in what is missing, through the journal, with a `reconciled` event saying which fields came from where.
Only empty fields are filled: a fact the service recorded live is never replaced, and a second run changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from ntpd112.calls.release import CdrRelease, cdr_release, cut_off_reason
from ntpd112.clock import utcnow
from ntpd112.intake.identity import CallerIdentity, identify_caller
from ntpd112.intake.numbering import AUTO_NUMBERING, CallerNumbering
from ntpd112.logs import get_logger
from ntpd112.pbx.asterisk_config import TrunkTable
from ntpd112.pbx.names import EMERGENCY_CONTEXTS, FAILSAFE_CONTEXT, QUEUE_NAME
from ntpd112.pbx.queue_log import QueuedCall, QueueLogFile, fold_queue_log
from ntpd112.sip_names import endpoint_of
from ntpd112.store.db import Database
from ntpd112.store.journal import Journal
from ntpd112.store.models import AsteriskCdr, Call, CallEvent, Operator
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

# Contexts a 112 call passes through after it was accepted (refused calls end in ntpd112-refuse).
TRUNK_CHANNEL_PREFIX = "PJSIP/trunk-"
# Later runs re-read this much before the previous run: CDR times have whole seconds, clocks and commits lag.
JOURNAL_CATCH_UP_SECONDS = 5.0
RUN_OVERLAP = timedelta(minutes=2)
SPOOL_RECHECK_SECONDS = 0.5
CDR_SOURCE = "asterisk_cdr"
# The timeline event of a caller reconciliation found cut off, by callback reason (calls/release.cut_off_reason).
CUT_OFF_EVENTS = {"no_media": "caller_media_lost", "asterisk_restart": "caller_dropped", "cut_off": "caller_dropped"}
QUEUE_LOG_SOURCE = "queue_log"
# A run after a restart reads a whole lookback of records: it reads and compares them in slices of this many, with
# a turn for the event loop between slices. Read in one piece, a day of a busy room's CDRs (ORM rows, then one IN
# query over every call) held the loop for over a second, and the intake of the calls arriving just after the
# restart timed out its lookups (seen in CI, where every test's service starts with a day of the suite's calls).
RUN_SLICE = 100


class CdrLegRow(NamedTuple):
    """The columns of one CDR (a call leg) reconciliation reads, as a plain row (an ORM object per leg costs several
    times more, for nothing: reconciliation never writes CDRs)."""

    uniqueid: str | None = None
    linkedid: str | None = None
    channel: str | None = None
    dstchannel: str | None = None
    src: str | None = None
    clid: str | None = None
    start: datetime | None = None
    answer: datetime | None = None
    end: datetime | None = None
    disposition: str | None = None
    userfield: str | None = None


CDR_LEG_COLUMNS = tuple(getattr(AsteriskCdr, name) for name in CdrLegRow._fields)


@dataclass
class CdrCall:
    """The CDR rows of one caller channel, folded into what the calls table needs."""

    uniqueid: str
    linkedid: str | None = None
    channel: str | None = None
    src: str | None = None
    clid: str | None = None
    start: datetime | None = None
    answer: datetime | None = None
    end: datetime | None = None
    failsafe: bool = False
    operators: list[str] = field(default_factory=list)
    release: CdrRelease | None = None

    def add(self, row: CdrLegRow, operator_names: frozenset[str]) -> None:
        self.linkedid = self.linkedid or row.linkedid
        self.channel = self.channel or row.channel
        self.src = self.src or row.src
        self.clid = self.clid or row.clid
        self.start = min(filter(None, (self.start, row.start)), default=None)
        self.answer = min(filter(None, (self.answer, row.answer)), default=None)
        self.end = max(filter(None, (self.end, row.end)), default=None)
        self.failsafe = self.failsafe or FAILSAFE_CONTEXT in (row.userfield or "")
        # The hangup handler marks the CDRs open at the release; earlier legs keep only the arrival's mark.
        release = cdr_release(row.userfield)
        if release is not None and (self.release is None or not self.release.handler_ran):
            self.release = release
        # Only an operator's (or supervisor's) phone counts; the backup number or an agency desk does not.
        operator = endpoint_of(row.dstchannel)
        if row.disposition == "ANSWERED" and operator in operator_names:
            self.operators.append(operator)


def fold_cdrs(
    rows: Iterable[CdrLegRow], operator_names: frozenset[str], calls: dict[str, CdrCall] | None = None
) -> dict[str, CdrCall]:
    """Fold call legs into `calls` (a new dict when None) by the caller channel's uniqueid."""
    calls = {} if calls is None else calls
    for row in rows:
        if row.uniqueid and (row.channel or "").startswith(TRUNK_CHANNEL_PREFIX):
            calls.setdefault(row.uniqueid, CdrCall(row.uniqueid)).add(row, operator_names)
    return calls


def clid_name(clid: str | None) -> str | None:
    """The display name of a CDR's caller id, `"Name" <number>` (or `Name <number>`); None without one."""
    match = _CLID.match(clid or "")
    return (match.group("quoted") or match.group("bare") or None) if match else None


_CLID = re.compile(r'^\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^<"]*?))\s*<[^>]*>\s*$')


def unseen_call_fields(cdr: CdrCall, trunks: TrunkTable) -> dict[str, Any]:
    """The call record of a call the service never saw, from its CDR."""
    trunk = trunks.by_endpoint(endpoint_of(cdr.channel) or "")
    # The CDR's src is the number as the trunk presented it: read it in the trunk's format, as intake does. Its
    # clid carries the display name the caller sent (sanitized by identify_caller as on the live path).
    identity = _cdr_caller(cdr.src, clid_name(cdr.clid), trunk.numbers if trunk else AUTO_NUMBERING)
    return {
        "linkedid": cdr.linkedid,
        "trunk": trunk.name if trunk else endpoint_of(cdr.channel),
        "carrier": trunk.operator if trunk else None,
        "dialed_number": "112",
        "caller_number_raw": identity.number_raw,
        "caller_number": identity.number_e164,
        "caller_name": identity.display_name,
        "caller_presentation": identity.presentation,
        "handled_by": "failsafe" if cdr.failsafe else "service",
        "offered_at": cdr.start,
        "answered_at": cdr.answer,
    }


@functools.lru_cache(maxsize=4096)
def _cdr_caller(src: str | None, name: str | None, numbering: CallerNumbering) -> CallerIdentity:
    """Cached: every run reads each call of its lookback again; in a py-spy profile of a service that started while
    a day of load-test calls lay in the CDRs, reading each number afresh was 11 % of the event loop. The inputs and
    the identity are immutable."""
    return identify_caller(None, None, src, name, numbering=numbering)


def missing_call_fields(
    cdr: CdrCall, call: Call | None, trunks: TrunkTable, queued: QueuedCall | None = None
) -> dict[str, Any]:
    """What Asterisk's records know that the calls table lacks: the whole record for a call the service never saw;
    for a row that exists, only its empty fields (a fact the service recorded live is never replaced). The queue
    log names the operator who answered directly, so its operator is preferred to the one read off the CDR."""
    learned = unseen_call_fields(cdr, trunks)
    if cdr.end is not None:
        learned["ended_at"] = cdr.end
    if cdr.operators:
        learned["operator"] = cdr.operators[0]
    if queued is not None:
        learned |= queued.call_fields()
    if cdr.end is not None and (call is None or call.ended_at is None):
        # The service did not see this caller's end: the CDR's release mark says whether they were cut off.
        reason = cut_off_reason(
            cdr.release,
            operator_answered=bool(cdr.operators) or "operator_answered_at" in learned,
            operator_hung_up=queued is not None and queued.operator_hung_up,
        )
        if reason is not None:
            # Also over the queue log's `abandoned`: app_queue logs any release while waiting as an ABANDON, but a
            # caller whose line died did not hang up.
            learned |= {"callback_status": "pending", "callback_reason": reason}
    return {
        name: value
        for name, value in learned.items()
        if value is not None and (call is None or getattr(call, name) is None)
    }


class Reconciler:
    def __init__(
        self,
        database: Database,
        cdr_database: Database,
        journal: Journal,
        trunks: TrunkTable,
        is_active: Callable[[str], bool],
        *,
        interval: float,
        lookback: timedelta,
        queue_log: QueueLogFile | None = None,
    ) -> None:
        self._database = database
        self._cdr_database = cdr_database
        self._journal = journal
        self._trunks = trunks
        self._is_active = is_active
        self._interval = interval
        self._lookback = lookback
        self._queue_log = queue_log
        # The queue log is read as it grows; what it said of each call is kept for the lookback.
        self._queued: dict[str, QueuedCall] = {}
        # One run at a time, and a run's records are written before the next reads the calls table: a run that
        # overlapped another (the loop's and one asked for) would find the same gaps and fill them twice.
        self._run_lock = asyncio.Lock()
        self._tasks = TaskSet("reconcile")
        self._since: datetime | None = None
        self.runs = 0
        self.reconciled = 0
        self.last_error: str | None = None

    async def start(self) -> None:
        self._tasks.spawn(self._loop(), name="reconcile")

    async def stop(self) -> None:
        await self._tasks.aclose()

    def health(self) -> dict[str, Any]:
        # A failed run is retried on the next round and is caused by a database the database component already
        # reports; it must not hold /health at 503 for a whole interval after the database is back.
        return {
            "ok": True,
            "runs": self.runs,
            "reconciled": self.reconciled,
            "last_error": self.last_error,
        }

    async def _loop(self) -> None:
        while True:
            if self._journal.spooling:
                # The spool may hold the records of calls that have ended (the service restarted while PostgreSQL
                # was down): reconciling before they are written would record those calls' ends a second time.
                await asyncio.sleep(SPOOL_RECHECK_SECONDS)
                continue
            try:
                await self.run_once()
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
                log.warning("reconciliation failed; will retry", error=self.last_error)
            await asyncio.sleep(self._interval)

    async def run_once(self) -> int:
        async with self._run_lock:
            fixed = await self._run()
            if fixed:
                with contextlib.suppress(TimeoutError):
                    await self._journal.flushed()
            return fixed

    async def _run(self) -> int:
        started = utcnow()
        async with self._database.session() as session:
            operator_names = frozenset((await session.scalars(select(Operator.username))).all())
        cdr_calls = await self._read_cdrs(started, operator_names)
        await self._read_queue_log(started - self._lookback)
        for uniqueid in [uniqueid for uniqueid in cdr_calls if self._is_active(uniqueid)]:
            del cdr_calls[uniqueid]
        if not cdr_calls:
            self.runs += 1
            self._since = started - RUN_OVERLAP
            return 0
        # A call that ended a moment ago has its end still in the journal's queue: what is queued now is written
        # before the calls are read, or the CDR would record that end a second time (two `ended` events, seen in
        # the ramp). A journal too busy to catch up skips the round; the next one looks from the same point.
        try:
            await self._journal.flushed(timeout=JOURNAL_CATCH_UP_SECONDS)
        except TimeoutError:
            return 0
        uniqueids = list(cdr_calls)
        fixed = 0
        for first in range(0, len(uniqueids), RUN_SLICE):
            known, offered = await self._recorded_calls(uniqueids[first : first + RUN_SLICE])
            for uniqueid in uniqueids[first : first + RUN_SLICE]:
                call = known.get(uniqueid)
                queued = self._queued.get(uniqueid)
                fixed += self._reconcile(cdr_calls[uniqueid], call, call is not None and call.id in offered, queued)
            await asyncio.sleep(0)
        self.runs += 1
        self._since = started - RUN_OVERLAP
        self.reconciled += fixed
        if fixed:
            log.info("reconciled calls from asterisk's records", calls=fixed)
        return fixed

    async def _read_cdrs(self, started: datetime, operator_names: frozenset[str]) -> dict[str, CdrCall]:
        # The first run looks back the whole lookback; later ones only at CDRs written since the previous run
        # (a CDR is written when its call leg ends, so `end`, not the start time, says what is new), with a margin.
        since = self._since or started - self._lookback
        calls: dict[str, CdrCall] = {}
        query = select(*CDR_LEG_COLUMNS).where(AsteriskCdr.end >= since, AsteriskCdr.dcontext.in_(EMERGENCY_CONTEXTS))
        async with self._cdr_database.session() as session:
            rows = await session.stream(query.execution_options(yield_per=RUN_SLICE))
            async for part in rows.partitions():
                fold_cdrs((CdrLegRow._make(row) for row in part), operator_names, calls)
                await asyncio.sleep(0)
        return calls

    async def _recorded_calls(self, uniqueids: list[str]) -> tuple[dict[str, Call], set[uuid.UUID]]:
        """The calls table's rows of these calls, and which of them have an `offered` event."""
        async with self._database.session() as session:
            known = {
                call.uniqueid: call
                for call in (await session.scalars(select(Call).where(Call.uniqueid.in_(uniqueids)))).all()
            }
            offered = set(
                (
                    await session.scalars(
                        select(CallEvent.call_id).where(
                            CallEvent.call_id.in_([call.id for call in known.values()]), CallEvent.type == "offered"
                        )
                    )
                ).all()
            )
        return known, offered

    async def _read_queue_log(self, keep_since: datetime) -> None:
        if self._queue_log is None:
            return
        lines = await asyncio.to_thread(self._queue_log.read_new, keep_since)
        # Folded off the event loop too: after a restart the whole file is read again (a day of a busy room).
        _, rejected = await asyncio.to_thread(fold_queue_log, lines, QUEUE_NAME, self._queued)
        if rejected:
            log.warning(
                "queue log lines skipped: they do not parse",
                path=str(self._queue_log.path),
                count=len(rejected),
                first=rejected[0].line,
                reason=rejected[0].reason,
            )
        self._queued = {
            callid: queued
            for callid, queued in self._queued.items()
            if queued.last_at is not None and queued.last_at >= keep_since
        }

    def _reconcile(self, cdr: CdrCall, call: Call | None, has_offered_event: bool, queued: QueuedCall | None) -> bool:
        missing = missing_call_fields(cdr, call, self._trunks, queued)
        if not missing and has_offered_event:
            return False
        call_id = self._journal.record_call(cdr.uniqueid, **missing)
        cdr_source = {"source": CDR_SOURCE}
        queue_source = {"source": QUEUE_LOG_SOURCE}
        if not has_offered_event:
            # The service never wrote this call's intake (it was down, or killed before its journal wrote).
            self._journal.record_event(call_id, "offered", cdr_source, at=cdr.start)
        if "operator_answered_at" in missing:
            answered = {"operator": missing.get("operator"), "wait_seconds": missing.get("wait_seconds")}
            self._journal.record_event(
                call_id, "operator_answered", queue_source | answered, at=missing["operator_answered_at"]
            )
        if "abandoned_at" in missing:
            # Also what puts the caller on the room's callback list live (web/stream_messages.CALLBACK_EVENTS).
            abandoned = {
                "wait_seconds": missing.get("wait_seconds"),
                "position": queued.abandon_position if queued else None,
            }
            self._journal.record_event(call_id, "abandoned", queue_source | abandoned, at=missing["abandoned_at"])
        # What was learned afterwards goes on the timeline when it was learned (CDR times have whole seconds and
        # would sort among the live events arbitrarily); the real times are in the data and on the call record.
        from_queue_log = set(queued.call_fields()) if queued else set()
        if missing.get("callback_reason") in CUT_OFF_EVENTS:
            from_queue_log -= {"callback_status", "callback_reason"}  # the CDR's release mark decided them
        sources: dict[str, list[str]] = {}
        for name in sorted(missing):
            sources.setdefault(QUEUE_LOG_SOURCE if name in from_queue_log else CDR_SOURCE, []).append(name)
        self._journal.record_event(
            call_id,
            "reconciled",
            {
                "fields": sorted(missing),
                "sources": sources,
                "whole_call": call is None,
                "operator": missing.get("operator"),
            },
        )
        if "ended_at" in missing:
            self._journal.record_event(call_id, "ended", cdr_source | {"ended_at": missing["ended_at"].isoformat()})
        if missing.get("callback_reason") in CUT_OFF_EVENTS:
            # As the live path records it (calls/handler._ended), and what refreshes the console's callback list.
            release = cdr.release or CdrRelease()
            cut_off = {"callback": "pending", "reason": missing["callback_reason"], "cause": release.cause}
            self._journal.record_event(
                call_id, CUT_OFF_EVENTS[missing["callback_reason"]], cdr_source | cut_off | {"by": release.source}
            )
        return True
