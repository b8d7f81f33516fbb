"""The supervisors' wallboard: what it shows, and how an operator's state is read (pure; the queries are in
store/wallboard.py, the snapshot is put together in queue/wallboard.py).

"BoardToday" is the room's day (``[reports] timezone``), counted by the reports' own rule (reports/rules.py): the
wallboard and the day's report never disagree about a call. Waiting calls are the calls whose outcome is still
*waiting* by that rule.

An operator's state comes from two sources that each know part of it: PostgreSQL (logged in, paused and why, the
call they answered and when it ended) and Asterisk's device state of their phone (registered, ringing, in use).
The first state that holds, in this order: logged out; ringing; on a call; paused; wrap-up (app_queue rings nobody
for ``[queue] wrapup_seconds`` after their last call); available.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from ntpd112.reports.rules import CategoryRow, Flow, RecapGroup, ReportRange, ServiceLevel
from ntpd112.room.priority import PriorityReason

#: How many of today's abandoned calls the wallboard lists (newest first); the flow has the full count.
ABANDONED_LISTED = 100
#: A call record still "waiting" after this long was left open by a crash (reconciliation closes it): not on the wall.
WAITING_WINDOW = timedelta(hours=2)
#: The open incidents on the map: those of calls offered in the last day (older ones live on as open tickets).
INCIDENT_WINDOW = timedelta(hours=24)
#: Open tickets listed: those created in the last 30 days.
TICKET_WINDOW = timedelta(days=30)
#: The days the hourly average compares today with.
AVERAGE_DAYS = 7


class OperatorState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


# Asterisk's device states as the wallboard reads them (pbx/ami_actions.PjsipShowEndpoints).
_RINGING = frozenset({"RINGING"})
_IN_USE = frozenset({"INUSE", "BUSY", "ONHOLD", "RINGINUSE"})
_UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})


@dataclass(frozen=True)
class OpenCall:
    """The call an operator answered that has not ended yet."""

    call_id: uuid.UUID
    caller_number: str | None
    answered_at: datetime


@dataclass(frozen=True)
class OperatorFacts:
    logged_in: bool
    paused: bool
    state_changed_at: datetime | None
    # Asterisk's device state of the phone; None: Asterisk was not reachable, or has no state for it.
    device_state: str | None
    open_call: OpenCall | None
    last_call_ended_at: datetime | None  # when their last answered call ended (the talk, not the caller's channel)


@dataclass(frozen=True)
class StateReading:
    state: OperatorState
    since: datetime | None
    until: datetime | None = None  # the end of a wrap-up


def operator_state(facts: OperatorFacts, now: datetime, wrapup_seconds: float) -> StateReading:
    in_use = facts.device_state in _IN_USE
    # A reachable phone is the better witness (an operator who transferred the caller away is free although the
    # caller's call goes on); without one (no state, or the phone lost its registration) the records decide.
    phone_known = facts.device_state is not None and facts.device_state not in _UNREACHABLE
    on_call = in_use or (not phone_known and facts.open_call is not None)
    if not facts.logged_in:
        # Out of the queue, yet on a 112 call of the room (a supervisor who took a pulled call): on that call. Their
        # phone busy with anything else (a listen, a private call) leaves them out of the queue.
        if on_call and facts.open_call is not None:
            return StateReading(OperatorState.ON_CALL, facts.open_call.answered_at)
        return StateReading(OperatorState.LOGGED_OUT, facts.state_changed_at)
    if facts.device_state in _RINGING:
        return StateReading(OperatorState.RINGING, None)
    if on_call:
        return StateReading(OperatorState.ON_CALL, facts.open_call.answered_at if facts.open_call else None)
    if facts.paused:
        return StateReading(OperatorState.PAUSED, facts.state_changed_at)
    if facts.last_call_ended_at is not None:
        until = facts.last_call_ended_at + timedelta(seconds=wrapup_seconds)
        if now < until:
            return StateReading(OperatorState.WRAP_UP, facts.last_call_ended_at, until)
    return StateReading(OperatorState.AVAILABLE, facts.state_changed_at)


# -- the snapshot (GET /api/wallboard) -------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BoardWaitingCall(_Row):
    call_id: uuid.UUID
    caller_number: str | None
    caller_name: str | None
    offered_at: datetime  # the wait runs from here (intake included), as the answer time does
    queue_joined_at: datetime | None  # None: not in app_queue yet (intake), or never (no operator to ring)
    overflowed: bool  # sent on to the supervisors and the backup number (nobody answered, or nobody to ring)
    priority: int | None
    priority_reasons: list[PriorityReason]
    repeat_caller: bool
    calls_24h: int | None
    kecamatan: str | None
    kelurahan: str | None


class BoardOperatorCall(_Row):
    call_id: uuid.UUID
    caller_number: str | None
    answered_at: datetime


class BoardOperator(_Row):
    username: str
    name: str
    role: str
    state: OperatorState
    # Logged into app_queue. False with state on_call: a supervisor out of the queue on a call pulled to them.
    in_queue: bool
    since: datetime | None
    wrap_up_until: datetime | None
    pause_reason: str | None
    phone_registered: bool | None  # None: Asterisk did not say
    call: BoardOperatorCall | None


class BoardAbandonedCall(_Row):
    call_id: uuid.UUID
    caller_number: str | None
    offered_at: datetime
    wait_seconds: float | None
    callback_status: str | None
    callback_outcome: str | None
    callback_taken_by: str | None


class BoardHourCount(_Row):
    hour: int  # 0-23, room time
    today: int
    average: float  # calls offered in this hour, averaged over the AVERAGE_DAYS days before today


class BoardNuisance(_Row):
    """Prank and silent (ghost) calls today, and their share of the calls offered today."""

    prank: int
    silent: int
    prank_share: float | None
    silent_share: float | None


class BoardToday(_Row):
    day: date
    timezone: str
    phantom_abandon_seconds: float
    flow: Flow
    service_levels: list[ServiceLevel]
    abandoned: list[BoardAbandonedCall]  # newest first, at most ABANDONED_LISTED (flow.abandoned has them all)
    by_hour: list[BoardHourCount]
    by_category: list[CategoryRow]
    nuisance: BoardNuisance


class BoardMapIncident(_Row):
    call_id: uuid.UUID
    category: str
    label: str
    status: str
    severity: str | None
    lat: float | None  # the incident's own place, else the call's best location; None: nowhere to pin
    lon: float | None
    kecamatan: str | None
    created_at: datetime


class BoardTicket(_Row):
    """What both ticket lists of the wall show of a ticket (store/wallboard_dispatch.py builds them together)."""

    ticket_id: uuid.UUID
    number: str
    call_id: uuid.UUID
    agency: str
    agency_label: str
    category: str


class BoardOpenTicket(BoardTicket):
    status: str
    created_at: datetime
    updated_at: datetime


class DispatchState(StrEnum):
    RINGING = "ringing"  # an attempt of the chain is ringing (or about to: the next one after a no answer)
    ANSWERED = "answered"  # an agency answered: in consultation, in conference or talking with the caller
    FAILED = "failed"  # every target of the chain was tried and none answered


class BoardDispatch(_Row):
    """A dispatch still open: ringing or answered while its call is live; failed while its incident stays failed
    (nobody has dispatched it again, reopened or closed it)."""

    call_id: uuid.UUID
    caller_number: str | None
    category: str | None  # the incident's; None: dispatched before classification
    label: str | None
    kecamatan: str | None
    mode: str | None  # blind, attended, conference
    state: DispatchState
    agency: str | None  # the agency being rung, or that answered; the last one tried for a failure
    agency_label: str | None
    target: str | None
    attempt: int | None  # n of `attempts`; None: nothing rung yet
    attempts: int
    since: datetime  # when the state began (the attempt's ringing, the answer, the failure)
    requested_at: datetime
    requested_by: str | None


class BoardEscalation(BoardTicket):
    """An open ticket past a time limit it still misses (its escalations: dispatch/escalation.py)."""

    label: str  # the category's name
    status: str
    deadlines: list[str]  # acknowledge, resolve: the limits missed and still not met
    level: int  # the highest escalation level reached (2: the head of the agency and the camat were told)
    missed_at: datetime  # when the first of them was missed


class Wallboard(_Row):
    generated_at: datetime
    queue_count: int  # app_queue's own count of callers waiting (AMI), beside the records' list below
    waiting: list[BoardWaitingCall]  # longest wait first
    operators: list[BoardOperator]
    wrapup_seconds: int
    today: BoardToday
    incidents: list[BoardMapIncident]
    tickets: list[BoardOpenTicket]
    dispatches: list[BoardDispatch] = []  # the newest state change first
    escalations: list[BoardEscalation] = []  # the longest missed first


# -- pure helpers --------------------------------------------------------------------------------------------


def hours_against_average(today: Mapping[int, int], earlier: Mapping[int, int], days: int) -> list[BoardHourCount]:
    """Every hour of the day: today's count and the average of the `days` days before (from their totals)."""
    return [
        BoardHourCount(hour=hour, today=today.get(hour, 0), average=round(earlier.get(hour, 0) / days, 1))
        for hour in range(24)
    ]


