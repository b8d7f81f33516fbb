"""The PNG: per run, each call's INVITE-to-answer and time to operator against when it was placed, and the calls
in progress over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display here, and none needed

import matplotlib.pyplot as plt

from ntpd112.devtools.loadtest.report import Report


def write_plot(report: Report, path: Path) -> None:
    runs = report.runs
    figure, axes = plt.subplots(len(runs), 2, figsize=(13, 3.2 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs, strict=True):
        latency, active = row
        start = min((c.invite_at for c in run.calls if c.invite_at), default=run.started_at)
        for field, label, marker in (
            ("invite_to_answer_ms", "INVITE to answer", "."),
            ("time_to_operator_ms", "INVITE to operator", "x"),
        ):
            points = [(c.invite_at - start, getattr(c, field)) for c in run.calls if c.invite_at and getattr(c, field)]
            if points:
                latency.scatter(*zip(*points, strict=True), s=8, marker=marker, label=label)
        lost = [c.invite_at - start for c in run.calls if c.outcome == "lost" and c.invite_at]
        if lost:
            latency.scatter(lost, [1] * len(lost), s=30, color="red", marker="v", label="lost")
        latency.set_yscale("log")
        latency.set_xlabel("seconds into the run (INVITE sent)")
        latency.set_ylabel("ms")
        latency.set_title(f"{run.path} {run.rate:g} calls/s: latency")
        latency.legend(loc="upper left", fontsize="small")
        if run.active_calls:
            active.plot(*zip(*run.active_calls, strict=True), label="in progress (callers)")
        active.set_xlabel("seconds into the run")
        active.set_ylabel("calls")
        active.set_title(f"{run.path} {run.rate:g} calls/s: calls in progress (peak {run.peak_active_calls})")
        active.legend(loc="upper left", fontsize="small")
    figure.suptitle(f"ntpd112 load test {report.run_id}: {report.profile['name']}")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
