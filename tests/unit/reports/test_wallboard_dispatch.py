"""A dispatch's state on the wallboard, read from its call's timeline as dispatch/transitions.py writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ntpd112.reports.wallboard import DispatchReading, DispatchState, DispatchStep, dispatch_reading

T0 = datetime(2026, 12, 4, 9, 0, 0, tzinfo=UTC)
CHAIN = {"mode": "blind", "by": "op1", "chain": ["damkar-desk", "damkar-113", "bpbd-desk"]}


def step(seconds: float, kind: str, **data: object) -> DispatchStep:
    return DispatchStep(kind, T0 + timedelta(seconds=seconds), data)


def attempt(seconds: float, number: int, target: str, agency: str) -> DispatchStep:
    return step(seconds, "dispatch_attempt", attempt=number, target=target, agency=agency)


def test_no_dispatch_no_reading() -> None:
    assert dispatch_reading([]) is None
    # An attempt without a request before it (a timeline cut short) is not read as a dispatch.
    assert dispatch_reading([attempt(1, 1, "damkar-desk", "damkar")]) is None


def test_the_chain_walk_rings_attempt_after_attempt_then_an_agency_answers() -> None:
    steps = [step(0, "dispatch_requested", **CHAIN), attempt(0.1, 1, "damkar-desk", "damkar")]
    assert dispatch_reading(steps) == DispatchReading(
        state=DispatchState.RINGING,
        since=T0 + timedelta(seconds=0.1),
        requested_at=T0,
        requested_by="op1",
        mode="blind",
        attempts=3,
        attempt=1,
        target="damkar-desk",
        agency="damkar",
    )
    steps += [step(5, "dispatch_attempt_ended", outcome="busy"), attempt(5.1, 2, "damkar-113", "damkar")]
    second = dispatch_reading(steps)
    assert second is not None
    assert (second.state, second.attempt, second.target, second.since) == (
        DispatchState.RINGING,
        2,
        "damkar-113",
        T0 + timedelta(seconds=5.1),
    )
    steps += [
        attempt(11, 3, "bpbd-desk", "bpbd"),
        step(14, "agency_answered", attempt=3, target="bpbd-desk", agency="bpbd"),
    ]
    answered = dispatch_reading(steps)
    assert answered is not None
    assert (answered.state, answered.attempt, answered.agency, answered.since) == (
        DispatchState.ANSWERED,
        3,
        "bpbd",
        T0 + timedelta(seconds=14),
    )
    # Completed (attended): still answered, the agency talks with the caller.
    assert dispatch_reading([*steps, step(20, "dispatch_completed")]) == answered


def test_an_exhausted_chain_is_failed_and_stays_so_until_a_new_dispatch() -> None:
    steps = [
        step(0, "dispatch_requested", **CHAIN),
        attempt(0.1, 1, "damkar-desk", "damkar"),
        step(6, "dispatch_failed"),
    ]
    failed = dispatch_reading(steps)
    assert failed is not None
    assert (failed.state, failed.since, failed.attempt, failed.agency) == (
        DispatchState.FAILED,
        T0 + timedelta(seconds=6),
        1,
        "damkar",
    )
    # The caller goes back to the queue, or hangs up (the session ends): still failed.
    assert dispatch_reading([*steps, step(7, "caller_requeued")]) == failed
    assert dispatch_reading([*steps, step(9, "dispatch_ended", reason="caller left")]) == failed
    again = dispatch_reading([*steps, step(60, "dispatch_requested", mode="attended", by="op2", chain=["bpbd-desk"])])
    assert again is not None
    assert (again.state, again.attempts, again.attempt, again.requested_by) == (DispatchState.RINGING, 1, None, "op2")


def test_cancelled_stopped_ended_or_left_is_over() -> None:
    started = [step(0, "dispatch_requested", **CHAIN), attempt(0.1, 1, "damkar-desk", "damkar")]
    for closing in ("dispatch_cancelled", "dispatch_stopped", "dispatch_ended", "agency_left"):
        assert dispatch_reading([*started, step(3, closing)]) is None, closing
    # An after-hours rule plays a message and opens a ticket: no dispatch rings.
    after_hours = [step(0, "dispatch_requested", mode="blind", by="op1", chain=[]), step(0.2, "after_hours_message")]
    assert dispatch_reading(after_hours) is None
