"""A ticket's status flow and who may make which transition (pure: no I/O).

    new -> sent -> acknowledged -> en_route -> on_scene -> resolved -> closed
    new | sent | acknowledged -> rejected        (the agency: not theirs; with a reason)
    new ... on_scene -> cancelled                 (the room: no longer needed; with a reason)
    resolved | closed -> acknowledged             (a supervisor reopens; with a reason)

An agency user moves the tickets of their own agency along (the caller of `check` decides whether the ticket is
theirs); operators create tickets and cancel them, supervisors also reopen and may close. `system` is the service
itself: the hand-over (new -> sent) and an agency desk answering the dispatch call (-> acknowledged).
Closing needs the final report; rejecting, cancelling and reopening need a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Actor(StrEnum):
    """Who asks, as the flow sees them. Staff roles nest: a supervisor may do what an operator may."""

    AGENCY = "agency"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


S = TicketStatus
#: The agency still has work to do on these (resolved: the final report is due); the agency's list shows them.
OPEN_STATUSES = frozenset({S.NEW, S.SENT, S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE, S.RESOLVED})
FINAL_STATUSES = frozenset({S.CLOSED, S.REJECTED, S.CANCELLED})
#: Still to be taken by the agency (the acknowledge deadline runs), and still to be settled (the resolve one runs).
AWAITING_ACKNOWLEDGEMENT = frozenset({S.NEW, S.SENT})
AWAITING_RESOLUTION = frozenset({S.NEW, S.SENT, S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE})

#: What a ticket list may be filtered to: the open tickets (the default), all of them, or one status.
OPEN_FILTER, ALL_FILTER = "open", "all"
STATUS_FILTERS: tuple[str, ...] = (OPEN_FILTER, ALL_FILTER, *(status.value for status in TicketStatus))


def statuses_of(status_filter: str) -> frozenset[TicketStatus] | None:
    """The statuses a list filter shows (None: every one); ValueError for a filter not in STATUS_FILTERS."""
    if status_filter == OPEN_FILTER:
        return OPEN_STATUSES
    if status_filter == ALL_FILTER:
        return None
    return frozenset({TicketStatus(status_filter)})


_AGENCY = frozenset({Actor.AGENCY})
_ROOM = frozenset({Actor.OPERATOR, Actor.SUPERVISOR})

#: (from, to) -> who may.
TRANSITIONS: dict[tuple[TicketStatus, TicketStatus], frozenset[Actor]] = {
    (S.NEW, S.SENT): frozenset({Actor.SYSTEM, Actor.OPERATOR, Actor.SUPERVISOR}),
    (S.NEW, S.ACKNOWLEDGED): frozenset({Actor.AGENCY, Actor.SYSTEM}),
    (S.SENT, S.ACKNOWLEDGED): frozenset({Actor.AGENCY, Actor.SYSTEM}),
    (S.ACKNOWLEDGED, S.EN_ROUTE): _AGENCY,
    (S.EN_ROUTE, S.ON_SCENE): _AGENCY,
    # An agency may settle a case without moving (advice by phone) or without reporting each step.
    (S.ACKNOWLEDGED, S.RESOLVED): _AGENCY,
    (S.EN_ROUTE, S.RESOLVED): _AGENCY,
    (S.ON_SCENE, S.RESOLVED): _AGENCY,
    (S.RESOLVED, S.CLOSED): frozenset({Actor.AGENCY, Actor.SUPERVISOR}),
    **{(status, S.REJECTED): _AGENCY for status in (S.NEW, S.SENT, S.ACKNOWLEDGED)},
    **{(status, S.CANCELLED): _ROOM for status in (S.NEW, S.SENT, S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE)},
    (S.RESOLVED, S.ACKNOWLEDGED): frozenset({Actor.SUPERVISOR}),
    (S.CLOSED, S.ACKNOWLEDGED): frozenset({Actor.SUPERVISOR}),
}

NEEDS_REASON = frozenset({S.REJECTED, S.CANCELLED})


@dataclass(frozen=True)
class TransitionRefused(Exception):
    """`kind`: illegal (no such move from here for this actor), missing_reason or missing_report."""

    kind: str
    message: str
    allowed: tuple[TicketStatus, ...]

    def __str__(self) -> str:
        return self.message


def may(current: TicketStatus, to: TicketStatus, actor: Actor) -> bool:
    return actor in TRANSITIONS.get((current, to), frozenset())


def allowed_from(current: TicketStatus, actor: Actor) -> tuple[TicketStatus, ...]:
    """The statuses `actor` may move a ticket to from `current`, in the flow's order."""
    return tuple(to for to in TicketStatus if may(current, to, actor))


def is_reopen(current: TicketStatus, to: TicketStatus) -> bool:
    return current in (S.RESOLVED, S.CLOSED) and to is S.ACKNOWLEDGED


def check(current: TicketStatus, to: TicketStatus, actor: Actor, reason: str | None, report: str | None) -> None:
    """Raises TransitionRefused unless `actor` may move a ticket from `current` to `to` with what it gives."""
    allowed = allowed_from(current, actor)
    if to not in allowed:
        raise TransitionRefused(
            "illegal", f"{actor.value} may not move a ticket from {current.value} to {to.value}", allowed
        )
    if (to in NEEDS_REASON or is_reopen(current, to)) and not reason:
        raise TransitionRefused("missing_reason", f"moving a ticket to {to.value} needs a reason", allowed)
    if to is S.CLOSED and not report:
        raise TransitionRefused("missing_report", "closing a ticket needs the final report", allowed)


def actor_of(roles: tuple[str, ...] | list[str], agency: str | None, ticket_agency: str) -> Actor | None:
    """How a user acts on a ticket of `ticket_agency`: None when they may not act on it at all (an agency user of
    another agency). Staff rank decides between operator and supervisor (admin acts as a supervisor)."""
    if "supervisor" in roles or "admin" in roles:
        return Actor.SUPERVISOR
    if "operator" in roles:
        return Actor.OPERATOR
    if "agency" in roles and agency == ticket_agency:
        return Actor.AGENCY
    return None


def ticket_number(year: int, sequence: int) -> str:
    """The number people read out on the phone: 112-<year>-<sequence of that year, 6 digits or more>."""
    return f"112-{year}-{sequence:06d}"
