"""Supervisor controls on the operators' queue: force an operator's pause or logout, raise a waiting call's
priority, pull a waiting call to a chosen phone (an operator's, or the supervisor's own).

app_queue holds the waiting callers, so every call control first asks it (QueueStatus) where the call is; a call
it no longer holds (answered, ended, overflowed to the supervisors, still in intake) is refused with 409 and
nothing is changed. Each control lands on the call's timeline (who, from what, to what); the HTTP layer audits
every request (web/auth.py).

A pull redirects the waiting caller's channel out of Queue() into ntpd112-pull (dialplan), which rings the chosen
phone and, if nobody answers, puts the caller back into the queue with the old priority and place: a pull never
loses a caller. What the dialplan reports back (answered, returned, ended) is recorded by queue/pull_events.py.
Known window: between the last QueueStatus and the Redirect (a few milliseconds) an operator may answer the call;
the Redirect then moves the caller to the chosen phone instead (the caller is still never dropped).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy import select

from ntpd112.errors import RefusedError
from ntpd112.live import Hub, OperatorChanged
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError, AmiRefused, refusal
from ntpd112.pbx.ami_actions import (
    DialplanLocation,
    PjsipShowEndpoints,
    QueueCaller,
    QueueCallers,
    Redirect,
    Setvar,
)
from ntpd112.pbx.names import (
    ENTRY_EXTENSION,
    PULL_CONTEXT,
    PULL_POSITION_VARIABLE,
    PULL_PRIORITY_VARIABLE,
    PULL_TO_VARIABLE,
    QUEUE_NAME,
)
from ntpd112.pbx.queue_priority import change_queue_priority
from ntpd112.queue.events import PendingPulls
from ntpd112.queue.operators import OperatorService, OperatorView, PauseReason
from ntpd112.store.db import Database
from ntpd112.store.journal import Journal
from ntpd112.store.models import Call, Operator

log = get_logger(__name__)

# The highest priority a room may configure (room/config.py PrioritySettings): a raise never goes past it.
PRIORITY_CEILING = 1000
# Device states (pbx/ami_actions.py) of a phone that cannot take a pulled call now.
_BUSY = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})
_UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID"})
# app_queue's variable for a caller's priority: read when Queue() starts (a requeue after an overflow included).


class ControlError(RefusedError):
    """A supervisor control that cannot be carried out now; nothing was changed."""


class RaisedPriority(BaseModel):
    call_id: uuid.UUID
    priority_before: int
    priority: int
    position_before: int
    position: int | None  # app_queue's place after the change (None: the call left the queue meanwhile)


class PullStarted(BaseModel):
    call_id: uuid.UUID
    to: str  # the operator whose phone rings
    ring_seconds: int
    # Where the caller goes back to if nobody answers.
    priority: int
    position: int


def raised_priority(current: int, others: Iterable[int], requested: int | None) -> int:
    """The priority a raise gives: the one asked for, or (none asked) one above every other waiting caller, so the
    call is answered next. Refused when it would not be higher than the call's own, or already is the highest."""
    if requested is not None:
        if requested <= current:
            raise ControlError(409, "not_higher", f"priority {requested} is not above the call's {current}")
        return requested
    highest_other = max(others, default=None)
    if highest_other is None or highest_other < current:
        raise ControlError(409, "already_first", "the call already has the highest priority in the queue")
    if highest_other >= PRIORITY_CEILING:
        raise ControlError(409, "priority_ceiling", f"other callers already have the highest priority, {highest_other}")
    return highest_other + 1


