"""The load test's maths, pure: what happened to every call (from the callers' and phones' SIPp logs), latency
percentiles, whether the records are consistent, each run's result (verdict.py compares and judges them).

An offered call (an INVITE went out) ends up as exactly one of:
  answered           an operator's phone answered it
  overflow_answered  nobody in the queue did, the overflow's backup number (an agency phone) did
  abandoned          the caller hung up before anyone answered
  failed             the network refused it with a SIP error response
  vanished           fault injection only: the harness killed the caller's phone (no BYE) before anyone answered
  lost               anything else: the network hung up on a caller nobody had answered, or the call never got a
                     final response. No call may be lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["answered", "overflow_answered", "abandoned", "failed", "vanished", "lost"]
Path = Literal["baseline", "service"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "overflow_answered", "abandoned", "failed", "vanished", "lost")
# run id (L + 6 hex), path initial, step, call number: see runner.call_prefix and population.plan_calls.
TAG_RE = re.compile(r"L[0-9a-f]{6}[bs][0-9]{2}-[0-9]{5}")


# -- the SIPp logs ----------------------------------------------------------------------------------------


@dataclass
class CallerTrace:
    """Wall-clock times (epoch seconds) of one caller's milestones, from load-caller.xml's log lines."""

    invite: float | None = None
    answered: float | None = None
    failed: float | None = None
    caller_bye: float | None = None
    net_bye: float | None = None

    @property
    def ended(self) -> float | None:
        return self.caller_bye or self.net_bye or self.failed


@dataclass(frozen=True)
class Connect:
    role: str  # operator | agency
    at: float


_CALLER_FIELDS = {"invite": "invite", "answered": "answered", "failed": "failed", "callerbye": "caller_bye"}
_CALLER_FIELDS["netbye"] = "net_bye"


def _epoch(seconds: str, micros: str) -> float:
    return float(seconds) + float(micros) / 1e6


def parse_caller_log(lines: Iterable[str]) -> dict[str, CallerTrace]:
    """`EVENT TAG SECONDS MICROS` lines; the first of each event per call counts."""
    traces: dict[str, CallerTrace] = {}
    for line in lines:
        words = line.split()
        if len(words) != 4 or words[0] not in _CALLER_FIELDS:
            continue
        trace = traces.setdefault(words[1], CallerTrace())
        name = _CALLER_FIELDS[words[0]]
        if getattr(trace, name) is None:
            setattr(trace, name, _epoch(words[2], words[3]))
    return traces


def parse_phone_log(lines: Iterable[str]) -> dict[str, Connect]:
    """`connected ROLE SECONDS MICROS FROM-HEADER` lines; the call's tag is in the caller's display name."""
    connects: dict[str, Connect] = {}
    for line in lines:
        words = line.split(maxsplit=4)
        if len(words) < 5 or words[0] != "connected" or (match := TAG_RE.search(words[4])) is None:
            continue
        connects.setdefault(match.group(), Connect(words[1], _epoch(words[2], words[3])))
    return connects


def classify(trace: CallerTrace, connect: Connect | None) -> Outcome:
    if trace.failed is not None:
        return "failed"
    if connect is not None:
        return "answered" if connect.role == "operator" else "overflow_answered"
    if trace.caller_bye is not None:
        return "abandoned"
    return "lost"


# -- numbers ----------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Percentiles(_Model):
    n: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    rank = max(math.ceil(p / 100 * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def percentiles(values: Iterable[float]) -> Percentiles:
    ordered = sorted(values)
    if not ordered:
        return Percentiles(n=0, p50=None, p95=None, p99=None, max=None)
    return Percentiles(
        n=len(ordered),
        p50=round(percentile(ordered, 50), 2),
        p95=round(percentile(ordered, 95), 2),
        p99=round(percentile(ordered, 99), 2),
        max=round(ordered[-1], 2),
    )


class CallRow(_Model):
    tag: str
    kind: str
    outcome: Outcome
    invite_at: float | None
    ended_at: float | None
    invite_to_answer_ms: float | None
    time_to_operator_ms: float | None
    queue_wait_ms: float | None


def _ms(later: float | None, earlier: float | None) -> float | None:
    return round((later - earlier) * 1000, 2) if later is not None and earlier is not None else None


def call_rows(
    planned: Sequence[tuple[str, str]], traces: dict[str, CallerTrace], connects: dict[str, Connect]
) -> list[CallRow]:
    """One row per call that went out (an INVITE was sent), from (tag, kind) pairs in the order planned."""
    rows = []
    for tag, kind in planned:
        trace = traces.get(tag)
        if trace is None or trace.invite is None:
            continue  # never placed (SIPp stopped first): not offered
        connect = connects.get(tag)
        rows.append(
            CallRow(
                tag=tag,
                kind=kind,
                outcome=classify(trace, connect),
                invite_at=trace.invite,
                ended_at=trace.ended,
                invite_to_answer_ms=_ms(trace.answered, trace.invite),
                time_to_operator_ms=_ms(connect.at, trace.invite) if connect else None,
                queue_wait_ms=_ms(connect.at, trace.answered) if connect else None,
            )
        )
    return rows


class Counts(_Model):
    planned: int
    offered: int
    answered: int
    overflow_answered: int
    abandoned: int
    failed: int
    vanished: int = 0
    lost: int

    @property
    def adds_up(self) -> bool:
        return self.offered == sum(int(getattr(self, outcome)) for outcome in OUTCOMES)


def count(planned: int, rows: Sequence[CallRow]) -> Counts:
    by_outcome = {outcome: sum(1 for r in rows if r.outcome == outcome) for outcome in OUTCOMES}
    return Counts(planned=planned, offered=len(rows), **by_outcome)


def throughput(rows: Sequence[CallRow]) -> float | None:
    """Calls the room answered (200 OK) per second, from the first INVITE to the last answer."""
    answered = [(r.invite_at or 0) + (r.invite_to_answer_ms or 0) / 1000 for r in rows if r.invite_to_answer_ms]
    first = min((r.invite_at for r in rows if r.invite_at is not None), default=None)
    if not answered or first is None or max(answered) <= first:
        return None
    return round(len(answered) / (max(answered) - first), 3)


def active_over_time(rows: Sequence[CallRow], step: float = 1.0) -> list[tuple[float, int]]:
    """(seconds since the first INVITE, calls in progress) every `step` seconds, from the callers' view."""
    spans = [(r.invite_at, r.ended_at) for r in rows if r.invite_at is not None and r.ended_at is not None]
    if not spans:
        return []
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    points = []
    t = start
    while t <= end + step:
        points.append((round(t - start, 3), sum(1 for s, e in spans if s <= t < e)))
        t += step
    return points


