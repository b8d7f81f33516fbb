"""The load test's maths, pure: what happened to every call (from the callers' and phones' SIPp logs), latency
percentiles, whether the records are consistent, the ratios against the baseline, the targets, the table.

An offered call (an INVITE went out) ends up as exactly one of:
  answered           an operator's phone answered it
  overflow_answered  nobody in the queue did, the overflow's backup number (an agency phone) did
  abandoned          the caller hung up before anyone answered
  failed             the network refused it with a SIP error response
  lost               anything else: the network hung up on a caller nobody had answered, or the call never got a
                     final response. No call may be lost.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["answered", "overflow_answered", "abandoned", "failed", "lost"]
Path = Literal["baseline", "service"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "overflow_answered", "abandoned", "failed", "lost")
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


class RecordsCheck(_Model):
    checked: int
    consistent: int
    missing: int
    duplicated: int
    incomplete_timeline: int
    examples: list[str]

    @property
    def all_consistent(self) -> bool:
        return self.checked == self.consistent


def timeline_problem(types: Sequence[str]) -> str | None:
    if not types or types[0] != "offered":
        return f"does not start with offered: {list(types[:3])}"
    if types.count("ended") != 1:
        return f"ended {types.count('ended')} times"
    return None


def check_records(offered: Sequence[str], timelines: dict[str, list[list[str]]]) -> RecordsCheck:
    """Every offered call has exactly one call record whose timeline runs from offered to one ended.
    `timelines` maps a call's tag to the event types of each record found for it."""
    missing = duplicated = incomplete = 0
    examples: list[str] = []
    for tag in offered:
        records = timelines.get(tag, [])
        problem = None
        if not records:
            missing += 1
            problem = "no call record"
        elif len(records) > 1:
            duplicated += 1
            problem = f"{len(records)} call records"
        elif (problem := timeline_problem(records[0])) is not None:
            incomplete += 1
        if problem and len(examples) < 10:
            examples.append(f"{tag}: {problem}")
    bad = missing + duplicated + incomplete
    return RecordsCheck(
        checked=len(offered),
        consistent=len(offered) - bad,
        missing=missing,
        duplicated=duplicated,
        incomplete_timeline=incomplete,
        examples=examples,
    )


# -- the report -------------------------------------------------------------------------------------------


class Latency(_Model):
    invite_to_answer_ms: Percentiles
    time_to_operator_ms: Percentiles
    queue_wait_ms: Percentiles
    intake_ms: Percentiles | None  # service only: the `queued` events' intake_ms


class ProcessUsage(_Model):
    processes: int
    cpu_avg_percent: float  # of one core
    cpu_max_percent: float
    rss_max_mb: float


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


def latency(rows: Sequence[CallRow], intake_ms: Sequence[float] | None) -> Latency:
    def values(field: str) -> list[float]:
        return [v for r in rows if (v := getattr(r, field)) is not None]

    return Latency(
        invite_to_answer_ms=percentiles(values("invite_to_answer_ms")),
        time_to_operator_ms=percentiles(values("time_to_operator_ms")),
        queue_wait_ms=percentiles(values("queue_wait_ms")),
        intake_ms=percentiles(intake_ms) if intake_ms is not None else None,
    )


class Comparison(_Model):
    """Service over baseline (Asterisk alone): 1.0 is as good as the ceiling; latency ratios above 1 are slower."""

    throughput_ratio: float | None
    invite_to_answer_p50_ratio: float | None
    invite_to_answer_p99_ratio: float | None
    time_to_operator_p50_ratio: float | None
    max_clean_rate_service: float | None
    max_clean_rate_baseline: float | None
    max_clean_rate_ratio: float | None


class Target(_Model):
    name: str
    goal: str
    value: str
    met: bool | None  # None: this profile does not measure it


class Report(_Model):
    run_id: str
    profile: dict[str, object]
    started_at: str
    machine: dict[str, object]
    runs: list[RunResult]
    comparison: Comparison
    targets: list[Target]


def _ratio(ours: float | None, ceiling: float | None) -> float | None:
    return round(ours / ceiling, 3) if ours is not None and ceiling else None


def max_clean_rate(runs: Sequence[RunResult], path: Path) -> float | None:
    """The highest rate stepped through with no lost and no failed call, below the first step that had one."""
    best = None
    for run in sorted((r for r in runs if r.path == path), key=lambda r: r.step):
        if run.counts.lost or run.counts.failed:
            break
        best = run.rate
    return best


def compare(runs: Sequence[RunResult]) -> Comparison:
    """Service against baseline at the highest step both paths ran (a ramp stops each path at its first loss)."""
    steps = {r.step for r in runs if r.path == "service"} & {r.step for r in runs if r.path == "baseline"}
    pair = {r.path: r for r in runs if steps and r.step == max(steps)}
    service, baseline = pair.get("service"), pair.get("baseline")
    ramp = len({r.step for r in runs}) > 1
    clean_s, clean_b = max_clean_rate(runs, "service"), max_clean_rate(runs, "baseline")

    def ratio(read: Callable[[RunResult], float | None]) -> float | None:
        return _ratio(read(service), read(baseline)) if service and baseline else None

    return Comparison(
        throughput_ratio=ratio(lambda r: r.throughput_cps),
        invite_to_answer_p50_ratio=ratio(lambda r: r.latency.invite_to_answer_ms.p50),
        invite_to_answer_p99_ratio=ratio(lambda r: r.latency.invite_to_answer_ms.p99),
        time_to_operator_p50_ratio=ratio(lambda r: r.latency.time_to_operator_ms.p50),
        max_clean_rate_service=clean_s if ramp else None,
        max_clean_rate_baseline=clean_b if ramp else None,
        max_clean_rate_ratio=_ratio(clean_s, clean_b) if ramp else None,
    )


