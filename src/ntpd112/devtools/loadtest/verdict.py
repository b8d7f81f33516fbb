"""The load test's verdict, pure: the service against Asterisk alone step by step, the ceilings of a ramp, the
targets of issue 12 each judged at the steps it names, and the report's table.

A target is met only when every step it is judged at meets it; a profile with no such step does not measure it
(`met` None). Ratios are service over baseline at the same rate: answers/s below 1 is slower, latency above 1 is
slower.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, computed_field

from ntpd112.devtools.loadtest.report import FaultOutcome, Path, Percentiles, RunResult

# The rates the targets name (calls/s). Above TOP_RATE a ramp only looks for the ceilings.
TOP_RATE = 100
INTAKE_FAST_UP_TO = 60
INTAKE_BUSY_CALLS = 300
CPU_RATE = 40
# CPU is judged only where the rate was offered this long (the `sustained` profile): a ramp's step offers its calls
# in 5 s and averages the service's CPU over the step's quiet end too, which once read 23 % where 30 s of the same
# rate took 53-55 %.
CPU_SUSTAINED_SECONDS = 30.0
ANSWERS_RATIO_GOAL = 0.98
P99_FACTOR, P99_SLACK_MS = 1.5, 10.0
INTAKE_FAST_MS, INTAKE_TOP_MS = 50.0, 100.0
CPU_GOAL_PERCENT = 25.0
RSS_GOAL_MB, RSS_CALLS = 200.0, 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _ratio(ours: float | None, ceiling: float | None) -> float | None:
    return round(ours / ceiling, 3) if ours is not None and ceiling else None


class StepComparison(_Model):
    """One rate both paths ran."""

    rate: float
    throughput_ratio: float | None  # answers/s
    invite_to_answer_p50_ratio: float | None
    invite_to_answer_p95_ratio: float | None
    invite_to_answer_p99_ratio: float | None
    time_to_operator_p50_ratio: float | None
    service_p99_ms: float | None  # INVITE->answer
    p99_limit_ms: float | None  # P99_FACTOR x Asterisk alone's p99 + P99_SLACK_MS


class Comparison(_Model):
    steps: list[StepComparison]
    min_throughput_ratio: float | None  # the lowest over the steps
    max_invite_to_answer_p99_ratio: float | None  # the highest over the steps
    # A ramp's ceilings: the highest rate with no lost and no failed call, and the rate of the first step that had
    # one (None: no step had one, the ceiling is at least the last rate run).
    ceiling_service: float | None
    ceiling_baseline: float | None
    ceiling_ratio: float | None
    first_loss_service: float | None
    first_loss_baseline: float | None


def _path_runs(runs: Sequence[RunResult], path: Path) -> list[RunResult]:
    return sorted((r for r in runs if r.path == path), key=lambda r: r.step)


def ceiling(runs: Sequence[RunResult], path: Path) -> tuple[float | None, float | None]:
    """(the highest rate stepped through with no lost and no failed call, the rate of the first step with one)."""
    best = None
    for run in _path_runs(runs, path):
        if run.counts.lost or run.counts.failed:
            return best, run.rate
        best = run.rate
    return best, None


def compare_step(service: RunResult, baseline: RunResult) -> StepComparison:
    def ratio(read: Callable[[RunResult], float | None]) -> float | None:
        return _ratio(read(service), read(baseline))

    baseline_p99 = baseline.latency.invite_to_answer_ms.p99
    return StepComparison(
        rate=service.rate,
        throughput_ratio=ratio(lambda r: r.throughput_cps),
        invite_to_answer_p50_ratio=ratio(lambda r: r.latency.invite_to_answer_ms.p50),
        invite_to_answer_p95_ratio=ratio(lambda r: r.latency.invite_to_answer_ms.p95),
        invite_to_answer_p99_ratio=ratio(lambda r: r.latency.invite_to_answer_ms.p99),
        time_to_operator_p50_ratio=ratio(lambda r: r.latency.time_to_operator_ms.p50),
        service_p99_ms=service.latency.invite_to_answer_ms.p99,
        p99_limit_ms=None if baseline_p99 is None else round(P99_FACTOR * baseline_p99 + P99_SLACK_MS, 2),
    )


def compare(runs: Sequence[RunResult]) -> Comparison:
    """The service against Asterisk alone at every rate both ran (each path of a ramp stops at its first loss)."""
    baseline = {r.rate: r for r in runs if r.path == "baseline"}
    steps = [compare_step(r, baseline[r.rate]) for r in _path_runs(runs, "service") if r.rate in baseline]
    throughput = [s.throughput_ratio for s in steps if s.throughput_ratio is not None]
    p99 = [s.invite_to_answer_p99_ratio for s in steps if s.invite_to_answer_p99_ratio is not None]
    ramp = len({r.step for r in runs}) > 1
    (clean_s, loss_s), (clean_b, loss_b) = ceiling(runs, "service"), ceiling(runs, "baseline")
    return Comparison(
        steps=steps,
        min_throughput_ratio=min(throughput, default=None),
        max_invite_to_answer_p99_ratio=max(p99, default=None),
        ceiling_service=clean_s if ramp else None,
        ceiling_baseline=clean_b if ramp else None,
        ceiling_ratio=_ratio(clean_s, clean_b) if ramp else None,
        first_loss_service=loss_s if ramp else None,
        first_loss_baseline=loss_b if ramp else None,
    )


# -- targets ----------------------------------------------------------------------------------------------


class Target(_Model):
    name: str
    goal: str
    value: str  # the worst step's, and where
    judged_at: list[float]  # the rates of the steps it was judged at
    missed_at: list[float] = []  # the rates of the steps that did not meet it (not measured included)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def met(self) -> bool | None:
        """None: no step of this profile is one the target names."""
        return not self.missed_at if self.judged_at else None


def _judge(
    name: str,
    goal: str,
    judged: Sequence[tuple[float, float | None]],
    meets: Callable[[float], bool],
    worst: Callable[[list[tuple[float, float]]], tuple[float, float]],
    show: Callable[[float], str],
) -> Target:
    """`judged`: (rate, value) of every step the target names; a step without a value fails it."""
    rates = [rate for rate, _ in judged]
    if not judged:
        return Target(name=name, goal=goal, value="-", judged_at=[])
    measured = [(rate, value) for rate, value in judged if value is not None]
    if len(measured) < len(judged):
        missing = [rate for rate, value in judged if value is None]
        text = f"not measured at {_rates(missing)}"
        return Target(name=name, goal=goal, value=text, judged_at=rates, missed_at=missing)
    worst_rate, worst_value = worst(measured)
    text = show(worst_value) + (f" (worst of {len(measured)} steps: {worst_rate:g}/s)" if len(measured) > 1 else "")
    missed_at = [rate for rate, value in measured if not meets(value)]
    return Target(name=name, goal=goal, value=text, judged_at=rates, missed_at=missed_at)


def _rates(rates: Sequence[float]) -> str:
    return ", ".join(f"{rate:g}/s" for rate in rates)


def _highest(values: list[tuple[float, float]]) -> tuple[float, float]:
    return max(values, key=lambda item: item[1])


def _lowest(values: list[tuple[float, float]]) -> tuple[float, float]:
    return min(values, key=lambda item: item[1])


def _intake_p99(run: RunResult) -> float | None:
    intake: Percentiles | None = run.latency.intake_ms
    return intake.p99 if intake and intake.n else None


def _fault_misses(run: RunResult) -> int:
    """Calls lost other than those the restarted Asterisk dropped, dropped or unanswered vanished callers not on the
    callback list, vanished callers whose record is still open (faults.judge)."""
    fault = run.fault
    if fault is None:
        return 0
    off = len(fault.dropped_off_callback_list) + len(fault.vanished_off_callback_list)
    return len(fault.unexpected_lost) + off + len(fault.vanished_not_released)


def targets(runs: Sequence[RunResult], comparison: Comparison) -> list[Target]:
    service = _path_runs(runs, "service")
    in_range = [r for r in service if r.rate <= TOP_RATE]
    steps = [s for s in comparison.steps if s.rate <= TOP_RATE]

    def headroom(step: StepComparison) -> float | None:
        # How far the service's p99 is under its limit (negative: over it).
        if step.service_p99_ms is None or step.p99_limit_ms is None:
            return None
        return round(step.p99_limit_ms - step.service_p99_ms, 2)

    records = [(r.rate, r.records.checked - r.records.consistent if r.records else None) for r in in_range]
    cpu = [
        (r.rate, u.cpu_avg_percent if (u := r.resources.get("service")) else None)
        for r in service
        if r.counts.offered >= r.rate * CPU_SUSTAINED_SECONDS
    ]
    busy = [r for r in service if (r.peak_service_active_calls or 0) >= RSS_CALLS]
    return [
        _judge(
            f"no lost call, up to {TOP_RATE} calls/s",
            "0 lost",
            [(r.rate, float(r.counts.lost)) for r in in_range],
            lambda lost: lost == 0,
            _highest,
            lambda lost: f"{lost:.0f} lost",
        ),
        _judge(
            "answers/s vs Asterisk alone, every step",
            f">= {ANSWERS_RATIO_GOAL}",
            [(s.rate, s.throughput_ratio) for s in steps],
            lambda ratio: ratio >= ANSWERS_RATIO_GOAL,
            _lowest,
            lambda ratio: f"{ratio:.3f}",
        ),
        _judge(
            "INVITE->answer p99 vs Asterisk alone, every step",
            f"<= {P99_FACTOR:g}x + {P99_SLACK_MS:g} ms",
            [(s.rate, headroom(s)) for s in steps],
            lambda room: room >= 0,
            _lowest,
            lambda room: f"{abs(room):.1f} ms {'under' if room >= 0 else 'OVER'} the limit",
        ),
        _judge(
            f"intake p99, every step up to {INTAKE_FAST_UP_TO} calls/s",
            f"< {INTAKE_FAST_MS:g} ms",
            [(r.rate, _intake_p99(r)) for r in service if r.rate <= INTAKE_FAST_UP_TO],
            lambda p99: p99 < INTAKE_FAST_MS,
            _highest,
            lambda p99: f"{p99:.1f} ms",
        ),
        _judge(
            f"intake p99 with {INTAKE_BUSY_CALLS}+ calls in progress",
            f"< {INTAKE_FAST_MS:g} ms",
            [(r.rate, _intake_p99(r)) for r in service if r.peak_active_calls >= INTAKE_BUSY_CALLS],
            lambda p99: p99 < INTAKE_FAST_MS,
            _highest,
            lambda p99: f"{p99:.1f} ms",
        ),
        _judge(
            f"intake p99 at {TOP_RATE} calls/s",
            f"< {INTAKE_TOP_MS:g} ms",
            [(r.rate, _intake_p99(r)) for r in service if r.rate == TOP_RATE],
            lambda p99: p99 < INTAKE_TOP_MS,
            _highest,
            lambda p99: f"{p99:.1f} ms",
        ),
        _judge(
            "records consistent, every step",
            "every call, complete",
            records,
            lambda bad: bad == 0,
            _highest,
            lambda bad: f"{bad:.0f} inconsistent",
        ),
        _judge(
            "under the fault: lost but dropped, off the callback list",
            "0",
            [(r.rate, float(_fault_misses(r))) for r in service if r.fault is not None],
            lambda misses: misses == 0,
            _highest,
            lambda misses: f"{misses:.0f} calls",
        ),
        _judge(
            f"service CPU at {CPU_RATE} calls/s for {CPU_SUSTAINED_SECONDS:g} s",
            f"<= {CPU_GOAL_PERCENT:g} % of a core",
            [(rate, value) for rate, value in cpu if rate == CPU_RATE],
            lambda percent: percent <= CPU_GOAL_PERCENT,
            _highest,
            lambda percent: f"{percent:.0f} %",
        ),
        _judge(
            f"service memory, {RSS_CALLS:,} calls in progress",
            f"< {RSS_GOAL_MB:g} MB",
            [(r.rate, r.service_rss_mb_at_peak) for r in busy],
            lambda mb: mb < RSS_GOAL_MB,
            _highest,
            lambda mb: f"{mb:.0f} MB",
        ),
    ]


# -- the report -------------------------------------------------------------------------------------------


class Report(_Model):
    run_id: str
    profile: dict[str, object]
    started_at: str
    machine: dict[str, object]
    runs: list[RunResult]
    comparison: Comparison
    targets: list[Target]


def _p(values: Percentiles | None, bounds: bool = False) -> str:
    """p50 / p95 / p99; with `bounds`, each figure the upper bound of a histogram's bucket."""
    if values is None or not values.n:
        return "-"
    return " / ".join(f"<={v:g}" if bounds else f"{v:.0f}" for v in (values.p50, values.p95, values.p99))


