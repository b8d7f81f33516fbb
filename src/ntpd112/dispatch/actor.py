"""Dispatch on the live call: blind transfer, attended transfer and conference, walking the routing chain.

How it is done with Asterisk, and why:

* The take-over (dispatch/takeover.py) moves caller and operator out of app_queue's bridge into our Stasis app.
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

Each call held in Stasis is one :class:`Session` driven by one actor task: ARI events, the ring timer and REST
requests become messages (dispatch/messages.py) in its inbox, handled one at a time, so bridge moves never race each
other; the transitions themselves are in dispatch/transitions.py.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

from ntpd112.clock import utcnow
from ntpd112.dispatch.messages import (
    AgencyAnswered,
    Cancel,
    ChannelGone,
    Complete,
    Leave,
    Message,
    OperatorRequest,
    Request,
    StartDispatch,
)
from ntpd112.dispatch.models import DispatchError, DispatchRequest, DispatchView
from ntpd112.dispatch.plan import plan_dispatch
from ntpd112.dispatch.session import Session, State, view_of
from ntpd112.dispatch.takeover import find_operator, redirect_into_dispatch
from ntpd112.dispatch.telephony import Telephony
from ntpd112.dispatch.timeline import HandOver, Timeline
from ntpd112.dispatch.transitions import Clock, Transitions
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.ari_models import ChannelDestroyed, StasisEnd, StasisStart
from ntpd112.pbx.names import DISPATCH_AGENCY_ROLE, DISPATCH_CALLER_ROLE, DISPATCH_OPERATOR_ROLE
from ntpd112.routing.tables import TableSource
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.journal import Journal
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

REPLY_TIMEOUT = 15.0


class LiveCalls(Protocol):
    """The calls the service is handling now (calls/handler.CallHandler)."""

    def uniqueid_of(self, call_id: uuid.UUID) -> str | None: ...


class DispatchService:
    def __init__(
        self,
        ari: AriClient,
        ami: AmiClient,
        journal: Journal,
        incidents: IncidentRepository,
        tables: TableSource,
        calls: LiveCalls,
        tickets: HandOver,
        clock: Clock | None = None,
    ) -> None:
        self._ari = ari
        self._ami = ami
        self._pbx = Telephony(ari)
        self._incidents = incidents
        self._tables = tables
        self._calls = calls
        self._sessions: dict[str, Session] = {}  # by caller channel id
        self._transitions = Transitions(ari, Timeline(journal, incidents, tickets), clock)
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
        plan = plan_dispatch(await self._tables.current_table(), incident, request, by, utcnow())
        if session is None:
            session = await self._take_over(call_id, caller)
        return await self._ask(session, StartDispatch(plan))

    async def complete(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), Complete())

    async def cancel(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), Cancel())

    async def leave(self, call_id: uuid.UUID, by: str, supervisor: bool) -> DispatchView:
        return await self._ask(self._session_for(call_id, by, supervisor), Leave())

    def view(self, call_id: uuid.UUID) -> DispatchView | None:
        caller = self._calls.uniqueid_of(call_id)
        session = self._sessions.get(caller) if caller else None
        return None if session is None else view_of(session)

    def _live_caller(self, call_id: uuid.UUID) -> str:
        caller = self._calls.uniqueid_of(call_id)
        if caller is None:
            raise DispatchError(409, "call_not_live", "the call has ended (or is not handled by this service)")
        return caller

    def _session_for(self, call_id: uuid.UUID, by: str, supervisor: bool) -> Session:
        session = self._sessions.get(self._live_caller(call_id))
        if session is None or session.run is None:
            raise DispatchError(409, "no_dispatch", "no dispatch is running on this call")
        if session.run.plan.by != by and not supervisor:
            raise DispatchError(
                403, "not_your_dispatch", "only who started this dispatch, or a supervisor, may change it"
            )
        return session

    async def _take_over(self, call_id: uuid.UUID, caller: str) -> Session:
        # Registered before the first await, so a second request for the same call meets it (409).
        session = self._sessions[caller] = Session(call_id, caller)
        try:
            call = await find_operator(self._ari, self._ami, caller)
            session.operator = call.operator  # from now on its hangup reaches the session
            await redirect_into_dispatch(self._ami, caller, call)
        except DispatchError:
            del self._sessions[caller]
            raise
        self._tasks.spawn(self._actor(session), name=f"dispatch:{caller}")
        return session

    @staticmethod
    async def _ask(session: Session, request: OperatorRequest) -> DispatchView:
        session.inbox.put_nowait(request)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                return await request.reply
        except TimeoutError:
            raise DispatchError(504, "dispatch_timeout", "Asterisk did not carry the request out in time") from None

    # -- ARI side (app.py routes dispatch's events here) -------------------------------------------------------

    async def on_stasis_start(self, event: StasisStart) -> None:
        """A channel entered our app for dispatch: caller or operator after the take-over, or an agency that
        answered. Its Stasis arguments are `dispatch,<role>,<caller uniqueid>`."""
        channel = event.channel.id
        role, caller = [*event.args, "", ""][1:3]
        if role == DISPATCH_AGENCY_ROLE:
            session = self._transitions.legs.get(channel)
            if session is not None:
                session.inbox.put_nowait(AgencyAnswered(channel))
            else:  # answered after we gave up on it
                await self._pbx.hang_up(channel)
            return
        session = self._sessions.get(caller)
        if session is None or role not in (DISPATCH_CALLER_ROLE, DISPATCH_OPERATOR_ROLE):
            # Not ours (any more): the caller goes back to the queue, anything else ends.
            log.warning("channel in dispatch without a session", role=role, channel=channel)
            if role == DISPATCH_CALLER_ROLE:
                await self._pbx.back_to_queue(channel)
            else:
                await self._pbx.hang_up(channel)
            return
        session.arrived.add(role)
        if session.arrived >= {DISPATCH_CALLER_ROLE, DISPATCH_OPERATOR_ROLE}:
            session.ready.set()

    def on_channel_left(self, event: ChannelDestroyed | StasisEnd) -> None:
        """A channel was destroyed or left our app; the session holding it (if any) hears of it."""
        channel = event.channel.id
        session = self._transitions.legs.get(channel) or self._sessions.get(channel)
        if session is None:
            session = next((s for s in self._sessions.values() if s.operator == channel), None)
        if session is None:
            return
        if isinstance(event, ChannelDestroyed):
            session.inbox.put_nowait(ChannelGone(channel, event.cause))
        elif channel == session.caller:  # the caller leaving our app ends the session even if it lives on
            session.inbox.put_nowait(ChannelGone(channel, None))

    # -- the actor ---------------------------------------------------------------------------------------------

    async def _actor(self, session: Session) -> None:
        try:
            await self._transitions.hold_call(session)
            while session.state is not State.ENDED:
                message = await session.inbox.get()
                try:
                    view = await self._transitions.handle(session, message)
                except DispatchError as refusal:
                    _answer(message, error=refusal)
                except AriError as error:
                    # A channel vanished between two steps; its ChannelDestroyed is on the way and handled then.
                    log.warning("dispatch step failed", call_id=str(session.call_id), error=str(error))
                    _answer(message, error=DispatchError(502, "asterisk_refused", str(error)))
                else:
                    _answer(message, view)
        finally:
            self._sessions.pop(session.caller, None)
            self._transitions.forget(session)
            while not session.inbox.empty():
                _answer(
                    session.inbox.get_nowait(),
                    error=DispatchError(502, "dispatch_failed", "the call left dispatch (ended or back in the queue)"),
                )


def _answer(message: Message, view: DispatchView | None = None, error: DispatchError | None = None) -> None:
    """Answer a request (events have nobody to answer); a request whose asker gave up is left alone."""
    if isinstance(message, Request) and not message.reply.done():
        if error is not None:
            message.reply.set_exception(error)
        elif view is not None:
            message.reply.set_result(view)
