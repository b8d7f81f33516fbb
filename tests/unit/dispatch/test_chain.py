"""Walking a dispatch chain: attempts from targets, outcomes from hangup causes, the order of fallbacks."""

from __future__ import annotations

import pytest

from ntpd112.routing.agencies import ExternalNumber, HuntGroup, RingStrategy
from ntpd112.routing.chain import ChainWalk, Outcome, plan_attempts, unanswered_outcome
from ntpd112.routing.matching import RouteStep


def _steps() -> list[RouteStep]:
    desk = HuntGroup(id="psc-desk", agency="psc119", endpoints=["psc1", "psc2"], timeout=20)
    linear = HuntGroup(id="rsud-desk", agency="rsud", endpoints=["rsud1", "rsud2"], strategy=RingStrategy.LINEAR)
    number = ExternalNumber(id="psc-119", agency="psc119", number="119", trunk="agency-trunk")
    return [
        RouteStep(target=desk, timeout=7, rule_id="medical"),
        RouteStep(target=number, timeout=5, rule_id="medical"),
        RouteStep(target=linear, timeout=9, rule_id=None),
    ]


def test_ringall_rings_every_desk_at_once_linear_one_after_the_other_numbers_go_through_the_trunk() -> None:
    attempts = plan_attempts(_steps())
    assert [a.devices for a in attempts] == [
        ("PJSIP/psc1", "PJSIP/psc2"),
        ("PJSIP/119@agency-trunk",),
        ("PJSIP/rsud1",),
        ("PJSIP/rsud2",),
    ]
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    assert [a.timeout for a in attempts] == [7, 5, 9, 9]  # the chain step's timeout wins over the target's
    assert [a.step for a in attempts] == [0, 1, 2, 2]


@pytest.mark.parametrize(
    ("causes", "timed_out", "expected"),
    [
        ([17], False, Outcome.BUSY),
        ([17, 17], False, Outcome.BUSY),
        ([17, 19], False, Outcome.NO_ANSWER),
        ([17, 34], False, Outcome.FAILED),
        ([0], False, Outcome.FAILED),
        ([], False, Outcome.FAILED),
        ([17], True, Outcome.NO_ANSWER),
        ([], True, Outcome.NO_ANSWER),
        ([18], False, Outcome.NO_ANSWER),
    ],
)
def test_outcome_of_an_unanswered_attempt(causes: list[int], timed_out: bool, expected: Outcome) -> None:
    assert unanswered_outcome(causes, timed_out=timed_out) is expected


def test_busy_and_no_answer_fall_back_until_one_answers() -> None:
    walk = ChainWalk.of(_steps())
    first = walk.next_attempt()
    assert first is not None and walk.current is first
    with pytest.raises(RuntimeError):
        walk.next_attempt()  # the first one still rings
    walk.record(first, Outcome.BUSY)
    second = walk.next_attempt()
    assert second is not None and second.target_id == "psc-119"
    walk.record(second, Outcome.NO_ANSWER)
    third = walk.next_attempt()
    assert third is not None
    walk.record(third, Outcome.ANSWERED)
    assert walk.finished and walk.answered is third
    assert walk.next_attempt() is None
    assert [o for _, o in walk.outcomes] == [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.ANSWERED]


def test_an_exhausted_chain_is_finished_without_an_answer() -> None:
    walk = ChainWalk.of(_steps()[1:2])
    only = walk.next_attempt()
    assert only is not None and not walk.finished
    walk.record(only, Outcome.FAILED)
    assert walk.finished and walk.answered is None and walk.next_attempt() is None


def test_cancelling_stops_the_walk_and_stale_outcomes_are_refused() -> None:
    walk = ChainWalk.of(_steps())
    first = walk.next_attempt()
    assert first is not None
    walk.record(first, Outcome.CANCELLED)
    assert walk.finished and walk.next_attempt() is None
    with pytest.raises(RuntimeError):
        walk.record(first, Outcome.ANSWERED)
