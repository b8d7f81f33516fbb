"""The load test's verdict: per-step ratios against Asterisk alone, a ramp's ceilings, and targets met only when
every step they name meets them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ntpd112.devtools.loadtest import collect, verdict
from ntpd112.devtools.loadtest import report as maths
from ntpd112.devtools.loadtest.collect import cpu_pressure, cpu_stall_microseconds

T0 = 1_795_000_000


def run(
    path: maths.Path,
    step: int,
    rate: float,
    *,
    answer_ms: float = 10,
    throughput: float | None = None,
    intake_ms: float = 30,
    lost: int = 0,
    failed: int = 0,
    peak_active: int = 5,
    inconsistent: int = 0,
    cpu: float | None = None,
    sipp_cpu: float | None = None,
    service_calls: int | None = None,
    rss: float | None = None,
    calls: int = 100,
) -> maths.RunResult:
    """One step of one path: `calls` calls, every one answered in `answer_ms`, the service's intake in `intake_ms`."""
    rows = [
        maths.CallRow(
            tag=f"t{n}",
            kind="k",
            outcome="answered",
            invite_at=T0 + n / rate,
            ended_at=T0 + n / rate + 4,
            invite_to_answer_ms=answer_ms,
            time_to_operator_ms=answer_ms + 200,
            queue_wait_ms=200,
        )
        for n in range(calls)
    ]
    service = path == "service"
    counts = maths.Counts(
        planned=calls,
        offered=calls,
        answered=calls - lost - failed,
        overflow_answered=0,
        abandoned=0,
        failed=failed,
        lost=lost,
    )
    checked = maths.RecordsCheck(
        checked=calls,
        consistent=calls - inconsistent,
        missing=inconsistent,
        duplicated=0,
        incomplete_timeline=0,
        examples=[],
    )
    resources = {}
    if service and cpu is not None:
        resources["service"] = maths.ProcessUsage(processes=1, cpu_avg_percent=cpu, cpu_max_percent=cpu, rss_max_mb=90)
    if sipp_cpu is not None:
        resources["sipp"] = maths.ProcessUsage(
            processes=2, cpu_avg_percent=sipp_cpu, cpu_max_percent=sipp_cpu, rss_max_mb=40
        )
    return maths.RunResult(
        path=path,
        step=step,
        rate=rate,
        started_at=T0,
        duration_s=calls / rate + 4,
        counts=counts,
        lost_tags=[],
        latency=maths.latency(rows, [intake_ms] * calls if service else None),
        throughput_cps=throughput if throughput is not None else rate,
        peak_active_calls=peak_active,
        peak_service_active_calls=service_calls,
        service_rss_mb_at_peak=rss,
        records=checked if service else None,
        resources=resources,
        sipp={},
        metrics={},
        active_calls=[],
        calls=rows,
        warnings=[],
    )


def found(runs: list[maths.RunResult]) -> dict[str, verdict.Target]:
    return {t.name: t for t in verdict.targets(runs, verdict.compare(runs))}


RATES = (5, 10, 20, 40, 60, 80, 100)
CPU_TARGET = "service CPU at 40 calls/s for 30 s"


def ramp(service_at: dict[float, dict[str, Any]] | None = None) -> list[maths.RunResult]:
    """Both paths at every rate of RATES; `service_at={60: {...}}` changes the service's step at that rate."""
    runs = [run("baseline", n, rate) for n, rate in enumerate(RATES)]
    changes = service_at or {}
    runs += [run("service", n, rate, **({"answer_ms": 20} | changes.get(rate, {}))) for n, rate in enumerate(RATES)]
    return runs


