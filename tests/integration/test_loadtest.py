"""`ntpd112 loadtest` checked on itself: a small, short profile through Asterisk alone and through the service,
with one waiting caller hung up by Asterisk on purpose. Loopback only, a few calls, well under a minute a path."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.devtools.loadtest.profiles import CallerClass, Profile
from ntpd112.devtools.loadtest.report import Counts, RunResult
from ntpd112.devtools.loadtest.runner import LoadTest
from ntpd112.devtools.loadtest.verdict import Report
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.store.models import Operator
from tests.integration.conftest import service_settings

PROFILE = Profile(
    name="harness-check",
    rate=6,
    calls=6,
    operators=2,
    ring_ms=200,
    talk_seconds=1,
    callers={"patient": CallerClass(share=1, hang_up_after_seconds=2)},
    drop_calls=1,
)


async def test_the_harness_counts_every_call_and_reports_a_dropped_one_as_lost(
    local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    settings = service_settings(clean_database, tmp_path / "spool")
    report = await LoadTest(PROFILE, settings, local_asterisk, tmp_path).run()

    assert [run.path for run in report.runs] == ["baseline", "service"]
    for run in report.runs:
        counts = run.counts
        assert counts.adds_up, counts
        assert counts.planned == counts.offered == 6, counts
        # Two operators, six callers: some are answered, the one Asterisk hung up on while it waited is lost.
        assert counts.lost == 1 and len(run.lost_tags) == 1, counts
        assert counts.answered >= 2 and counts.failed == 0, counts
        assert run.latency.invite_to_answer_ms.n == 6
        assert run.latency.time_to_operator_ms.n == counts.answered
        assert {"asterisk", "postgresql", "sipp"} <= set(run.resources)
    service = report.runs[1]
    assert service.records is not None and service.records.all_consistent, service.records
    assert service.records.checked == 6
    assert service.latency.intake_ms is not None and service.latency.intake_ms.n >= 5
    assert service.latency.intake_continue_ms is not None
    assert service.latency.intake_continue_ms.n == service.latency.intake_ms.n
    assert service.event_loop_late_ms is not None and service.event_loop_late_ms.n > 0
    assert "service" in service.resources and service.metrics["ntpd112_calls_offered_total"] >= 6
    assert report.targets[0].name == "no lost call, up to 100 calls/s" and report.targets[0].met is False
    assert report.targets[0].judged_at == [PROFILE.rate]
    assert [step.rate for step in report.comparison.steps] == [PROFILE.rate]

    data = json.loads(report.model_dump_json())
    assert set(data) == set(Report.model_fields)
    assert set(data["runs"][0]) == set(RunResult.model_fields)
    assert set(data["runs"][0]["counts"]) == set(Counts.model_fields)

    # Nothing is left behind: no load operator in the directory or the queue.
    engine = create_async_engine(clean_database)
    async with engine.connect() as connection:
        assert (await connection.execute(select(Operator.username))).all() == []
    await engine.dispose()
    assert "PJSIP/load" not in local_asterisk.cli("queue show ntpd112-operators")


async def test_load_callers_who_hold_past_the_media_timeout_send_audio_and_keep_their_calls(
    short_media_timeout: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    # Nobody answers within the callers' 5 s (the phone rings 30 s): every caller waits, then hangs up. Past the
    # 2 s media timeout, a caller without audio would be released by Asterisk and count as lost.
    waiting = PROFILE.model_copy(
        update={
            "name": "audio-check",
            "calls": 3,
            "operators": 1,
            "ring_ms": 30_000,
            "drop_calls": 0,
            "baseline": False,
            "callers": {"patient": CallerClass(share=1, hang_up_after_seconds=5)},
        }
    )
    settings = service_settings(clean_database, tmp_path / "spool")
    report = await LoadTest(waiting, settings, short_media_timeout, tmp_path).run()
    (run,) = report.runs
    assert run.counts.abandoned == run.counts.offered == 3, run.counts