def targets(runs: Sequence[RunResult], comparison: Comparison) -> list[Target]:
    lost = sum(r.counts.lost for r in runs)
    ratio = comparison.max_clean_rate_ratio or comparison.throughput_ratio
    # "At 20 calls/s": the service run nearest above it (a ramp also has faster steps, judged by other targets).
    measured = [
        r for r in runs if r.path == "service" and r.rate >= 20 and r.latency.intake_ms and r.latency.intake_ms.n
    ]
    fast = [r for r in measured if r.rate == min(m.rate for m in measured)]
    p99 = max((r.latency.intake_ms.p99 or 0 for r in fast if r.latency.intake_ms), default=None)
    busy = [r for r in runs if r.path == "service" and (r.peak_service_active_calls or 0) >= 1000]
    rss = max((r.service_rss_mb_at_peak or 0 for r in busy), default=None)
    return [
        Target(name="no lost call", goal="0 lost", value=f"{lost} lost", met=lost == 0),
        Target(
            name="throughput vs Asterisk alone",
            goal=">= 0.9",
            value="-" if ratio is None else f"{ratio:.3f}",
            met=None if ratio is None else ratio >= 0.9,
        ),
        Target(
            name="intake p99 at 20 calls/s",
            goal="< 50 ms",
            value="-" if p99 is None else f"{p99:.1f} ms",
            met=None if p99 is None else p99 < 50,
        ),
        Target(
            name="service memory, 1,000 calls in progress",
            goal="< 200 MB",
            value="-" if rss is None else f"{rss:.0f} MB",
            met=None if rss is None else rss < 200,
        ),
    ]


def _p(values: Percentiles | None) -> str:
    if values is None or not values.n:
        return "-"
    return f"{values.p50:.0f} / {values.p95:.0f} / {values.p99:.0f}"


def render_table(report: Report) -> str:
    runs = report.runs
    headers = ["", *(f"{r.path} {r.rate:g}/s" for r in runs)]
    rows: list[list[str]] = [
        [name, *(str(getattr(r.counts, field)) for r in runs)]
        for name, field in [
            ("calls offered", "offered"),
            ("answered by an operator", "answered"),
            ("answered by the overflow", "overflow_answered"),
            ("abandoned by the caller", "abandoned"),
            ("failed (SIP error)", "failed"),
            ("LOST", "lost"),
        ]
    ]
    rows += [
        ["counts add up", *("yes" if r.counts.adds_up else "NO" for r in runs)],
        ["throughput (answers/s)", *(f"{r.throughput_cps:g}" if r.throughput_cps else "-" for r in runs)],
        ["INVITE->answer ms p50/95/99", *(_p(r.latency.invite_to_answer_ms) for r in runs)],
        ["time to operator ms p50/95/99", *(_p(r.latency.time_to_operator_ms) for r in runs)],
        ["queue wait ms p50/95/99", *(_p(r.latency.queue_wait_ms) for r in runs)],
        ["intake ms p50/95/99", *(_p(r.latency.intake_ms) for r in runs)],
        ["peak calls in progress", *(str(r.peak_active_calls) for r in runs)],
        [
            "records consistent",
            *(f"{r.records.consistent}/{r.records.checked}" if r.records else "-" for r in runs),
        ],
    ]
    for group in ("service", "asterisk", "postgresql", "sipp"):
        rows.append(
            [
                f"{group} CPU avg/max %, RSS MB",
                *(
                    f"{u.cpu_avg_percent:.0f}/{u.cpu_max_percent:.0f}, {u.rss_max_mb:.0f}"
                    if (u := r.resources.get(group))
                    else "-"
                    for r in runs
                ),
            ]
        )
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [headers, *rows]]
    c = report.comparison
    lines.append("")
    lines.append(
        f"service / Asterisk alone: throughput {c.throughput_ratio or '-'}, INVITE->answer p50 "
        f"{c.invite_to_answer_p50_ratio or '-'} p99 {c.invite_to_answer_p99_ratio or '-'}, time to operator p50 "
        f"{c.time_to_operator_p50_ratio or '-'}"
    )
    if c.max_clean_rate_ratio is not None or c.max_clean_rate_service is not None:
        lines.append(
            f"highest rate with no lost call: service {c.max_clean_rate_service or '-'}/s, Asterisk alone "
            f"{c.max_clean_rate_baseline or '-'}/s (ratio {c.max_clean_rate_ratio or '-'})"
        )
    for run in runs:
        lines += [f"WARNING {run.path} {run.rate:g}/s: {warning}" for warning in run.warnings]
    lines.append("targets:")
    for t in report.targets:
        verdict = "not measured by this profile" if t.met is None else ("met" if t.met else "NOT MET")
        lines.append(f"  {t.name:42} {t.goal:10} {t.value:14} {verdict}")
    return "\n".join(lines)