# -- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFields:
    """What a call record must tell the room about one call (issue 13): who called, how, when, who took it."""

    caller_name: str | None  # the display name
    caller_number_raw: str | None
    caller_number: str | None  # E.164
    trunk: str | None
    carrier: str | None
    dialed_number: str | None
    offered: bool  # offered_at set
    answered: bool  # answered_at set
    ended: bool  # ended_at set
    handled_by: str | None
    callback_status: str | None


def missing_fields(record: RecordFields, row: CallRow) -> list[str]:
    """The fields the record lacks for what the caller saw: every record names the caller (display name, number
    raw and E.164), trunk, carrier, dialed
    number and its offered and end times; a call the network answered has its answer time, and one an operator or
    the overflow took says who handled it."""
    missing = [
        name
        for name in ("caller_name", "caller_number_raw", "caller_number", "trunk", "carrier", "dialed_number")
        if not getattr(record, name)
    ]
    missing += [name for name, present in (("offered_at", record.offered), ("ended_at", record.ended)) if not present]
    if row.invite_to_answer_ms is not None and not record.answered:
        missing.append("answered_at")
    if row.outcome in ("answered", "overflow_answered") and not record.handled_by:
        missing.append("handled_by")
    return missing


class RecordsCheck(_Model):
    checked: int
    consistent: int  # one record, its timeline from offered to one ended, and (when checked) every field there
    missing: int
    duplicated: int
    incomplete_timeline: int
    examples: list[str]
    incomplete_fields: int = 0

    @property
    def all_consistent(self) -> bool:
        return self.checked == self.consistent


def timeline_problem(types: Sequence[str]) -> str | None:
    if not types or types[0] != "offered":
        return f"does not start with offered: {list(types[:3])}"
    if types.count("ended") != 1:
        return f"ended {types.count('ended')} times"
    return None


def check_records(
    offered: Sequence[str],
    timelines: dict[str, list[list[str]]],
    fields: dict[str, list[RecordFields]] | None = None,
    rows: Sequence[CallRow] = (),
) -> RecordsCheck:
    """Every offered call has exactly one call record whose timeline runs from offered to one ended.
    `timelines` maps a call's tag to the event types of each record found for it. With `fields` (tag -> the
    fields of each record, in the same order) and the calls' `rows`, every record must also be complete
    (`missing_fields`)."""
    by_tag = {row.tag: row for row in rows}
    missing = duplicated = incomplete = incomplete_fields = 0
    examples: list[str] = []
    for tag in offered:
        records = timelines.get(tag, [])
        problem = None
        if not records:
            missing += 1
            problem = "no call record"
        elif len(records) > 1:
            # Seen only when the callers' SIPp itself stalled (BENCHMARKS.md, issue 12, tenth slice): Asterisk, alone
            # too, makes a second channel of an INVITE retransmission that arrives after it released the first for
            # want of an ACK (32 s after its 200 OK), same Call-ID, tag and branch. The service records each channel.
            duplicated += 1
            problem = f"{len(records)} call records"
        elif (problem := timeline_problem(records[0])) is not None:
            incomplete += 1
        elif fields is not None and tag in by_tag and (lacks := missing_fields(fields[tag][0], by_tag[tag])):
            incomplete_fields += 1
            problem = f"record lacks {', '.join(lacks)}"
        if problem and len(examples) < 10:
            examples.append(f"{tag}: {problem}")
    bad = missing + duplicated + incomplete + incomplete_fields
    return RecordsCheck(
        checked=len(offered),
        consistent=len(offered) - bad,
        missing=missing,
        duplicated=duplicated,
        incomplete_timeline=incomplete,
        examples=examples,
        incomplete_fields=incomplete_fields,
    )