def nuisance(by_category: Sequence[CategoryRow], offered: int) -> BoardNuisance:
    prank = sum(row.calls for row in by_category if row.group is RecapGroup.PRANK)
    silent = sum(row.calls for row in by_category if row.group is RecapGroup.SILENT)

    def share(count: int) -> float | None:
        return round(count / offered, 4) if offered else None

    return BoardNuisance(prank=prank, silent=silent, prank_share=share(prank), silent_share=share(silent))


def today_range(now: datetime, timezone: str) -> ReportRange:
    """The room's day that `now` falls in (a WIB room's day starts at 17:00 UTC the day before)."""
    local: date = now.astimezone(ZoneInfo(timezone)).date()
    return ReportRange(local, local, timezone)


# -- a dispatch's state from its call's timeline (dispatch/transitions.py writes the events) --------------------

#: The timeline events that tell a dispatch's state; any other is not read.
DISPATCH_EVENTS = frozenset(
    {
        "dispatch_requested",
        "after_hours_message",
        "dispatch_attempt",
        "agency_answered",
        "dispatch_failed",
        "dispatch_cancelled",
        "dispatch_stopped",
        "dispatch_ended",
        "agency_left",
    }
)
# A dispatch is over after these (the operator cancelled, the caller or the agency left, the run was stopped); an
# after-hours rule gives no dispatch, only a ticket.
_CLOSING = frozenset({"after_hours_message", "dispatch_cancelled", "dispatch_stopped", "dispatch_ended", "agency_left"})


