"""Operator time (definitions: the docstring of reports/rules.py): what a presence change means, and how the
figures the store sums per operator make one report row.

An operator is, at any moment, in one presence state: logged out, available (logged in, not paused) or paused
with a reason. Talking and wrap-up happen while available; idle is what is left of the available time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ntpd112.reports.rules import OperatorPauseRow, OperatorRow, seconds


class PresenceState(StrEnum):
    AVAILABLE = "available"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


@dataclass(frozen=True)
class Presence:
    state: PresenceState
    reason: str | None = None  # while paused


def member_presence(event: Mapping[str, str]) -> Presence:
    """The presence a queue member event (QueueMemberAdded/Removed/Pause/Status) tells of."""
    if event.get("Event") == "QueueMemberRemoved":
        return Presence(PresenceState.LOGGED_OUT)
    if event.get("Paused") == "1":
        return Presence(PresenceState.PAUSED, event.get("PausedReason") or None)
    return Presence(PresenceState.AVAILABLE)


@dataclass(frozen=True)
class OperatorTime:
    """Seconds summed per operator over the range: presence spans (clipped to it), wrap-up after their calls."""

    available: float = 0.0
    paused: Mapping[str, float] | None = None  # by reason ("" when none was given)
    wrap_up: float | None = None  # None: the queue's wrap-up time is unknown to the report


def with_time(row: OperatorRow, time: OperatorTime | None) -> OperatorRow:
    """`row` with its operator time; without presence (None) the time stays unknown rather than zero."""
    if time is None:
        return row
    paused = sum((time.paused or {}).values())
    wrap_up = time.wrap_up or 0.0
    return row.model_copy(
        update={
            "logged_in_seconds": seconds(time.available + paused),
            "pause_seconds": seconds(paused),
            "wrap_up_seconds": seconds(time.wrap_up),
            # Talk and wrap-up of a call offered at the range's edge may reach outside it: never below zero.
            "idle_seconds": seconds(max(0.0, time.available - row.talk_seconds - wrap_up)),
        }
    )


def operator_rows(handled: list[OperatorRow], times: Mapping[str, OperatorTime]) -> list[OperatorRow]:
    """The operators who answered calls and those who were only logged in, each with their time."""
    rows = {row.operator: row for row in handled}
    for operator in times.keys() - rows.keys():
        rows[operator] = empty_row(operator)
    return [with_time(rows[operator], times.get(operator)) for operator in sorted(rows)]


def pause_rows(times: Mapping[str, OperatorTime]) -> list[OperatorPauseRow]:
    return [
        OperatorPauseRow(operator=operator, reason=reason or "-", seconds=round(value, 1))
        for operator, time in sorted(times.items())
        for reason, value in sorted((time.paused or {}).items())
    ]


def empty_row(operator: str) -> OperatorRow:
    """An operator who was logged in but handled no call."""
    return OperatorRow(operator=operator, handled=0, talk_seconds=0.0, mean_talk_seconds=None, mean_answer_seconds=None)