def _columns(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [headers, *rows]]


def _runs_table(runs: Sequence[RunResult]) -> list[str]:
    headers = ["", *(f"{r.path} {r.rate:g}/s" for r in runs)]
    rows: list[list[str]] = [
        [name, *(str(getattr(r.counts, field)) for r in runs)]
        for name, field in [
            ("calls offered", "offered"),
            ("answered by an operator", "answered"),
            ("answered by the overflow", "overflow_answered"),
            ("abandoned by the caller", "abandoned"),
            ("failed (SIP error)", "failed"),
            ("vanished (fault: phone died)", "vanished"),
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
        ["intake: Asterisk's continue ms p50/95/99", *(_p(r.latency.intake_continue_ms) for r in runs)],
        # Every step of every call waits as long as the service's event loop is late: busy with something else, or
        # the process short of CPU (bucket bounds of the service's own histogram, metrics.EventLoopWatch).
        ["service event loop late ms p50/95/99", *(_p(r.event_loop_late_ms, bounds=True) for r in runs)],
        ["peak calls in progress", *(str(r.peak_active_calls) for r in runs)],
        # A caller resends its INVITE only when Asterisk was slow to take it or ignored it (PJSIP ignores new calls
        # while a taskprocessor is over its high-water mark: asterisk/local/pjsip.conf): each one is a wait of
        # 0.5 s or more for a caller.
        ["SIP retransmissions by callers", *(_number(r.sipp.get("Retransmissions")) for r in runs)],
        [
            "records consistent, complete",
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
    rows.append(["service CPU / SIPp CPU", *(_cpu_per_sipp(r) for r in runs)])
    rows.append(
        [
            "machine short of CPU avg/max %",
            *(f"{p.avg_percent:.0f}/{p.max_percent:.0f}" if (p := r.cpu_pressure) else "-" for r in runs),
        ]
    )
    return _columns(headers, rows)


def _cpu_per_sipp(run: RunResult) -> str:
    """The service's CPU over the load generator's in the same run. SIPp's work is the same for the same calls
    whatever ntpd112 does, so this ratio compares codes and runs across a machine whose speed changes: on one 2-core
    machine the same calls took SIPp 8.0 % of a core at 18:15 and 12.8 % at 19:25, the service 16 and 27 %."""
    service, sipp = run.resources.get("service"), run.resources.get("sipp")
    if service is None or sipp is None or not sipp.cpu_avg_percent:
        return "-"
    return f"{service.cpu_avg_percent / sipp.cpu_avg_percent:.2f}"


def _number(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _steps_table(comparison: Comparison) -> list[str]:
    steps = comparison.steps
    headers = ["service / Asterisk alone", *(f"{s.rate:g}/s" for s in steps), "over the steps"]
    rows = [
        ["answers/s", *(_number(s.throughput_ratio) for s in steps), f"min {_number(comparison.min_throughput_ratio)}"],
        ["INVITE->answer p50", *(_number(s.invite_to_answer_p50_ratio) for s in steps), ""],
        ["INVITE->answer p95", *(_number(s.invite_to_answer_p95_ratio) for s in steps), ""],
        [
            "INVITE->answer p99",
            *(_number(s.invite_to_answer_p99_ratio) for s in steps),
            f"max {_number(comparison.max_invite_to_answer_p99_ratio)}",
        ],
        [
            "p99 ms: service / limit",
            *(f"{_number(s.service_p99_ms)} / {_number(s.p99_limit_ms)}" for s in steps),
            "",
        ],
        ["time to operator p50", *(_number(s.time_to_operator_p50_ratio) for s in steps), ""],
    ]
    return _columns(headers, rows)


def _ceiling(clean: float | None, first_loss: float | None, last_rate: float | None) -> str:
    if first_loss is None:
        return f"no lost or failed call up to the last step ({_number(last_rate, '/s')}): ceiling not reached"
    return f"{_number(clean, '/s')} (first lost or failed call at {first_loss:g}/s)"


def _fault_lines(run: RunResult, fault: FaultOutcome) -> list[str]:
    window = f"{fault.injected_at - run.started_at:.1f} s into the run"
    if fault.restored_at is not None:
        window += f", back after {fault.restored_at - fault.injected_at:.1f} s"
    lines = [f"fault {fault.fault}: {fault.detail} ({window})"]
    if fault.fault == "asterisk-restart":
        lines.append(
            f"  calls Asterisk dropped: {len(fault.dropped)}, not on the callback list: "
            f"{len(fault.dropped_off_callback_list)} {fault.dropped_off_callback_list[:5]}"
        )
        lines.append(f"  calls refused (SIP error) while Asterisk was down: {len(fault.refused)}")
    if fault.fault == "caller-vanish":
        lines.append(
            f"  callers vanished: {len(fault.vanished)}, on the callback list: {fault.vanished_on_callback_list}, "
            f"unanswered, not on it: {len(fault.vanished_off_callback_list)} {fault.vanished_off_callback_list[:5]}, "
            f"record still open: {len(fault.vanished_not_released)}"
        )
    lines.append(f"  lost other than dropped: {len(fault.unexpected_lost)} {fault.unexpected_lost[:5]}")
    lines.append(f"  fault targets: {'met' if fault.met else 'NOT MET'}")
    return lines


def render_table(report: Report) -> str:
    runs = report.runs
    c = report.comparison
    lines = [*_runs_table(runs), ""]
    if c.steps:
        lines += [*_steps_table(c), ""]
    if c.first_loss_service is not None or c.ceiling_service is not None:

        def last(path: Path) -> float | None:
            return max((r.rate for r in runs if r.path == path), default=None)

        lines.append(f"ceiling, service:         {_ceiling(c.ceiling_service, c.first_loss_service, last('service'))}")
        lines.append(
            f"ceiling, Asterisk alone:  {_ceiling(c.ceiling_baseline, c.first_loss_baseline, last('baseline'))}"
        )
        lines.append(f"ceiling ratio:            {_number(c.ceiling_ratio)}")
    for run in runs:
        lines += [f"WARNING {run.path} {run.rate:g}/s: {warning}" for warning in run.warnings]
        if (fault := run.fault) is not None:
            lines += _fault_lines(run, fault)
        if run.records and run.records.examples:
            lines += [f"  record problem: {example}" for example in run.records.examples]
    lines.append("targets:")
    for t in report.targets:
        if t.met is None:
            verdict = "not measured by this profile"
        elif t.met:
            verdict = f"met at {_rates(t.judged_at)}"
        else:
            # The steps that missed, not every step judged: "NOT MET at 5/s, ..., 100/s" read as a miss at each.
            verdict = f"NOT MET at {_rates(t.missed_at)} (of {len(t.judged_at)} steps judged)"
        lines.append(f"  {t.name:50} {t.goal:20} {t.value:42} {verdict}")
    return "\n".join(lines)