# -- the report -------------------------------------------------------------------------------------------


class Latency(_Model):
    invite_to_answer_ms: Percentiles
    time_to_operator_ms: Percentiles
    queue_wait_ms: Percentiles
    intake_ms: Percentiles | None  # service only: the `queued` events' intake_ms
    # Service only: the part of intake spent waiting for Asterisk's answer to the continue (`queued` events'
    # continue_ms); None in reports from before it was recorded.
    intake_continue_ms: Percentiles | None = None


class ProcessUsage(_Model):
    processes: int
    cpu_avg_percent: float  # of one core
    cpu_max_percent: float
    rss_max_mb: float


class CpuPressure(_Model):
    """Linux's pressure stall information for the CPU over a run: the share of time at least one runnable task on
    the machine waited for a core (`some` in /proc/pressure/cpu), on average and in the worst second. High, every
    process was short of CPU whatever its own use: on two cores in the surge, intakes over 30 ms came at 83-92 %,
    those under 10 ms at 33-35 % (BENCHMARKS.md, ninth slice of issue 12)."""

    avg_percent: float
    max_percent: float


class FaultOutcome(_Model):
    """What one injected fault did (devtools/loadtest/faults.py): times are epoch seconds, calls are tags."""

    fault: str
    injected_at: float
    restored_at: float | None
    detail: str
    dropped: list[str]  # asterisk-restart: calls in progress that the restart dropped
    dropped_off_callback_list: list[str]
    refused: list[str]  # asterisk-restart: refused with a SIP error while it was down (no record can exist)
    vanished: list[str]  # caller-vanish: callers whose phone died mid-call
    vanished_off_callback_list: list[str]  # of those nobody had answered
    vanished_on_callback_list: int = 0  # of all vanished callers
    vanished_not_released: list[str] = []  # their record still open
    unexpected_lost: list[str]  # lost calls other than those the restart dropped
    met: bool


class RunResult(_Model):
    path: Path
    step: int
    rate: float
    started_at: float
    duration_s: float
    counts: Counts
    lost_tags: list[str]
    latency: Latency
    throughput_cps: float | None
    peak_active_calls: int
    peak_service_active_calls: int | None
    service_rss_mb_at_peak: float | None
    records: RecordsCheck | None
    resources: dict[str, ProcessUsage]
    sipp: dict[str, float]
    metrics: dict[str, float]
    active_calls: list[tuple[float, int]]
    calls: list[CallRow]
    warnings: list[str]  # what else happened to the room during the run (restarts, reconnects)
    fault: FaultOutcome | None = None
    cpu_pressure: CpuPressure | None = None  # None: the kernel has no /proc/pressure
    # The service's event loop: how late its 1-in-100-ms timer ran during the step (metrics.EventLoopWatch), ms,
    # each figure a bucket's upper bound; None on the baseline path.
    event_loop_late_ms: Percentiles | None = None


def histogram_percentiles(
    before: Mapping[str, float], after: Mapping[str, float], name: str, scale: float = 1000.0
) -> Percentiles | None:
    """Percentiles of what the Prometheus histogram `name` counted between two scrapes (parse_metrics' keys), each
    the upper bound of the bucket it fell in, times `scale`; past the last finite bound, that bound. None when
    nothing was counted."""
    prefix = f"{name}_bucket{{le="
    counts = sorted(
        (float(key.removeprefix(prefix).removesuffix("}")), value - before.get(key, 0.0))
        for key, value in after.items()
        if key.startswith(prefix)
    )
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return None
    last_bound = max(bound for bound, _ in counts if math.isfinite(bound))

    def at(share: float) -> float:
        bound = next(bound for bound, count in counts if count >= share * total)
        return round(min(bound, last_bound) * scale, 2)

    return Percentiles(n=round(total), p50=at(0.5), p95=at(0.95), p99=at(0.99), max=at(1.0))


def latency(
    rows: Sequence[CallRow], intake_ms: Sequence[float] | None, continue_ms: Sequence[float] | None = None
) -> Latency:
    def values(field: str) -> list[float]:
        return [v for r in rows if (v := getattr(r, field)) is not None]

    return Latency(
        invite_to_answer_ms=percentiles(values("invite_to_answer_ms")),
        time_to_operator_ms=percentiles(values("time_to_operator_ms")),
        queue_wait_ms=percentiles(values("queue_wait_ms")),
        intake_ms=percentiles(intake_ms) if intake_ms is not None else None,
        intake_continue_ms=percentiles(continue_ms) if continue_ms is not None else None,
    )