def test_every_step_is_compared_at_its_own_rate_and_the_worst_step_is_named() -> None:
    runs = ramp({40: {"throughput": 38.0}, 80: {"throughput": 79.6}})

    comparison = verdict.compare(runs)

    assert [s.rate for s in comparison.steps] == list(RATES)
    step_40 = next(s for s in comparison.steps if s.rate == 40)
    assert step_40.throughput_ratio == 0.95
    assert (step_40.invite_to_answer_p50_ratio, step_40.invite_to_answer_p99_ratio) == (2.0, 2.0)
    # 1.5 x 10 ms + 10 ms: the service's 20 ms is within it.
    assert (step_40.service_p99_ms, step_40.p99_limit_ms) == (20, 25)
    assert comparison.min_throughput_ratio == 0.95
    answers = found(runs)["answers/s vs Asterisk alone, every step"]
    # One step below 0.98 is enough to miss it, however good the highest rate looks.
    assert answers.met is False
    assert answers.value == "0.950 (worst of 7 steps: 40/s)"
    assert answers.judged_at == list(RATES)
    assert found(ramp())["answers/s vs Asterisk alone, every step"].met is True


def test_answer_latency_is_judged_against_asterisk_alone_plus_its_slack_at_every_step() -> None:
    assert found(ramp())["INVITE->answer p99 vs Asterisk alone, every step"].met is True
    slow = found(ramp({10: {"answer_ms": 26}}))["INVITE->answer p99 vs Asterisk alone, every step"]
    assert slow.met is False
    assert slow.value == "1.0 ms OVER the limit (worst of 7 steps: 10/s)"


def test_intake_targets_are_judged_only_at_the_steps_they_name() -> None:
    # 80/s is named by no intake target: its 90 ms fails neither; 60/s's 55 ms fails the 50 ms one.
    runs = ramp({60: {"intake_ms": 55}, 80: {"intake_ms": 90}, 100: {"intake_ms": 95}})
    targets = found(runs)
    fast = targets["intake p99, every step up to 60 calls/s"]
    assert (fast.met, fast.judged_at, fast.value) == (False, [5, 10, 20, 40, 60], "55.0 ms (worst of 5 steps: 60/s)")
    top = targets["intake p99 at 100 calls/s"]
    assert (top.met, top.judged_at, top.value) == (True, [100], "95.0 ms")
    # No step had 300 calls in progress: not measured, not met by default.
    assert targets["intake p99 with 300+ calls in progress"].met is None
    surge = [run("baseline", 0, 10, peak_active=330), run("service", 0, 10, peak_active=330, intake_ms=57)]
    busy = found(surge)["intake p99 with 300+ calls in progress"]
    assert (busy.met, busy.value) == (False, "57.0 ms")
    assert found(surge)["intake p99 at 100 calls/s"].met is None


def test_a_ramp_reports_both_ceilings_and_judges_losses_only_up_to_100_calls_s() -> None:
    runs = [
        *(run("baseline", n, rate) for n, rate in enumerate((60, 80, 100, 120))),
        run("baseline", 4, 140, failed=3),
        run("service", 0, 60),
        run("service", 1, 80),
        run("service", 2, 100),
        run("service", 3, 120, lost=2),
    ]
    comparison = verdict.compare(runs)
    assert (comparison.ceiling_service, comparison.first_loss_service) == (100, 120)
    assert (comparison.ceiling_baseline, comparison.first_loss_baseline) == (120, 140)
    assert comparison.ceiling_ratio == pytest.approx(0.833)
    assert [s.rate for s in comparison.steps] == [60, 80, 100, 120]  # 140: the service stopped before it
    # The loss at 120/s found the ceiling; up to 100/s none was lost.
    assert found(runs)["no lost call, up to 100 calls/s"].met is True
    lossy = [*runs[:5], run("service", 0, 60), run("service", 1, 80, lost=1)]
    assert found(lossy)["no lost call, up to 100 calls/s"].value == "1 lost (worst of 2 steps: 80/s)"
    # A path that never lost a call has not found its ceiling: the last rate is a floor, not the ceiling.
    assert verdict.ceiling(runs[:4], "baseline") == (120, None)


