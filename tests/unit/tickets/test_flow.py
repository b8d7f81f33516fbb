"""The ticket flow: every (from, to, actor) triple is either in the table of allowed moves below or refused."""

from __future__ import annotations

import itertools

import pytest

from ntpd112.tickets.flow import (
    Actor,
    TicketStatus,
    TransitionRefused,
    actor_of,
    allowed_from,
    check,
    ticket_number,
)

S, A = TicketStatus, Actor

# Written out independently of flow.TRANSITIONS: the specification the table must match.
ALLOWED = {
    (S.NEW, S.SENT, A.SYSTEM),
    (S.NEW, S.SENT, A.OPERATOR),
    (S.NEW, S.SENT, A.SUPERVISOR),
    (S.NEW, S.ACKNOWLEDGED, A.AGENCY),
    (S.NEW, S.ACKNOWLEDGED, A.SYSTEM),
    (S.SENT, S.ACKNOWLEDGED, A.AGENCY),
    (S.SENT, S.ACKNOWLEDGED, A.SYSTEM),
    (S.ACKNOWLEDGED, S.EN_ROUTE, A.AGENCY),
    (S.EN_ROUTE, S.ON_SCENE, A.AGENCY),
    (S.ACKNOWLEDGED, S.RESOLVED, A.AGENCY),
    (S.EN_ROUTE, S.RESOLVED, A.AGENCY),
    (S.ON_SCENE, S.RESOLVED, A.AGENCY),
    (S.RESOLVED, S.CLOSED, A.AGENCY),
    (S.RESOLVED, S.CLOSED, A.SUPERVISOR),
    (S.NEW, S.REJECTED, A.AGENCY),
    (S.SENT, S.REJECTED, A.AGENCY),
    (S.ACKNOWLEDGED, S.REJECTED, A.AGENCY),
    *(
        (status, S.CANCELLED, actor)
        for status in (S.NEW, S.SENT, S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE)
        for actor in (A.OPERATOR, A.SUPERVISOR)
    ),
    (S.RESOLVED, S.ACKNOWLEDGED, A.SUPERVISOR),
    (S.CLOSED, S.ACKNOWLEDGED, A.SUPERVISOR),
}
EVERY = list(itertools.product(TicketStatus, TicketStatus, Actor))


def _given(current: TicketStatus, to: TicketStatus) -> tuple[str | None, str | None]:
    """What a well-formed request brings: a reason where one is needed, a report when closing."""
    reason = "reason" if to in (S.REJECTED, S.CANCELLED) or current in (S.RESOLVED, S.CLOSED) else None
    return reason, ("report" if to is S.CLOSED else None)


@pytest.mark.parametrize(("current", "to", "actor"), sorted(ALLOWED))
def test_allowed_move(current: TicketStatus, to: TicketStatus, actor: Actor) -> None:
    check(current, to, actor, *_given(current, to))
    assert to in allowed_from(current, actor)


@pytest.mark.parametrize(("current", "to", "actor"), [t for t in EVERY if t not in ALLOWED])
def test_refused_move_names_the_allowed_ones(current: TicketStatus, to: TicketStatus, actor: Actor) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(current, to, actor, "reason", "report")
    assert refused.value.kind == "illegal"
    assert to not in refused.value.allowed
    assert set(refused.value.allowed) == {t for (c, t, a) in ALLOWED if c is current and a is actor}


def test_final_statuses_lead_nowhere_but_a_reopen() -> None:
    for actor in Actor:
        assert allowed_from(S.REJECTED, actor) == ()
        assert allowed_from(S.CANCELLED, actor) == ()
        assert allowed_from(S.CLOSED, actor) == ((S.ACKNOWLEDGED,) if actor is A.SUPERVISOR else ())


@pytest.mark.parametrize(
    ("current", "to", "actor"),
    [
        (S.SENT, S.REJECTED, A.AGENCY),
        (S.ON_SCENE, S.CANCELLED, A.OPERATOR),
        (S.CLOSED, S.ACKNOWLEDGED, A.SUPERVISOR),
        (S.RESOLVED, S.ACKNOWLEDGED, A.SUPERVISOR),
    ],
)
@pytest.mark.parametrize("reason", [None, ""])
def test_reason_required(current: TicketStatus, to: TicketStatus, actor: Actor, reason: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(current, to, actor, reason, None)
    assert refused.value.kind == "missing_reason"


@pytest.mark.parametrize("actor", [A.AGENCY, A.SUPERVISOR])
@pytest.mark.parametrize("report", [None, ""])
def test_closing_needs_the_final_report(actor: Actor, report: str | None) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(S.RESOLVED, S.CLOSED, actor, None, report)
    assert refused.value.kind == "missing_report"


def test_forward_moves_need_neither_reason_nor_report() -> None:
    check(S.SENT, S.ACKNOWLEDGED, A.AGENCY, None, None)
    check(S.ON_SCENE, S.RESOLVED, A.AGENCY, None, None)


@pytest.mark.parametrize(
    ("roles", "agency", "expected"),
    [
        (["agency"], "damkar", A.AGENCY),
        (["agency"], "polres", None),  # another agency's ticket: no say at all
        (["operator"], None, A.OPERATOR),
        (["supervisor"], None, A.SUPERVISOR),
        (["admin"], None, A.SUPERVISOR),
        (["operator", "supervisor"], None, A.SUPERVISOR),
        ([], None, None),
    ],
)
def test_actor_of(roles: list[str], agency: str | None, expected: Actor | None) -> None:
    assert actor_of(roles, agency, "damkar") is expected


def test_ticket_number() -> None:
    assert ticket_number(2026, 123) == "112-2026-000123"
    assert ticket_number(2027, 1_234_567) == "112-2027-1234567"