class QueueControls:
    def __init__(
        self,
        database: Database,
        ami: AmiClient,
        journal: Journal,
        hub: Hub,
        operators: OperatorService,
        pulls: PendingPulls,
        *,
        pull_ring_seconds: int,
    ) -> None:
        self._database = database
        self._ami = ami
        self._journal = journal
        self._hub = hub
        self._operators = operators
        self._pulls = pulls
        self._pull_ring_seconds = pull_ring_seconds

    # -- operators ----------------------------------------------------------------------------------------

    async def force_pause(self, username: str, reason: PauseReason, by: str) -> OperatorView:
        view = await self._operators.pause(username, reason, force=True)
        # After the commit: app_queue's QueueMemberPause can reach the wallboard before the database says so.
        self._hub.publish(OperatorChanged(username))
        log.info("operator paused by a supervisor", username=username, reason=reason, supervisor=by)
        return view

    async def force_logout(self, username: str, by: str) -> OperatorView:
        view = await self._operators.logout(username)
        self._hub.publish(OperatorChanged(username))
        log.info("operator logged out by a supervisor", username=username, supervisor=by)
        return view

    # -- waiting calls ------------------------------------------------------------------------------------

    async def raise_priority(self, call_id: uuid.UUID, requested: int | None, by: str) -> RaisedPriority:
        uniqueid = await self._waiting_call(call_id)
        callers = await self._callers()
        entry = _in_queue(callers, uniqueid)
        others = (caller.priority for caller in callers.values() if caller.uniqueid != uniqueid)
        new = raised_priority(entry.priority, others, requested)
        try:
            # Also the channel's QUEUE_PRIO: a caller who overflows and comes back into the queue keeps the raise.
            moved = await change_queue_priority(self._ami, entry.channel, new)
        except AmiError as error:
            raise _failed(error) from None
        if not moved:
            raise ControlError(409, "call_not_waiting", "the call left the queue meanwhile")
        after = (await self._callers()).get(uniqueid)
        self._journal.record_call(uniqueid, queue_priority=new)
        self._journal.record_event(
            call_id,
            "priority_raised",
            {"by": by, "from": entry.priority, "to": new, "position_before": entry.position},
        )
        log.info("waiting call's priority raised", call_id=str(call_id), priority=new, supervisor=by)
        return RaisedPriority(
            call_id=call_id,
            priority_before=entry.priority,
            priority=new,
            position_before=entry.position,
            position=None if after is None else after.position,
        )

    async def pull(self, call_id: uuid.UUID, to: str, by: str) -> PullStarted:
        uniqueid = await self._waiting_call(call_id)
        await self._phone_free(to)
        entry = _in_queue(await self._callers(), uniqueid)
        try:
            for variable, value in (
                (PULL_TO_VARIABLE, to),
                (PULL_PRIORITY_VARIABLE, str(entry.priority)),
                (PULL_POSITION_VARIABLE, str(entry.position)),
            ):
                await self._ami.require(Setvar(variable, value, channel=entry.channel))
            # Asked again just before the move: the Redirect must not take a caller an operator answered meanwhile.
            entry = _in_queue(await self._callers(), uniqueid)
            # Marked before the move: app_queue reports the redirect as an abandon (queue/events.py PendingPulls).
            self._pulls.add(uniqueid)
            await self._ami.require(Redirect(entry.channel, DialplanLocation(PULL_CONTEXT, ENTRY_EXTENSION)))
        except AmiError as error:
            self._pulls.discard(uniqueid)
            raise _failed(error) from None
        self._journal.record_event(
            call_id,
            "pull_requested",
            {"by": by, "to": to, "priority": entry.priority, "position": entry.position},
        )
        log.info("waiting call pulled to a phone", call_id=str(call_id), to=to, supervisor=by)
        return PullStarted(
            call_id=call_id,
            to=to,
            ring_seconds=self._pull_ring_seconds,
            priority=entry.priority,
            position=entry.position,
        )

    # -- internals ----------------------------------------------------------------------------------------

    async def _waiting_call(self, call_id: uuid.UUID) -> str:
        """The call's uniqueid; 404 for no such call, 409 once an operator answered it or it ended."""
        async with self._database.session() as session:
            call = await session.get(Call, call_id)
        if call is None:
            raise ControlError(404, "call_not_found", "no call with this id", {"id": str(call_id)})
        if call.operator_answered_at is not None or call.ended_at is not None:
            raise ControlError(
                409,
                "call_not_waiting",
                "the call was answered or ended meanwhile",
                {"operator": call.operator, "ended": call.ended_at is not None},
            )
        return call.uniqueid

    async def _callers(self) -> dict[str, QueueCaller]:
        try:
            return await self._ami.send(QueueCallers(QUEUE_NAME))
        except AmiError as error:
            raise refusal(error, ControlError) from None

    async def _phone_free(self, username: str) -> None:
        """404 when no operator (or supervisor with a phone) has this name; 409 when their phone cannot ring now."""
        async with self._database.session() as session:
            found = await session.scalar(select(Operator.username).where(Operator.username == username))
        if found is None:
            raise ControlError(404, "operator_not_found", f"no operator {username}")
        try:
            phones = await self._ami.send(PjsipShowEndpoints())
        except AmiError as error:
            raise refusal(error, ControlError) from None
        phone = phones.get(username)
        if phone is None or not phone.registered or phone.device_state in _UNREACHABLE:
            raise ControlError(409, "phone_unreachable", f"{username}'s phone is not reachable")
        if phone.device_state in _BUSY:
            raise ControlError(409, "operator_busy", f"{username}'s phone is busy", {"state": phone.device_state})


def _in_queue(callers: dict[str, QueueCaller], uniqueid: str) -> QueueCaller:
    entry = callers.get(uniqueid)
    if entry is None:
        raise ControlError(
            409,
            "call_not_waiting",
            "the call is not waiting in the operators' queue (still in the greeting, answered, or overflowed)",
        )
    return entry


def _failed(error: AmiError) -> ControlError:
    """Asterisk refused an action on the caller's channel: it is no longer there (answered or gone since the
    QueueStatus); any other failure is Asterisk's (502/503)."""
    if isinstance(error, AmiRefused):
        return ControlError(409, "call_not_waiting", f"the call left the queue meanwhile ({error.message})")
    return refusal(error, ControlError)