def test_records_cpu_and_memory_are_judged_at_their_steps() -> None:
    runs = ramp({20: {"inconsistent": 2}, 40: {"cpu": 12.0}})
    targets = found(runs)
    assert targets["records consistent, every step"].met is False
    assert targets["records consistent, every step"].value == "2 inconsistent (worst of 7 steps: 20/s)"
    # A ramp's step offers its calls for seconds, and its quiet end pulls the average down: CPU is not judged there.
    assert targets[CPU_TARGET].met is None
    sustained = [run("baseline", 0, 40, calls=1200), run("service", 0, 40, calls=1200, cpu=31.0)]
    cpu = found(sustained)[CPU_TARGET]
    assert (cpu.met, cpu.value, cpu.judged_at, cpu.missed_at) == (False, "31 %", [40], [40])
    light = [run("baseline", 0, 40, calls=1200), run("service", 0, 40, calls=1200, cpu=24.0)]
    assert found(light)[CPU_TARGET].met is True
    assert targets["service memory, 1,000 calls in progress"].met is None
    thousand = [run("service", 0, 20, service_calls=1000, rss=150.0)]
    assert found(thousand)["service memory, 1,000 calls in progress"].value == "150 MB"
    assert found(thousand)["service memory, 1,000 calls in progress"].met is True
    # A step the target names but could not measure fails it: no silent pass.
    unmeasured = [run("baseline", 0, 40, calls=1200), run("service", 0, 40, calls=1200)]
    assert found(unmeasured)[CPU_TARGET].met is False


def report_of(runs: list[maths.RunResult]) -> verdict.Report:
    comparison = verdict.compare(runs)
    return verdict.Report(
        run_id="Labcdef",
        profile={"name": "ramp"},
        started_at="2026-11-22T00:00:00+00:00",
        machine={},
        runs=runs,
        comparison=comparison,
        targets=verdict.targets(runs, comparison),
    )


def test_the_report_renders_the_steps_the_ceilings_and_the_targets_and_as_json_with_every_field() -> None:
    report = report_of(ramp({100: {"lost": 1}}))
    table = verdict.render_table(report)
    for label in ("calls offered", "LOST", "intake ms p50/95/99", "records consistent", "service CPU", "min 1"):
        assert label in table, label
    assert "ceiling, service:         80/s (first lost or failed call at 100/s)" in table
    assert "ceiling, Asterisk alone:  no lost or failed call up to the last step (100/s)" in table
    # The step that missed, not every step judged (which read as a miss at each).
    assert "1 lost (worst of 7 steps: 100/s)           NOT MET at 100/s (of 7 steps judged)" in table
    assert "met at 5/s, 10/s, 20/s, 40/s, 60/s, 80/s, 100/s" in table
    data = json.loads(report.model_dump_json())
    assert set(data["runs"][0]) == set(maths.RunResult.model_fields)
    assert set(data["comparison"]["steps"][0]) == set(verdict.StepComparison.model_fields)


def test_the_report_gives_the_services_cpu_over_sipps_for_runs_that_measured_both() -> None:
    runs = [
        run("baseline", 0, 40, sipp_cpu=8.0),
        run("service", 0, 40, cpu=16.4, sipp_cpu=8.0),
        run("service", 1, 60, cpu=20.0),  # SIPp's CPU not sampled: no ratio
    ]
    table = verdict.render_table(report_of(runs))
    [row] = [line for line in table.splitlines() if line.startswith("service CPU / SIPp CPU")]
    assert row.split()[5:] == ["-", "2.05", "-"]


def test_the_report_counts_the_invites_callers_had_to_send_again() -> None:
    # 301 retransmissions: a run where PJSIP ignored new calls while the ARI app's event queue was over its
    # high-water mark (BENCHMARKS.md, eleventh slice). A run whose SIPp statistics were not read shows "-".
    ignored = run("service", 0, 40).model_copy(update={"sipp": {"Retransmissions": 301.0}})
    runs = [run("baseline", 0, 40).model_copy(update={"sipp": {"Retransmissions": 0.0}}), ignored]
    unread = run("service", 1, 60)
    table = verdict.render_table(report_of([*runs, unread]))
    [row] = [line for line in table.splitlines() if line.startswith("SIP retransmissions by callers")]
    assert row.split()[4:] == ["0", "301", "-"]


LATE = "ntpd112_event_loop_late_seconds_bucket"


