"""The load test's maths: outcomes from SIPp log lines, percentiles, counts, records; profiles and population."""

from __future__ import annotations

import json

import pytest

from ntpd112.devtools.loadtest import report as maths
from ntpd112.devtools.loadtest.population import plan_calls
from ntpd112.devtools.loadtest.profiles import BUILTIN, Profile, ProfileError, Ramp, load_profile
from ntpd112.devtools.loadtest.verdict import CPU_RATE, CPU_SUSTAINED_SECONDS

T0 = 1_795_000_000


def caller_log(*lines: tuple[str, str, float]) -> list[str]:
    return [f"{event} {tag} {int(T0 + at)}.000000 {round((at % 1) * 1e6)}.000000" for event, tag, at in lines]


def phone_line(role: str, tag: str, at: float) -> str:
    return f'connected {role} {T0 + int(at)}.000000 {round((at % 1) * 1e6)}.000000  "Budi {tag}" <sip:+62812@x>;tag=1'


A, B, C, D, E = (f"Labcdefs00-0000{n}" for n in range(5))


def traces_and_connects() -> tuple[dict[str, maths.CallerTrace], dict[str, maths.Connect]]:
    traces = maths.parse_caller_log(
        [
            *caller_log(("invite", A, 0.0), ("answered", A, 0.05), ("callerbye", A, 30.0)),
            *caller_log(("invite", B, 1.0), ("answered", B, 1.1), ("callerbye", B, 5.0)),  # gave up waiting
            *caller_log(("invite", C, 2.0), ("failed", C, 2.01)),
            *caller_log(("invite", D, 3.0), ("answered", D, 3.2), ("netbye", D, 9.0)),  # dropped by the network
            *caller_log(("invite", E, 4.0), ("answered", E, 4.1), ("netbye", E, 70.0)),
            "garbage line",
        ]
    )
    connects = maths.parse_phone_log(
        [phone_line("operator", A, 2.0), phone_line("agency", E, 65.0), phone_line("operator", "Lother-1", 1)]
    )
    return traces, connects


def test_every_offered_call_gets_exactly_one_outcome_and_the_counts_add_up() -> None:
    traces, connects = traces_and_connects()
    planned = [(tag, "patient") for tag in (A, B, C, D, E, "Labcdefs00-00099")]  # the last was never placed
    rows = maths.call_rows(planned, traces, connects)
    assert [r.outcome for r in rows] == ["answered", "abandoned", "failed", "lost", "overflow_answered"]
    counts = maths.count(len(planned), rows)
    assert counts.model_dump() == {
        "planned": 6,
        "offered": 5,
        "answered": 1,
        "overflow_answered": 1,
        "abandoned": 1,
        "failed": 1,
        "vanished": 0,
        "lost": 1,
    }
    assert counts.adds_up
    assert not counts.model_copy(update={"lost": 0}).adds_up


def test_latencies_are_measured_per_call_from_the_invite() -> None:
    traces, connects = traces_and_connects()
    rows = {r.tag: r for r in maths.call_rows([(A, "k"), (D, "k")], traces, connects)}
    assert rows[A].invite_to_answer_ms == pytest.approx(50, abs=0.01)
    assert rows[A].time_to_operator_ms == pytest.approx(2000, abs=0.01)
    assert rows[A].queue_wait_ms == pytest.approx(1950, abs=0.01)
    assert rows[D].time_to_operator_ms is None
    assert rows[A].ended_at == pytest.approx(T0 + 30)


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 101))
    result = maths.percentiles(reversed(values))
    assert (result.n, result.p50, result.p95, result.p99, result.max) == (100, 50, 95, 99, 100)
    assert maths.percentiles([7.0]).p99 == 7.0
    assert maths.percentiles([]).model_dump() == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    assert maths.percentile([1, 2, 3, 4], 50) == 2


def test_throughput_and_calls_in_progress() -> None:
    rows = [
        maths.CallRow(
            tag=f"t{n}",
            kind="k",
            outcome="answered",
            invite_at=T0 + n,
            ended_at=T0 + n + 2.5,
            invite_to_answer_ms=100,
            time_to_operator_ms=None,
            queue_wait_ms=None,
        )
        for n in range(5)
    ]
    assert maths.throughput(rows) == pytest.approx(5 / 4.1, abs=0.001)
    active = dict(maths.active_over_time(rows))
    assert active[0.0] == 1 and active[2.0] == 3 and active[6.0] == 1 and max(active.values()) == 3


