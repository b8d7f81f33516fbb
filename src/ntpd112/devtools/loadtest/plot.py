"""The PNG: one row per rate. Left, both paths' INVITE-to-answer of every call on one axis (Asterisk alone and
through the service, against when the call was placed), and the lost calls; right, both paths' calls in progress."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here, and none needed

import matplotlib.pyplot as plt

from ntpd112.devtools.loadtest.report import RunResult
from ntpd112.devtools.loadtest.verdict import Report

COLOURS = {"baseline": "tab:blue", "service": "tab:orange"}
LABELS = {"baseline": "Asterisk alone", "service": "through the service"}


def _answer_latency(run: RunResult) -> tuple[list[float], list[float], list[float]]:
    """(seconds into the run, INVITE-to-answer ms) of the answered calls, and when the lost calls were placed."""
    start = min((c.invite_at for c in run.calls if c.invite_at), default=run.started_at)
    answered = [
        (c.invite_at - start, c.invite_to_answer_ms) for c in run.calls if c.invite_at and c.invite_to_answer_ms
    ]
    lost = [c.invite_at - start for c in run.calls if c.outcome == "lost" and c.invite_at]
    return [t for t, _ in answered], [ms for _, ms in answered], lost


def write_plot(report: Report, path: Path) -> None:
    by_rate: dict[float, list[RunResult]] = defaultdict(list)
    for run in report.runs:
        by_rate[run.rate].append(run)
    rates = sorted(by_rate)
    figure, axes = plt.subplots(len(rates), 2, figsize=(13, 3.2 * len(rates)), squeeze=False)
    for (latency, active), rate in zip(axes, rates, strict=True):
        for run in sorted(by_rate[rate], key=lambda r: r.path):
            colour, label = COLOURS[run.path], LABELS[run.path]
            seconds, ms, lost = _answer_latency(run)
            p99 = run.latency.invite_to_answer_ms.p99
            if seconds:
                latency.scatter(seconds, ms, s=8, color=colour, label=f"{label} (p99 {p99:g} ms)")
            if lost:
                latency.scatter(lost, [1] * len(lost), s=30, color=colour, marker="v", label=f"{label}: lost")
            if run.active_calls:
                active.plot(*zip(*run.active_calls, strict=True), color=colour, label=f"{label}")
        latency.set_yscale("log")
        latency.set_xlabel("seconds into the step (INVITE sent)")
        latency.set_ylabel("INVITE to answer, ms")
        latency.set_title(f"{rate:g} calls/s: answer latency, both paths")
        latency.legend(loc="upper left", fontsize="small")
        active.set_xlabel("seconds into the step")
        active.set_ylabel("calls in progress")
        # Asterisk alone first, as in the legend.
        peaks = " / ".join(str(r.peak_active_calls) for r in sorted(by_rate[rate], key=lambda r: r.path))
        active.set_title(f"{rate:g} calls/s: calls in progress (peak {peaks})")
        active.legend(loc="upper left", fontsize="small")
    # The title a fixed height from the top, above the rows, however many rows there are.
    height = figure.get_figheight()
    figure.suptitle(f"ntpd112 load test {report.run_id}: {report.profile['name']}", y=1 - 0.15 / height)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.4 / height))
    figure.savefig(path, dpi=90)
    plt.close(figure)
