"""The fault harness's verdict (pure): which calls a restarted Asterisk dropped or refused, which callers
vanished, who is on the callback list, and what a record lacks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ntpd112.devtools.loadtest import faults
from ntpd112.devtools.loadtest import report as maths
from ntpd112.devtools.loadtest.population import Caller as PlannedCaller
from ntpd112.devtools.loadtest.population import PlannedCall, numbers_to_tags
from ntpd112.devtools.loadtest.profiles import Profile

T0 = 1_795_000_000.0


def row(
    tag: str, outcome: maths.Outcome, invite: float, ended: float | None, answered: bool = True, answer_ms: float = 50.0
) -> maths.CallRow:
    return maths.CallRow(
        tag=tag,
        kind="patient",
        outcome=outcome,
        invite_at=T0 + invite,
        ended_at=None if ended is None else T0 + ended,
        invite_to_answer_ms=answer_ms if answered else None,
        time_to_operator_ms=None,
        queue_wait_ms=None,
    )


def record(**changes: object) -> maths.RecordFields:
    values: dict[str, object] = {
        "caller_name": "Budi Lx-00000",
        "caller_number_raw": "081234567890",
        "caller_number": "+6281234567890",
        "trunk": "telkomsel",
        "carrier": "Telkomsel",
        "dialed_number": "112",
        "offered": True,
        "answered": True,
        "ended": True,
        "handled_by": "service",
        "callback_status": None,
    }
    return maths.RecordFields(**(values | changes))  # type: ignore[arg-type]


RESTART = faults.FaultWindow("asterisk-restart", T0 + 10, T0 + 14, "restarted", T0 + 10.05, T0 + 10.2)
ROWS = [
    row("a", "answered", 1, 8),  # ended before the restart: not dropped
    row("h", "answered", 2, 9.7),  # an operator ended it just before the stop: not dropped
    row("b", "answered", 5, 10.1),  # talking when Asterisk stopped
    row("c", "lost", 9, 10.1),  # waiting when Asterisk stopped
    row("d", "lost", 10.1, 10.15),  # taken in while the stop ran, then dropped
    # Sent as the stop began, unanswered; its retransmission reached the restarted Asterisk: a call like any other.
    row("i", "answered", 10.12, 25, answer_ms=4500),
    row("e", "failed", 10.5, 10.5, answered=False),  # refused while Asterisk was down
    row("f", "answered", 15, 30),  # after the restart
    row("g", "lost", 16, 20),  # lost after the restart: the room's fault
]


def test_a_restart_drops_the_calls_in_progress_and_refuses_those_placed_while_it_is_down() -> None:
    assert faults.dropped_by_asterisk(RESTART, ROWS) == ["b", "c", "d"]
    assert faults.refused_while_down(RESTART, ROWS) == ["e"]


def test_every_dropped_caller_must_be_on_the_callback_list_with_a_number_and_no_other_call_lost() -> None:
    listed = {tag: [record(callback_status="pending")] for tag in "bcd"}
    outcome = faults.judge(RESTART, ROWS, listed | {"b": [record(callback_status="pending", caller_number=None)]})
    assert outcome.dropped == ["b", "c", "d"]
    assert outcome.dropped_off_callback_list == ["b"]  # listed, but with no number to call back
    assert outcome.unexpected_lost == ["g"]
    assert outcome.refused == ["e"]
    assert not outcome.met
    clean = faults.judge(RESTART, ROWS[:-1], listed)
    assert clean.met and clean.unexpected_lost == [] and clean.dropped_off_callback_list == []


def test_vanished_callers_are_not_lost_and_must_be_called_back() -> None:
    window = faults.FaultWindow("caller-vanish", T0 + 10, None, "killed")
    rows = [row("a", "answered", 1, 8), row("b", "lost", 5, None), row("c", "answered", 6, None)]
    marked = faults.mark_vanished(rows, faults.vanished_calls(rows))
    assert [r.outcome for r in marked] == ["answered", "vanished", "answered"]
    assert maths.count(3, marked).vanished == 1 and maths.count(3, marked).adds_up
    # c: an operator was talking to the caller and ended the call before the media timeout: no callback owed.
    outcome = faults.judge(window, marked, {"b": [record(callback_status="pending")], "c": [record()]})
    assert outcome.vanished == ["b", "c"] and outcome.vanished_off_callback_list == []
    assert outcome.vanished_on_callback_list == 1 and outcome.unexpected_lost == [] and outcome.met
    # b waited for an operator: released, but not called back; c's record was never closed.
    outcome = faults.judge(window, marked, {"b": [record()], "c": [record(ended=False)]})
    assert outcome.vanished_off_callback_list == ["b"] and outcome.vanished_not_released == ["c"]
    assert not outcome.met


def test_a_record_lacks_what_the_caller_saw_happen() -> None:
    answered = row("a", "answered", 1, 8)
    assert maths.missing_fields(record(), answered) == []
    lacking = record(caller_name=None, trunk=None, answered=False, handled_by=None, ended=False)
    assert maths.missing_fields(lacking, answered) == ["caller_name", "trunk", "ended_at", "answered_at", "handled_by"]
    # Nobody answered, the network never did: no answer time or handler is owed.
    abandoned = row("b", "abandoned", 1, 8, answered=False)
    assert maths.missing_fields(record(answered=False, handled_by=None), abandoned) == []


def test_records_incomplete_are_not_consistent() -> None:
    rows = [row("a", "answered", 1, 8), row("b", "answered", 2, 9)]
    timelines = {"a": [["offered", "ended"]], "b": [["offered", "ended"]]}
    check = maths.check_records(["a", "b"], timelines, {"a": [record()], "b": [record(carrier=None)]}, rows)
    assert (check.consistent, check.incomplete_fields, check.examples) == (1, 1, ["b: record lacks carrier"])
    assert maths.check_records(["a", "b"], timelines).all_consistent  # without fields: timelines only


def test_a_record_without_its_display_name_is_found_by_its_number_raw_or_e164() -> None:
    caller = PlannedCaller("081234567890", "Budi", "")
    planned = [PlannedCall("Lx-00000", "patient", caller, 1000)]
    assert numbers_to_tags(planned) == {"081234567890": "Lx-00000", "+6281234567890": "Lx-00000"}


def test_a_fault_run_has_no_baseline_and_no_ramp() -> None:
    callers = {"p": {"share": 1, "hang_up_after_seconds": 1}}
    base = {"name": "f", "rate": 1, "calls": 1, "operators": 1, "callers": callers}
    assert Profile.model_validate(base | {"fault": "ami-cut", "baseline": False}).fault == "ami-cut"
    for bad in ({"fault": "ami-cut"}, {"fault": "nope", "baseline": False}):
        with pytest.raises(ValidationError):
            Profile.model_validate(base | bad)
