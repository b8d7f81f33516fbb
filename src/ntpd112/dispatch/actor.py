"""Dispatch on the live call: blind transfer, attended transfer and conference, walking the routing chain.

How it is done with Asterisk, and why:

* When the operator asks for dispatch, the caller and the operator are bridged by app_queue, outside Stasis. One AMI
  ``Redirect`` with ``ExtraChannel`` moves both out of app_queue's bridge at once into context ``ntpd112-dispatch``,
  which hands each to our Stasis app (dialplan/extensions_ntpd112.conf). Asterisk's dual redirect keeps the second
  channel alive while the bridge comes apart, so neither leg drops.
* In Stasis the service owns the call: an ARI mixing bridge holds caller and operator, agencies are rung with ARI
  originate (one channel per desk, so a ringall hunt group is parallel originates and the first answer wins), each
  attempt with its own ring timer. A busy, unanswered or failed attempt moves to the next one at once. AMI
  ``BlindTransfer``/``Atxfer`` would hand the walk to Asterisk: one target, no per-target timeout, no fallback,
  and outcomes only from guessing at events. Driving the walk here makes every attempt and outcome an event.
* Blind: the operator's leg ends and the caller hears the hold music until an agency answers. Attended: the
  operator moves to a consultation bridge, the caller waits on hold; complete joins the agency to the caller,
  cancel brings the operator back. Conference: the agency joins caller and operator; the operator may leave.
* The caller is never dropped by dispatch: when a blind chain is exhausted, or the operator leaves before an agency
  ever talked to the caller, the caller goes back into the operators' queue. If the service dies meanwhile,
  Stasis() returns and the dialplan queues the caller (context ``ntpd112-dispatch``).

Each call held in Stasis is one :class:`_Session` driven by one actor task: ARI events and REST requests become
messages in its inbox, handled one at a time, so bridge moves never race each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.ari_models import AriEvent, ChannelDestroyed, StasisEnd, StasisStart
from ntpd112.pbx.names import DISPATCH_CONTEXT, DISPATCH_STASIS_ARG, ENTRY_EXTENSION, HOLD_MUSIC_CLASS, QUEUE_CONTEXT
from ntpd112.routing.agencies import Slug
from ntpd112.routing.categories import CategoryId
from ntpd112.routing.chain import Attempt, ChainWalk, Outcome, unanswered_outcome
from ntpd112.routing.matching import DecisionKind, RouteDecision, RouteStep, match
from ntpd112.routing.tables import RoutingTable, TableSource
from ntpd112.store.incidents import IncidentRepository, IncidentView
from ntpd112.store.journal import Journal
from ntpd112.tasks import TaskSet

log = get_logger(__name__)
T = TypeVar("T")

AFTER_HOURS_PROMPT = "sound:ntpd112/after-hours"
READY_TIMEOUT = 5.0  # both channels reach Stasis in milliseconds; longer means the redirect went wrong
REPLY_TIMEOUT = 15.0
AGENCY_CALLER_ID = '"NTPD 112" <112>'
# Our own ring timer decides "no answer"; Asterisk's originate timeout is only a backstop, so it is longer.
ORIGINATE_TIMEOUT_MARGIN = 5


class DispatchMode(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"
    CONFERENCE = "conference"


class DispatchRequest(BaseModel):
    """What the operator asks for. `target` or `agency` replace the routing table's chain; `category` routes as if
    the incident had that category (the incident itself is not changed)."""

    model_config = ConfigDict(extra="forbid")

    mode: DispatchMode
    target: Slug | None = None
    agency: Slug | None = None
    category: CategoryId | None = None

    @model_validator(mode="after")
    def _one_override(self) -> DispatchRequest:
        if self.target is not None and self.agency is not None:
            raise ValueError("give a target or an agency, not both")
        return self


class AttemptView(BaseModel):
    number: int
    target: str
    agency: str
    devices: list[str]
    timeout: int
    outcome: Outcome | None


class DispatchView(BaseModel):
    call_id: uuid.UUID
    mode: DispatchMode | None
    state: str
    decision: DecisionKind | None
    rule_id: str | None
    table_version: int | None
    attempts: list[AttemptView]
    requested_by: str | None


class DispatchError(RefusedError):
    """A dispatch request that cannot be carried out; the call was not touched."""


class LiveCalls(Protocol):
    """The calls the service is handling now (calls/handler.CallHandler)."""

    def uniqueid_of(self, call_id: uuid.UUID) -> str | None: ...


# -- per-call state -----------------------------------------------------------------------------------------


class State(StrEnum):
    STARTING = "starting"  # channels on their way into Stasis
    IDLE = "idle"  # caller (and operator) held in our bridge, no dispatch running
    RINGING = "ringing"
    CONSULTING = "consulting"  # attended: operator and agency talk, caller on hold
    CONNECTED = "connected"  # an agency talks with the caller
    ENDED = "ended"


@dataclass
class _Run:
    """One dispatch request on a session."""

    mode: DispatchMode
    decision: RouteDecision | None
    walk: ChainWalk
    by: str
    category: str | None  # the incident's; None: dispatched by target or agency before any classification
    legs: dict[str, int | None] = field(default_factory=dict)  # ringing channel -> hangup cause once ended
    ring_started: float = 0.0
    timer: asyncio.TimerHandle | None = None
    agency: str | None = None  # the channel of the agency that answered


@dataclass
class _Session:
    call_id: uuid.UUID
    caller: str  # channel id (= uniqueid) of the caller
    operator: str | None
    inbox: asyncio.Queue[tuple[Any, ...]] = field(default_factory=asyncio.Queue)
    arrived: set[str] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    state: State = State.STARTING
    bridge: str | None = None
    consult: str | None = None
    moh: bool = False
    run: _Run | None = None
    agency_talked: bool = False  # an agency was in the caller's bridge: the call may end when it is alone


Reply = asyncio.Future[DispatchView]


class DispatchService:
    def __init__(
        self,
        ari: AriClient,
        ami: AmiClient,
        journal: Journal,
        incidents: IncidentRepository,
        tables: TableSource,
        calls: LiveCalls,
    ) -> None:
        self._ari = ari
        self._ami = ami
        self._journal = journal
        self._incidents = incidents
        self._tables = tables
        self._calls = calls
        self._sessions: dict[str, _Session] = {}  # by caller channel id
        self._legs: dict[str, _Session] = {}  # agency channels ringing or connected
        self._tasks = TaskSet("dispatch")

    async def stop(self) -> None:
        await self._tasks.aclose()

    # -- REST side ---------------------------------------------------------------------------------------------

    async def dispatch(self, call_id: uuid.UUID, request: DispatchRequest, by: str) -> DispatchView:
        caller = self._live_caller(call_id)
        session = self._sessions.get(caller)
        if session is not None and session.state is not State.IDLE:
            raise DispatchError(409, "dispatch_in_progress", "a dispatch is already running on this call")
        incident = await self._incidents.get(call_id)
        table = await self._tables.current_table()
        decision, chain = self._route(table, incident, request)
        if session is None:
            session = await self._take_over(call_id, caller)
        walk = ChainWalk.of(chain)
        category = incident.category if incident else None
        return await self._ask(session, ("dispatch", _Run(request.mode, decision, walk, by, category)))

    async def complete(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), ("complete",))

    async def cancel(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), ("cancel",))

    async def leave(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), ("leave",))

    def view(self, call_id: uuid.UUID) -> DispatchView | None:
        caller = self._calls.uniqueid_of(call_id)
        session = self._sessions.get(caller) if caller else None
        return None if session is None else _view(session)

    def _live_caller(self, call_id: uuid.UUID) -> str:
        caller = self._calls.uniqueid_of(call_id)
        if caller is None:
            raise DispatchError(409, "call_not_live", "the call has ended (or is not handled by this service)")
        return caller

    def _session_for(self, call_id: uuid.UUID, by: str, supervisor: bool) -> _Session:
        session = self._sessions.get(self._live_caller(call_id))
        if session is None or session.run is None:
            raise DispatchError(409, "no_dispatch", "no dispatch is running on this call")
        if session.run.by != by and not supervisor:
            raise DispatchError(
                403, "not_your_dispatch", "only who started this dispatch, or a supervisor, may change it"
            )
        return session

    @staticmethod
    def _route(
        table: RoutingTable, incident: IncidentView | None, request: DispatchRequest
    ) -> tuple[RouteDecision | None, list[RouteStep]]:
        if request.target is not None:
            target = table.target(request.target)
            if target is None:
                raise DispatchError(422, "unknown_target", f"no target {request.target!r} in the routing table")
            return None, [RouteStep(target=target, timeout=target.timeout, rule_id=None)]
        if request.agency is not None:
            if table.agency(request.agency) is None:
                raise DispatchError(422, "unknown_agency", f"no agency {request.agency!r} in the routing table")
            steps = [
                RouteStep(target=t, timeout=t.timeout, rule_id=None)
                for t in table.targets
                if t.agency == request.agency
            ]
            if not steps:
                raise DispatchError(422, "agency_unreachable", f"agency {request.agency!r} has no targets")
            return None, steps
        category = request.category or (incident.category if incident else None)
        if category is None:
            raise DispatchError(409, "not_classified", "classify the call first (or give a category or target)")
        if table.category(category) is None:
            raise DispatchError(422, "unknown_category", f"category {category!r} is not in the routing table")
        decision = match(table, category, incident.area if incident else None, datetime.now(UTC))
        if decision.kind is DecisionKind.NO_DISPATCH:
            raise DispatchError(409, "not_dispatchable", f"{category!r} is a call outcome: nothing to dispatch")
        return decision, decision.chain

    async def _take_over(self, call_id: uuid.UUID, caller: str) -> _Session:
        """Move caller and operator from app_queue's bridge into our Stasis app."""
        # Registered before the first await, so a second request for the same call meets it (409).
        session = self._sessions[caller] = _Session(call_id, caller, None)
        try:
            channel = await self._ari_or_error(self._ari.get_channel(caller))
            if channel is None:
                raise DispatchError(409, "call_not_live", "the call has ended")
            peer = await self._getvar(channel.name, "BRIDGEPEER")
            if not peer:
                raise DispatchError(409, "not_with_operator", "the caller is not talking with an operator")
            channels = await self._ari_or_error(self._ari.list_channels())
            session.operator = next((c.id for c in channels if c.name == peer), None)
            if session.operator is None:
                raise DispatchError(409, "not_with_operator", "the operator's channel is gone")
            await self._ami_required(
                {"Action": "Setvar", "Channel": peer, "Variable": "NTPD112_DISPATCH", "Value": caller}
            )
            await self._ami_required(
                {
                    "Action": "Redirect",
                    "Channel": channel.name,
                    "Context": DISPATCH_CONTEXT,
                    "Exten": "caller",
                    "Priority": "1",
                    "ExtraChannel": peer,
                    "ExtraContext": DISPATCH_CONTEXT,
                    "ExtraExten": "operator",
                    "ExtraPriority": "1",
                }
            )
        except DispatchError:
            del self._sessions[caller]
            raise
        self._tasks.spawn(self._actor(session), name=f"dispatch:{caller}")
        return session

    async def _ask(self, session: _Session, message: tuple[Any, ...]) -> DispatchView:
        reply: Reply = asyncio.get_running_loop().create_future()
        session.inbox.put_nowait((*message, reply))
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await reply
        except TimeoutError:
            raise DispatchError(504, "dispatch_timeout", "Asterisk did not carry the request out in time") from None

    async def _getvar(self, channel: str, variable: str) -> str:
        try:
            reply = await self._ami.send({"Action": "Getvar", "Channel": channel, "Variable": variable})
        except AmiError as error:
            raise DispatchError(503, "asterisk_unavailable", str(error)) from None
        return str(reply.get("Value") or "") if reply.success else ""

    async def _ami_required(self, action: dict[str, str]) -> None:
        try:
            reply = await self._ami.send(action)
        except AmiError as error:
            raise DispatchError(503, "asterisk_unavailable", str(error)) from None
        if not reply.success:
            raise DispatchError(502, "asterisk_refused", f"{action['Action']}: {reply.get('Message', 'refused')}")

    @staticmethod
    async def _ari_or_error(action: Awaitable[T]) -> T:
        try:
            return await action
        except AriError as error:
            raise DispatchError(503, "asterisk_unavailable", str(error)) from None

    # -- ARI side ----------------------------------------------------------------------------------------------

    async def on_event(self, event: AriEvent) -> bool:
        """Handle events of channels dispatch owns. True when the event is dispatch's alone (its StasisStarts)."""
        if isinstance(event, StasisStart) and event.args[:1] == [DISPATCH_STASIS_ARG]:
            role, key = [*event.args, "", ""][1:3]
            if role == "agency":
                session = self._legs.get(event.channel.id)
                if session is not None:
                    session.inbox.put_nowait(("answered", event.channel.id))
                else:  # answered after we gave up on it
                    with contextlib.suppress(AriError):
                        await self._ari.hangup(event.channel.id)
                return True
            session = self._sessions.get(key)
            if session is None or role not in ("caller", "operator"):
                # Not ours (any more): the caller goes back to the queue, anything else ends.
                log.warning("channel in dispatch without a session", role=role, channel=event.channel.id)
                with contextlib.suppress(AriError):
                    if role == "caller":
                        await self._ari.continue_in_dialplan(event.channel.id, QUEUE_CONTEXT, ENTRY_EXTENSION)
                    else:
                        await self._ari.hangup(event.channel.id)
                return True
            session.arrived.add(role)
            if session.arrived >= {"caller", "operator"}:
                session.ready.set()
            return True
        if isinstance(event, ChannelDestroyed | StasisEnd):
            channel = event.channel.id
            cause = event.cause if isinstance(event, ChannelDestroyed) else None
            session = self._legs.get(channel) or self._sessions.get(channel)
            if session is None:
                session = next((s for s in self._sessions.values() if s.operator == channel), None)
            if session is not None and (isinstance(event, ChannelDestroyed) or channel == session.caller):
                session.inbox.put_nowait(("gone", channel, cause))
        return False

    # -- the actor ---------------------------------------------------------------------------------------------

    async def _actor(self, session: _Session) -> None:
        try:
            try:
                async with asyncio.timeout(READY_TIMEOUT):
                    await session.ready.wait()
                session.bridge = await self._ari.create_bridge()
                await self._ari.add_to_bridge(session.bridge, session.caller)
                if session.operator is not None:
                    await self._ari.add_to_bridge(session.bridge, session.operator)
            except (TimeoutError, AriError) as error:
                self._event(session, "dispatch_failed", {"reason": f"could not take the call over: {error!r}"[:300]})
                await self._requeue(session)
            else:
                session.state = State.IDLE
                self._event(session, "dispatch_holding", {"bridge": session.bridge})
            while session.state is not State.ENDED:
                message = await session.inbox.get()
                try:
                    await self._handle(session, message)
                except AriError as error:
                    # A channel vanished between two steps; its ChannelDestroyed is on the way and handled then.
                    log.warning("dispatch step failed", call_id=str(session.call_id), error=str(error))
                    self._reply(message, error=DispatchError(502, "asterisk_refused", str(error)))
        finally:
            self._sessions.pop(session.caller, None)
            for leg in [leg for leg, s in self._legs.items() if s is session]:
                del self._legs[leg]
            while not session.inbox.empty():
                self._reply(
                    session.inbox.get_nowait(),
                    error=DispatchError(502, "dispatch_failed", "the call left dispatch (ended or back in the queue)"),
                )

    @staticmethod
    def _reply(message: tuple[Any, ...], view: DispatchView | None = None, error: Exception | None = None) -> None:
        reply = message[-1]
        if isinstance(reply, asyncio.Future) and not reply.done():
            if error is not None:
                reply.set_exception(error)
            elif view is not None:
                reply.set_result(view)

    async def _handle(self, session: _Session, message: tuple[Any, ...]) -> None:
        kind = message[0]
        handlers: dict[str, Callable[..., Awaitable[None]]] = {
            "dispatch": self._on_dispatch,
            "answered": self._on_answered,
            "ring_timeout": self._on_ring_timeout,
            "gone": self._on_gone,
            "complete": self._on_complete,
            "cancel": self._on_cancel,
            "leave": self._on_leave,
        }
        await handlers[kind](session, *message[1:])

    async def _on_dispatch(self, session: _Session, run: _Run, reply: Reply) -> None:
        if session.state is not State.IDLE:
            reply.set_exception(DispatchError(409, "dispatch_in_progress", "a dispatch is already running"))
            return
        decision = run.decision
        self._event(
            session,
            "dispatch_requested",
            {
                "mode": run.mode.value,
                "by": run.by,
                "decision": decision.kind.value if decision else "override",
                "rule": decision.rule_id if decision else None,
                "table_version": decision.table_version if decision else None,
                "chain": [a.target_id for a in run.walk.attempts],
            },
        )
        if decision is not None and decision.kind is DecisionKind.AFTER_HOURS:
            await self._after_hours(session, decision, run)
            reply.set_result(_view(session, run))
            return
        session.run = run
        await self._set_incident(session, "dispatched", run)
        if run.mode is DispatchMode.BLIND:
            await self._drop_operator(session, "blind_transfer")
            await self._hold(session, on=True)
        elif run.mode is DispatchMode.ATTENDED and session.operator is not None:
            session.consult = await self._ari.create_bridge()
            assert session.bridge is not None
            await self._ari.remove_from_bridge(session.bridge, session.operator)
            await self._ari.add_to_bridge(session.consult, session.operator)
            await self._hold(session, on=True)
        session.state = State.RINGING
        await self._ring_next(session)
        reply.set_result(_view(session))

    async def _after_hours(self, session: _Session, decision: RouteDecision, run: _Run) -> None:
        # The caller hears the message, the operator stays on the line. The rule's own text goes on the ticket.
        await self._ari.play(session.caller, AFTER_HOURS_PROMPT)
        self._event(session, "after_hours_message", {"prompt": AFTER_HOURS_PROMPT, "rule": decision.rule_id})
        await self._set_incident(session, "ticket", run)
        self._event(
            session,
            "ticket_opened",
            {"agency": decision.ticket_agency, "message": decision.message, "rule": decision.rule_id},
        )

    # -- walking the chain -------------------------------------------------------------------------------------

    async def _ring_next(self, session: _Session) -> None:
        run = session.run
        assert run is not None
        while (attempt := run.walk.next_attempt()) is not None:
            self._event(session, "dispatch_attempt", _attempt_data(attempt))
            run.legs = {}
            run.ring_started = asyncio.get_running_loop().time()
            for index, device in enumerate(attempt.devices):
                leg = f"{session.caller}-d{attempt.number}-{index}"
                self._legs[leg] = session
                try:
                    await self._ari.originate(
                        leg,
                        device,
                        f"{DISPATCH_STASIS_ARG},agency,{session.caller}",
                        timeout=attempt.timeout + ORIGINATE_TIMEOUT_MARGIN,
                        caller_id=AGENCY_CALLER_ID,
                        originator=session.caller,
                    )
                except AriError as error:
                    # No such endpoint, no contact, trunk down: this leg fails at once.
                    del self._legs[leg]
                    self._event(
                        session,
                        "dispatch_leg_failed",
                        {"attempt": attempt.number, "device": device, "error": str(error)[:200]},
                    )
                    continue
                run.legs[leg] = None
            if run.legs:
                run.timer = asyncio.get_running_loop().call_later(
                    attempt.timeout, session.inbox.put_nowait, ("ring_timeout", attempt.number)
                )
                return
            self._attempt_ended(session, attempt, Outcome.FAILED, [])
        await self._exhausted(session)

    def _attempt_ended(self, session: _Session, attempt: Attempt, outcome: Outcome, causes: list[int]) -> None:
        run = session.run
        assert run is not None
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None
        run.walk.record(attempt, outcome)
        seconds = round(asyncio.get_running_loop().time() - run.ring_started, 1)
        self._event(
            session,
            "dispatch_attempt_ended",
            {**_attempt_data(attempt), "outcome": outcome.value, "causes": causes, "ring_seconds": seconds},
        )

    async def _end_attempt_unanswered(self, session: _Session, *, timed_out: bool) -> None:
        run = session.run
        assert run is not None and run.walk.current is not None
        attempt = run.walk.current
        for leg, cause in run.legs.items():
            if cause is None:
                self._legs.pop(leg, None)
                with contextlib.suppress(AriError):
                    await self._ari.hangup(leg, "no_answer")
        causes = [cause for cause in run.legs.values() if cause is not None]
        self._attempt_ended(session, attempt, unanswered_outcome(causes, timed_out=timed_out), causes)
        await self._ring_next(session)

    async def _on_ring_timeout(self, session: _Session, number: int) -> None:
        run = session.run
        if run is not None and run.walk.current is not None and run.walk.current.number == number:
            await self._end_attempt_unanswered(session, timed_out=True)

    async def _on_answered(self, session: _Session, leg: str) -> None:
        run = session.run
        if run is None or run.walk.current is None or leg not in run.legs:
            self._legs.pop(leg, None)
            with contextlib.suppress(AriError):
                await self._ari.hangup(leg)
            return
        attempt = run.walk.current
        for other, cause in run.legs.items():
            if other != leg and cause is None:
                self._legs.pop(other, None)
                with contextlib.suppress(AriError):
                    await self._ari.hangup(other, "answered_elsewhere")
        self._attempt_ended(session, attempt, Outcome.ANSWERED, [])
        run.agency = leg
        run.legs = {}
        if run.mode is DispatchMode.ATTENDED and session.consult is not None:
            await self._ari.add_to_bridge(session.consult, leg)
            session.state = State.CONSULTING
        else:
            assert session.bridge is not None
            await self._hold(session, on=False)
            await self._ari.add_to_bridge(session.bridge, leg)
            session.agency_talked = True
            session.state = State.CONNECTED
        self._event(session, "agency_answered", {**_attempt_data(attempt), "channel": leg, "mode": run.mode.value})
        await self._set_incident(session, "acknowledged", run)

    async def _exhausted(self, session: _Session) -> None:
        run = session.run
        assert run is not None
        self._event(
            session,
            "dispatch_failed",
            {"reason": "chain exhausted", "attempts": [[a.target_id, o.value] for a, o in run.walk.outcomes]},
        )
        await self._set_incident(session, "failed", run)
        session.run = None
        if session.operator is None:
            # Blind: nobody is with the caller any more; back to the operators.
            await self._requeue(session)
            return
        await self._back_to_caller(session)

    # -- the operator's requests -------------------------------------------------------------------------------

    async def _on_complete(self, session: _Session, reply: Reply) -> None:
        run = session.run
        if run is None or session.state is not State.CONSULTING or run.agency is None:
            reply.set_exception(DispatchError(409, "not_consulting", "no agency is on the line in consultation"))
            return
        assert session.bridge is not None and session.consult is not None
        await self._ari.remove_from_bridge(session.consult, run.agency)
        await self._ari.add_to_bridge(session.bridge, run.agency)
        await self._hold(session, on=False)
        session.agency_talked = True
        await self._drop_operator(session, "attended_transfer_completed")
        await self._destroy_consult(session)
        session.state = State.CONNECTED
        self._event(session, "dispatch_completed", {"by": run.by, "agency_channel": run.agency})
        reply.set_result(_view(session))

    async def _on_cancel(self, session: _Session, reply: Reply) -> None:
        run = session.run
        cancellable = (State.RINGING, State.CONSULTING)
        if run is None or run.mode is not DispatchMode.ATTENDED or session.state not in cancellable:
            reply.set_exception(DispatchError(409, "not_cancellable", "only an attended dispatch not yet completed"))
            return
        await self._abandon_run(session, "cancelled by the operator")
        await self._set_incident(session, "open", run)
        await self._back_to_caller(session)
        self._event(session, "dispatch_cancelled", {"by": run.by})
        reply.set_result(_view(session, run))

    async def _on_leave(self, session: _Session, reply: Reply) -> None:
        run = session.run
        if run is None or run.mode is not DispatchMode.CONFERENCE or session.state is not State.CONNECTED:
            reply.set_exception(
                DispatchError(409, "agency_not_connected", "the operator may leave a conference once an agency is in")
            )
            return
        await self._drop_operator(session, "left_conference")
        reply.set_result(_view(session))

    # -- channels leaving --------------------------------------------------------------------------------------

    async def _on_gone(self, session: _Session, channel: str, cause: int | None) -> None:
        run = session.run
        if channel == session.caller:
            if run is not None and run.walk.current is not None:
                await self._abandon_run(session, "caller hung up")
                await self._set_incident(session, "failed", run)
            self._event(session, "dispatch_ended", {"reason": "caller left"})
            await self._end(session)
        elif channel == session.operator:
            session.operator = None
            self._event(session, "operator_left", {"reason": "hung up", "cause": cause})
            if run is not None and session.state in (State.RINGING, State.CONSULTING) and session.consult:
                # Attended, operator gone before completing: the agency never talked to the caller.
                await self._abandon_run(session, "operator hung up")
                await self._set_incident(session, "open", run)
                await self._destroy_consult(session)
            await self._if_caller_alone(session)
        elif run is not None and channel in run.legs and run.legs[channel] is None:
            run.legs[channel] = cause or 0
            self._legs.pop(channel, None)
            if all(c is not None for c in run.legs.values()):
                await self._end_attempt_unanswered(session, timed_out=False)
        elif run is not None and channel == run.agency:
            self._legs.pop(channel, None)
            run.agency = None
            self._event(session, "agency_left", {"cause": cause})
            if session.state is State.CONSULTING:
                session.run = None
                await self._back_to_caller(session)
            else:
                session.run = None
                session.state = State.IDLE
                await self._if_caller_alone(session)

    async def _if_caller_alone(self, session: _Session) -> None:
        if session.operator is not None or session.state in (State.RINGING, State.ENDED):
            return
        if session.run is not None and session.run.agency is not None and session.state is State.CONNECTED:
            return
        if session.agency_talked:
            self._event(session, "dispatch_ended", {"reason": "caller alone after the agency call"})
            with contextlib.suppress(AriError):
                await self._ari.hangup(session.caller)
            await self._end(session)
        else:
            await self._requeue(session)

    # -- building blocks ---------------------------------------------------------------------------------------

    async def _abandon_run(self, session: _Session, reason: str) -> None:
        """Stop ringing and drop a consulted agency; the run's remaining attempts are not tried."""
        run = session.run
        if run is None:
            return
        for leg, cause in run.legs.items():
            if cause is None:
                self._legs.pop(leg, None)
                with contextlib.suppress(AriError):
                    await self._ari.hangup(leg)
        if run.walk.current is not None:
            self._attempt_ended(session, run.walk.current, Outcome.CANCELLED, [])
        if run.agency is not None and session.state is State.CONSULTING:
            self._legs.pop(run.agency, None)
            with contextlib.suppress(AriError):
                await self._ari.hangup(run.agency)
            run.agency = None
        self._event(session, "dispatch_stopped", {"reason": reason})

    async def _back_to_caller(self, session: _Session) -> None:
        """Attended or conference dispatch over without a transfer: operator and caller together again."""
        assert session.bridge is not None
        if session.consult is not None and session.operator is not None:
            with contextlib.suppress(AriError):
                await self._ari.remove_from_bridge(session.consult, session.operator)
            await self._ari.add_to_bridge(session.bridge, session.operator)
        await self._destroy_consult(session)
        await self._hold(session, on=False)
        session.run = None
        session.state = State.IDLE
        await self._if_caller_alone(session)

    async def _drop_operator(self, session: _Session, reason: str) -> None:
        operator, session.operator = session.operator, None
        if operator is not None:
            self._event(session, "operator_left", {"reason": reason})
            with contextlib.suppress(AriError):
                await self._ari.hangup(operator)

    async def _hold(self, session: _Session, *, on: bool) -> None:
        if session.bridge is None or session.moh == on:
            return
        session.moh = on
        with contextlib.suppress(AriError):
            if on:
                await self._ari.start_bridge_moh(session.bridge, HOLD_MUSIC_CLASS)
            else:
                await self._ari.stop_bridge_moh(session.bridge)

    async def _destroy_consult(self, session: _Session) -> None:
        consult, session.consult = session.consult, None
        if consult is not None:
            with contextlib.suppress(AriError):
                await self._ari.destroy_bridge(consult)

    async def _requeue(self, session: _Session) -> None:
        """The caller goes back to the operators' queue; dispatch lets go of the call."""
        self._event(session, "caller_requeued", {})
        await self._hold(session, on=False)
        with contextlib.suppress(AriError):
            await self._ari.continue_in_dialplan(session.caller, QUEUE_CONTEXT, ENTRY_EXTENSION)
        await self._drop_operator(session, "requeued")
        await self._end(session)

    async def _end(self, session: _Session) -> None:
        run = session.run
        if run is not None and run.agency is not None:
            with contextlib.suppress(AriError):
                await self._ari.hangup(run.agency)
        await self._drop_operator(session, "call ended")
        await self._destroy_consult(session)
        if session.bridge is not None:
            with contextlib.suppress(AriError):
                await self._ari.destroy_bridge(session.bridge)
        session.state = State.ENDED

    def _event(self, session: _Session, event_type: str, data: dict[str, Any]) -> None:
        self._journal.record_event(session.call_id, event_type, data)

    async def _set_incident(self, session: _Session, status: str, run: _Run) -> None:
        # Written directly (see store/incidents.py); a database outage must not hold up the call, so a failure
        # is an event on the timeline (the journal spools it) and dispatch carries on.
        if run.category is None:
            return  # no incident to record it on; the timeline has every step
        try:
            # The category is only there because the upsert's INSERT must satisfy NOT NULL before ON CONFLICT.
            await self._incidents.save(
                session.call_id, {"status": status}, f"dispatch:{run.by}"[:80], defaults={"category": run.category}
            )
        except Exception as error:  # any database failure
            log.warning("incident status not saved", call_id=str(session.call_id), status=status, error=repr(error))
            self._event(session, "incident_status_not_saved", {"status": status, "error": repr(error)[:300]})


def _attempt_data(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "target": attempt.target_id,
        "agency": attempt.agency,
        "devices": list(attempt.devices),
        "timeout": attempt.timeout,
    }


def _view(session: _Session, run: _Run | None = None) -> DispatchView:
    run = run or session.run
    outcomes = {a.number: o for a, o in run.walk.outcomes} if run else {}
    decision = run.decision if run else None
    return DispatchView(
        call_id=session.call_id,
        mode=run.mode if run else None,
        state=session.state.value,
        decision=decision.kind if decision else None,
        rule_id=decision.rule_id if decision else None,
        table_version=decision.table_version if decision else None,
        attempts=[
            AttemptView(
                number=a.number,
                target=a.target_id,
                agency=a.agency,
                devices=list(a.devices),
                timeout=a.timeout,
                outcome=outcomes.get(a.number),
            )
            for a in (run.walk.attempts if run else [])
        ],
        requested_by=run.by if run else None,
    )
