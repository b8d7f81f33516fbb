"""The fault harness's short variants (issue 13, item 3): each fault injected under a small steady load of SIPp
callers through the real service, Asterisk and PostgreSQL; the targets asserted, not just run: no call lost but
those the restarted Asterisk dropped, every one of those and every vanished caller on the callback list with its
number, every record present, consistent and complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntpd112.devtools.loadtest.profiles import FAULTS, CallerClass, Fault, Profile
from ntpd112.devtools.loadtest.runner import LoadTest
from ntpd112.devtools.loadtest.verdict import render_table
from ntpd112.devtools.local_asterisk import LocalAsterisk
from tests.integration.conftest import service_settings

# 12 callers in 5 s, each holding 6 s, into 3 operators: some answered, some waiting, some giving up, when the
# fault comes 2 s in. SIPp places a call every 0.4 s from 0.4 s on, so the restart meets the 5th INVITE within about
# 10 ms: taken in and dropped, refused with a 503, or left unanswered until its retransmission reaches the restarted
# Asterisk (then it is a call like any other, not a dropped one: devtools/loadtest/faults.dropped_by_asterisk).
SHORT = Profile(
    name="chaos-check",
    rate=2.5,
    calls=12,
    operators=3,
    ring_ms=300,
    talk_seconds=3,
    callers={"patient": CallerClass(share=1, hang_up_after_seconds=6)},
    baseline=False,
    fault_at_seconds=2.0,
    fault_down_seconds=1.5,
)


async def _run(profile: Profile, asterisk: LocalAsterisk, database: str, tmp_path: Path) -> None:
    report = await LoadTest(profile, service_settings(database, tmp_path / "spool"), asterisk, tmp_path).run()
    (tmp_path / "report.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    print(render_table(report))  # in the failure's captured output
    (run,) = report.runs
    fault = run.fault
    assert fault is not None and fault.fault == profile.fault
    assert run.counts.adds_up, run.counts
    assert run.records is not None and run.records.all_consistent, (run.records, *run.records.examples)
    assert fault.met, fault
    assert not fault.refused or profile.fault == "asterisk-restart", fault.refused
    if profile.fault == "asterisk-restart":
        assert fault.dropped, "the restart dropped no call: it came too late to test anything"
    elif profile.fault == "caller-vanish":
        assert fault.vanished, "no caller was in a call when the phones died"
        assert run.counts.vanished + run.counts.answered >= len(fault.vanished)
        # The operators talk past the media timeout here: every dead line is released by it and called back.
        assert fault.vanished_on_callback_list == len(fault.vanished), fault
    else:
        assert run.counts.offered == profile.calls and run.counts.lost == 0, run.counts


@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "caller-vanish"])
async def test_under_the_fault_no_call_is_lost_and_every_record_is_complete(
    fault: Fault, local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    await _run(SHORT.model_copy(update={"fault": fault}), local_asterisk, clean_database, tmp_path)


async def test_callers_whose_phones_die_are_released_and_called_back(
    short_media_timeout: LocalAsterisk, clean_database: str, tmp_path: Path
) -> None:
    # The operators talk longer than the 2 s media timeout: every vanished caller is released by it, not by an
    # operator hanging up, and must be on the callback list.
    profile = SHORT.model_copy(update={"fault": "caller-vanish", "talk_seconds": 15})
    await _run(profile, short_media_timeout, clean_database, tmp_path)