@dataclass(frozen=True)
class DispatchStep:
    type: str
    at: datetime
    data: Mapping[str, object]


@dataclass(frozen=True)
class DispatchReading:
    state: DispatchState
    since: datetime
    requested_at: datetime
    requested_by: str | None
    mode: str | None
    attempts: int
    attempt: int | None = None
    target: str | None = None
    agency: str | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def dispatch_reading(steps: Sequence[DispatchStep]) -> DispatchReading | None:
    """The state of the call's latest dispatch from its timeline (in order); None: no dispatch, or it is over."""
    reading: DispatchReading | None = None
    for step in steps:
        if step.type == "dispatch_requested":
            chain = step.data.get("chain")
            reading = DispatchReading(
                state=DispatchState.RINGING,
                since=step.at,
                requested_at=step.at,
                requested_by=_text(step.data.get("by")),
                mode=_text(step.data.get("mode")),
                attempts=len(chain) if isinstance(chain, list) else 0,
            )
        elif reading is None:
            continue
        elif step.type in _CLOSING:
            # A failure outlives the session's end (the caller hangs up: dispatch_ended); only a new request
            # replaces it, and the wall drops it when the incident is handled (store/wallboard_dispatch.py).
            if reading.state is not DispatchState.FAILED:
                reading = None
        elif step.type in ("dispatch_attempt", "agency_answered"):
            number = step.data.get("attempt")
            reading = replace(
                reading,
                state=DispatchState.RINGING if step.type == "dispatch_attempt" else DispatchState.ANSWERED,
                since=step.at,
                attempt=number if isinstance(number, int) else reading.attempt,
                target=_text(step.data.get("target")),
                agency=_text(step.data.get("agency")),
            )
        elif step.type == "dispatch_failed":
            reading = replace(reading, state=DispatchState.FAILED, since=step.at)
    return reading