def test_records_check_names_missing_duplicated_and_incomplete_calls() -> None:
    good = ["offered", "answered", "queued", "queue_joined", "ended", "operator_call_completed"]
    result = maths.check_records(
        ["a", "b", "c", "d", "e"],
        {"a": [good], "c": [good, good], "d": [["answered", "ended"]], "e": [["offered", "queued"]]},
    )
    assert (result.checked, result.consistent, result.missing, result.duplicated, result.incomplete_timeline) == (
        5,
        1,
        1,
        1,
        2,
    )
    assert not result.all_consistent
    assert result.examples[0] == "b: no call record"


def test_profiles_builtin_and_from_files(tmp_path: pytest.TempPathFactory) -> None:
    assert {"steady", "steady-short", "surge", "prank-flood", "ramp", "sustained", "thousand"} <= set(BUILTIN)
    # The CPU target's step, held long enough to be judged (verdict.CPU_SUSTAINED_SECONDS).
    assert BUILTIN["sustained"].calls / BUILTIN["sustained"].rate >= CPU_SUSTAINED_SECONDS
    assert BUILTIN["sustained"].rate == CPU_RATE
    assert Ramp(start_rate=5, step_rate=5, max_rate=20).rates() == [5, 10, 15, 20]
    assert Ramp(steps=(5, 10, 40)).rates() == [5, 10, 40]
    assert BUILTIN["ramp"].rates()[:7] == [5, 10, 20, 40, 60, 80, 100]  # the rates the targets name, then on
    for mixed in ({"steps": [5, 10], "max_rate": 20}, {"steps": [10, 5]}, {"start_rate": 5}):
        with pytest.raises(ValueError, match="steps"):
            Ramp.model_validate(mixed)
    toml = tmp_path / "mine.toml"  # type: ignore[operator]
    toml.write_text(
        'name = "mine"\nrate = 2\ncalls = 10\noperators = 2\n[callers.patient]\nshare = 1\nhang_up_after_seconds = 9\n'
    )
    assert load_profile(str(toml)).rate == 2
    bad = tmp_path / "bad.json"  # type: ignore[operator]
    bad.write_text(json.dumps({"name": "bad", "rate": 2, "calls": 10, "operators": 99, "callers": {}}))
    with pytest.raises(ProfileError, match="operators"):
        load_profile(str(bad))
    with pytest.raises(ProfileError, match="no built-in profile"):
        load_profile("nonexistent")


def test_the_population_has_distinct_tags_few_numbers_for_a_prank_flood_and_no_csv_separators() -> None:
    flood = BUILTIN["prank-flood"]
    planned = plan_calls(flood, "Labcdefs00")
    assert len(planned) == flood.calls and len({p.tag for p in planned}) == flood.calls
    assert len({p.caller.number for p in planned}) <= 10
    for call in planned:
        assert maths.TAG_RE.fullmatch(call.tag)
        assert call.csv_line().count(";") == 5
        assert call.caller.cell == "" or len(call.caller.cell) == 16
    assert plan_calls(flood, "Labcdefs00") == planned  # reproducible
    mixed = Profile.model_validate(BUILTIN["steady"].model_dump() | {"calls": 400})
    kinds = {p.kind for p in plan_calls(mixed, "Labcdefs01")}
    assert kinds == {"patient", "impatient", "silent"}


def test_callers_who_hold_past_the_media_timeout_send_audio() -> None:
    # steady: patient callers hold 120 s, impatient ones 30 s, silent ones 4 s; the media timeout ends a call
    # whose caller sends no audio for 30 s.
    mixed = Profile.model_validate(BUILTIN["steady"].model_dump() | {"calls": 200})
    planned = plan_calls(mixed, "Labcdefs02", media_timeout_seconds=30)
    by_kind = {kind: {p.sends_audio for p in planned if p.kind == kind} for kind in ("patient", "impatient", "silent")}
    assert by_kind == {"patient": {True}, "impatient": {True}, "silent": {False}}
    assert {p.csv_line().rsplit(";", 1)[1] for p in planned} == {"0", "1"}
    assert not any(p.sends_audio for p in plan_calls(mixed, "Labcdefs02"))