def loop_scrape(counts: dict[str, float]) -> dict[str, float]:
    """A scrape of the service's lateness histogram: cumulative count per bucket bound (as parse_metrics keys it)."""
    return {f"{LATE}{{le={bound}}}": count for bound, count in counts.items()}


def test_the_event_loops_lateness_in_a_step_is_read_from_the_histograms_growth_between_two_scrapes() -> None:
    before = loop_scrape({"0.001": 500, "0.005": 500, "0.05": 500, "2.5": 500, "+Inf": 500})
    # In the step: 100 timers, 90 on time (<= 1 ms), 5 within 5 ms, 4 within 50 ms, 1 past the last bound.
    after = loop_scrape({"0.001": 590, "0.005": 595, "0.05": 599, "2.5": 599, "+Inf": 600})
    late = maths.histogram_percentiles(before, after, "ntpd112_event_loop_late_seconds")
    assert late == maths.Percentiles(n=100, p50=1.0, p95=5.0, p99=50.0, max=2500.0)
    assert maths.histogram_percentiles(after, after, "ntpd112_event_loop_late_seconds") is None
    assert maths.histogram_percentiles({}, {}, "ntpd112_event_loop_late_seconds") is None


def test_the_report_shows_the_service_event_loops_lateness_as_bucket_bounds() -> None:
    late = maths.Percentiles(n=300, p50=1.0, p95=2.5, p99=25.0, max=50.0)
    runs = [run("baseline", 0, 40), run("service", 0, 40).model_copy(update={"event_loop_late_ms": late})]
    table = verdict.render_table(report_of(runs))
    [row] = [line for line in table.splitlines() if line.startswith("service event loop late ms")]
    assert row.split()[6:] == ["-", "<=1", "/", "<=2.5", "/", "<=25"]


def test_the_report_gives_the_part_of_intake_spent_waiting_for_asterisks_continue() -> None:
    service = run("service", 0, 40, intake_ms=90)
    split = maths.latency(service.calls, [90.0] * 100, [70.0] * 100)
    runs = [run("baseline", 0, 40), service.model_copy(update={"latency": split})]
    table = verdict.render_table(report_of(runs))
    [row] = [line for line in table.splitlines() if line.startswith("intake: Asterisk's continue ms")]
    assert row.split()[5:] == ["-", "70", "/", "70", "/", "70"]


def test_the_report_says_how_short_of_cpu_the_machine_was_from_the_kernels_pressure_stall_counter() -> None:
    proc_pressure_cpu = (
        "some avg10=5.36 avg60=14.41 avg300=28.19 total=1354549518\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    assert cpu_stall_microseconds(proc_pressure_cpu) == 1354549518
    assert cpu_stall_microseconds("full avg10=0.00 total=0\n") is None
    # Three seconds: tasks waited for a core 0.2 s, then 0.9 s, then 0.1 s of each second.
    stalls = [(T0, 5_000_000), (T0 + 1, 5_200_000), (T0 + 2, 6_100_000), (T0 + 3, 6_200_000)]
    assert cpu_pressure(stalls) == maths.CpuPressure(avg_percent=40.0, max_percent=90.0)
    assert cpu_pressure(stalls[:1]) is None
    service = run("service", 0, 10).model_copy(update={"cpu_pressure": cpu_pressure(stalls)})
    table = verdict.render_table(report_of([run("baseline", 0, 10), service]))
    [row] = [line for line in table.splitlines() if line.startswith("machine short of CPU avg/max %")]
    assert row.split()[6:] == ["-", "40/90"]


def test_the_cpu_stall_counter_is_stamped_when_it_is_read_not_when_the_sample_began(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pressure_file = tmp_path / "cpu"
    pressure_file.write_text("some avg10=0.00 avg60=0.00 avg300=0.00 total=7000000\n")
    monkeypatch.setattr(collect, "CPU_PRESSURE_FILE", pressure_file)
    clock = iter([100.0, 103.5])  # reading the processes took 3.5 s on a saturated machine
    monkeypatch.setattr(collect.time, "time", lambda: next(clock))
    sampler = collect.ResourceSampler({})
    sampler.sample()
    assert sampler.cpu_stalls == [(103.5, 7000000)]
