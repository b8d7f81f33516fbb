"""How a dispatch session moves on each message: taking hold of the call, walking the chain attempt by attempt,
the operator's requests, and channels leaving. Each transition changes the session (dispatch/session.py), acts on
Asterisk over ARI and writes the steps down (dispatch/timeline.py).

ARI steps a transition cannot do without are awaited directly and raise AriError (the actor answers the request
with a 502); letting go of channels and bridges is best effort (dispatch/telephony.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Protocol, assert_never

from ntpd112.dispatch.messages import (
    AgencyAnswered,
    Cancel,
    ChannelGone,
    Complete,
    Leave,
    Message,
    RingTimeout,
    StartDispatch,
)
from ntpd112.dispatch.models import DispatchError, DispatchMode, DispatchView
from ntpd112.dispatch.plan import DispatchPlan
from ntpd112.dispatch.session import Run, Session, State, Timer, view_of
from ntpd112.dispatch.telephony import Telephony
from ntpd112.dispatch.timeline import Timeline, attempt_data
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.routing.chain import Attempt, Outcome, unanswered_outcome
from ntpd112.routing.matching import DecisionKind, RouteDecision

AFTER_HOURS_PROMPT = "sound:ntpd112/after-hours"
READY_TIMEOUT = 5.0  # both channels reach Stasis in milliseconds; longer means the redirect went wrong


class Clock(Protocol):
    """Times the ring of each attempt: the running event loop, a fake one in unit tests."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer: ...


class Transitions:
    def __init__(self, ari: AriClient, timeline: Timeline, clock: Clock | None = None) -> None:
        self._ari = ari
        self._pbx = Telephony(ari)
        self._timeline = timeline
        self._fixed_clock = clock
        self.legs: dict[str, Session] = {}  # agency channels ringing or connected -> their session

    def forget(self, session: Session) -> None:
        """The session's actor is over: its agency legs are nobody's any more."""
        for leg in [leg for leg, s in self.legs.items() if s is session]:
            del self.legs[leg]

    async def hold_call(self, session: Session) -> None:
        """Once caller and operator are in Stasis, our bridge holds them; otherwise the caller goes back."""
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await session.ready.wait()
            session.bridge = await self._ari.create_bridge()
            await self._ari.add_to_bridge(session.bridge, session.caller)
            if session.operator is not None:
                await self._ari.add_to_bridge(session.bridge, session.operator)
        except (TimeoutError, AriError) as error:
            self._timeline.record(
                session, "dispatch_failed", {"reason": f"could not take the call over: {error!r}"[:300]}
            )
            await self._requeue(session)
        else:
            session.state = State.IDLE
            self._timeline.record(session, "dispatch_holding", {"bridge": session.bridge})

    async def handle(self, session: Session, message: Message) -> DispatchView | None:
        """Requests return the view to answer with, or raise DispatchError; events return None."""
        match message:
            case StartDispatch(plan=plan):
                return await self._start(session, plan)
            case Complete():
                return await self._complete(session)
            case Cancel():
                return await self._cancel(session)
            case Leave():
                return await self._leave(session)
            case AgencyAnswered(leg=leg):
                await self._answered(session, leg)
            case RingTimeout(attempt=number):
                await self._ring_timeout(session, number)
            case ChannelGone(channel=channel, cause=cause):
                await self._gone(session, channel, cause)
            case _:
                assert_never(message)
        return None

    # -- starting ----------------------------------------------------------------------------------------------

    async def _start(self, session: Session, plan: DispatchPlan) -> DispatchView:
        if session.state is not State.IDLE:
            raise DispatchError(409, "dispatch_in_progress", "a dispatch is already running")
        run = Run.of(plan)
        decision = plan.decision
        self._timeline.record(
            session,
            "dispatch_requested",
            {
                "mode": plan.mode.value,
                "by": plan.by,
                "decision": decision.kind.value if decision else "override",
                "rule": decision.rule_id if decision else None,
                "table_version": decision.table_version if decision else None,
                "chain": [a.target_id for a in run.walk.attempts],
            },
        )
        if decision is not None and decision.kind is DecisionKind.AFTER_HOURS:
            await self._after_hours(session, decision, plan)
            return view_of(session, run)
        session.run = run
        await self._timeline.set_incident(session, "dispatched", plan)
        if plan.mode is DispatchMode.BLIND:
            await self._drop_operator(session, "blind_transfer")
            await self._hold(session, on=True)
        elif plan.mode is DispatchMode.ATTENDED and session.operator is not None:
            session.consult = await self._ari.create_bridge()
            assert session.bridge is not None
            await self._ari.remove_from_bridge(session.bridge, session.operator)
            await self._ari.add_to_bridge(session.consult, session.operator)
            await self._hold(session, on=True)
        session.state = State.RINGING
        await self._ring_next(session)
        return view_of(session)

    async def _after_hours(self, session: Session, decision: RouteDecision, plan: DispatchPlan) -> None:
        # The caller hears the message, the operator stays on the line. The rule's own text goes on the ticket.
        await self._ari.play(session.caller, AFTER_HOURS_PROMPT)
        self._timeline.record(session, "after_hours_message", {"prompt": AFTER_HOURS_PROMPT, "rule": decision.rule_id})
        await self._timeline.set_incident(session, "ticket", plan)
        self._timeline.record(
            session,
            "ticket_opened",
            {"agency": decision.ticket_agency, "message": decision.message, "rule": decision.rule_id},
        )
        await self._timeline.hand_over(session, decision.ticket_agency, plan, acknowledged=False)

    # -- walking the chain -------------------------------------------------------------------------------------

    async def _ring_next(self, session: Session) -> None:
        run = session.run
        assert run is not None
        clock = self._clock()
        while (attempt := run.walk.next_attempt()) is not None:
            self._timeline.record(session, "dispatch_attempt", attempt_data(attempt))
            run.legs = {}
            run.ring_started = clock.time()
            for index, device in enumerate(attempt.devices):
                leg = f"{session.caller}-d{attempt.number}-{index}"
                self.legs[leg] = session
                try:
                    await self._pbx.ring(leg, device, caller=session.caller, timeout=attempt.timeout)
                except AriError as error:
                    # No such endpoint, no contact, trunk down: this leg fails at once.
                    del self.legs[leg]
                    self._timeline.record(
                        session,
                        "dispatch_leg_failed",
                        {"attempt": attempt.number, "device": device, "error": str(error)[:200]},
                    )
                    continue
                run.legs[leg] = None
            if run.legs:
                timeout = functools.partial(session.inbox.put_nowait, RingTimeout(attempt.number))
                run.timer = clock.call_later(attempt.timeout, timeout)
                return
            self._attempt_ended(session, attempt, Outcome.FAILED, [])
        await self._exhausted(session)

    def _attempt_ended(self, session: Session, attempt: Attempt, outcome: Outcome, causes: list[int]) -> None:
        run = session.run
        assert run is not None
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None
        run.walk.record(attempt, outcome)
        seconds = round(self._clock().time() - run.ring_started, 1)
        self._timeline.record(
            session,
            "dispatch_attempt_ended",
            {**attempt_data(attempt), "outcome": outcome.value, "causes": causes, "ring_seconds": seconds},
        )

    async def _end_attempt_unanswered(self, session: Session, *, timed_out: bool) -> None:
        run = session.run
        assert run is not None and run.walk.current is not None
        attempt = run.walk.current
        for leg in run.ringing_legs:
            self.legs.pop(leg, None)
            await self._pbx.hang_up(leg, "no_answer")
        causes = run.hangup_causes
        self._attempt_ended(session, attempt, unanswered_outcome(causes, timed_out=timed_out), causes)
        await self._ring_next(session)

    async def _ring_timeout(self, session: Session, number: int) -> None:
        run = session.run
        if run is not None and run.walk.current is not None and run.walk.current.number == number:
            await self._end_attempt_unanswered(session, timed_out=True)

    async def _answered(self, session: Session, leg: str) -> None:
        run = session.run
        if run is None or run.walk.current is None or leg not in run.legs:
            self.legs.pop(leg, None)
            await self._pbx.hang_up(leg)
            return
        attempt = run.walk.current
        for other in run.ringing_legs:
            if other != leg:
                self.legs.pop(other, None)
                await self._pbx.hang_up(other, "answered_elsewhere")
        self._attempt_ended(session, attempt, Outcome.ANSWERED, [])
        run.agency = leg
        run.legs = {}
        if run.plan.mode is DispatchMode.ATTENDED and session.consult is not None:
            await self._ari.add_to_bridge(session.consult, leg)
            session.state = State.CONSULTING
        else:
            assert session.bridge is not None
            await self._hold(session, on=False)
            await self._ari.add_to_bridge(session.bridge, leg)
            session.agency_talked = True
            session.state = State.CONNECTED
        self._timeline.record(
            session, "agency_answered", {**attempt_data(attempt), "channel": leg, "mode": run.plan.mode.value}
        )
        await self._timeline.set_incident(session, "acknowledged", run.plan)
        await self._timeline.hand_over(session, attempt.agency, run.plan, acknowledged=True)

    async def _exhausted(self, session: Session) -> None:
        run = session.run
        assert run is not None
        self._timeline.record(
            session,
            "dispatch_failed",
            {"reason": "chain exhausted", "attempts": [[a.target_id, o.value] for a, o in run.walk.outcomes]},
        )
        await self._timeline.set_incident(session, "failed", run.plan)
        session.run = None
        if session.operator is None:
            # Blind: nobody is with the caller any more; back to the operators.
            await self._requeue(session)
            return
        await self._back_to_caller(session)

    # -- the operator's requests -------------------------------------------------------------------------------

    async def _complete(self, session: Session) -> DispatchView:
        run = session.run
        if run is None or session.state is not State.CONSULTING or run.agency is None:
            raise DispatchError(409, "not_consulting", "no agency is on the line in consultation")
        assert session.bridge is not None and session.consult is not None
        await self._ari.remove_from_bridge(session.consult, run.agency)
        await self._ari.add_to_bridge(session.bridge, run.agency)
        await self._hold(session, on=False)
        session.agency_talked = True
        await self._drop_operator(session, "attended_transfer_completed")
        await self._destroy_consult(session)
        session.state = State.CONNECTED
        self._timeline.record(session, "dispatch_completed", {"by": run.plan.by, "agency_channel": run.agency})
        return view_of(session)

    async def _cancel(self, session: Session) -> DispatchView:
        run = session.run
        cancellable = (State.RINGING, State.CONSULTING)
        if run is None or run.plan.mode is not DispatchMode.ATTENDED or session.state not in cancellable:
            raise DispatchError(409, "not_cancellable", "only an attended dispatch not yet completed")
        await self._abandon_run(session, "cancelled by the operator")
        await self._timeline.set_incident(session, "open", run.plan)
        await self._back_to_caller(session)
        self._timeline.record(session, "dispatch_cancelled", {"by": run.plan.by})
        return view_of(session, run)

    async def _leave(self, session: Session) -> DispatchView:
        run = session.run
        if run is None or run.plan.mode is not DispatchMode.CONFERENCE or session.state is not State.CONNECTED:
            raise DispatchError(409, "agency_not_connected", "the operator may leave a conference once an agency is in")
        await self._drop_operator(session, "left_conference")
        return view_of(session)

    # -- channels leaving --------------------------------------------------------------------------------------

    async def _gone(self, session: Session, channel: str, cause: int | None) -> None:
        run = session.run
        if channel == session.caller:
            if run is not None and run.walk.current is not None:
                await self._abandon_run(session, "caller hung up")
                await self._timeline.set_incident(session, "failed", run.plan)
            self._timeline.record(session, "dispatch_ended", {"reason": "caller left"})
            await self._end(session)
        elif channel == session.operator:
            session.operator = None
            self._timeline.record(session, "operator_left", {"reason": "hung up", "cause": cause})
            if run is not None and session.state in (State.RINGING, State.CONSULTING) and session.consult:
                # Attended, operator gone before completing: the agency never talked to the caller.
                await self._abandon_run(session, "operator hung up")
                await self._timeline.set_incident(session, "open", run.plan)
                await self._destroy_consult(session)
            await self._if_caller_alone(session)
        elif run is not None and channel in run.ringing_legs:
            run.legs[channel] = cause or 0
            self.legs.pop(channel, None)
            if not run.ringing_legs:
                await self._end_attempt_unanswered(session, timed_out=False)
        elif run is not None and channel == run.agency:
            self.legs.pop(channel, None)
            run.agency = None
            self._timeline.record(session, "agency_left", {"cause": cause})
            if session.state is State.CONSULTING:
                session.run = None
                await self._back_to_caller(session)
            else:
                session.run = None
                session.state = State.IDLE
                await self._if_caller_alone(session)

    async def _if_caller_alone(self, session: Session) -> None:
        if session.operator is not None or session.state in (State.RINGING, State.ENDED):
            return
        if session.run is not None and session.run.agency is not None and session.state is State.CONNECTED:
            return
        if session.agency_talked:
            self._timeline.record(session, "dispatch_ended", {"reason": "caller alone after the agency call"})
            await self._pbx.hang_up(session.caller)
            await self._end(session)
        else:
            await self._requeue(session)

    # -- building blocks ---------------------------------------------------------------------------------------

    async def _abandon_run(self, session: Session, reason: str) -> None:
        """Stop ringing and drop a consulted agency; the run's remaining attempts are not tried."""
        run = session.run
        if run is None:
            return
        for leg in run.ringing_legs:
            self.legs.pop(leg, None)
            await self._pbx.hang_up(leg)
        if run.walk.current is not None:
            self._attempt_ended(session, run.walk.current, Outcome.CANCELLED, [])
        if run.agency is not None and session.state is State.CONSULTING:
            self.legs.pop(run.agency, None)
            await self._pbx.hang_up(run.agency)
            run.agency = None
        self._timeline.record(session, "dispatch_stopped", {"reason": reason})

    async def _back_to_caller(self, session: Session) -> None:
        """Attended or conference dispatch over without a transfer: operator and caller together again."""
        assert session.bridge is not None
        if session.consult is not None and session.operator is not None:
            await self._pbx.leave_bridge(session.consult, session.operator)
            await self._ari.add_to_bridge(session.bridge, session.operator)
        await self._destroy_consult(session)
        await self._hold(session, on=False)
        session.run = None
        session.state = State.IDLE
        await self._if_caller_alone(session)

    async def _drop_operator(self, session: Session, reason: str) -> None:
        operator, session.operator = session.operator, None
        if operator is not None:
            self._timeline.record(session, "operator_left", {"reason": reason})
            await self._pbx.hang_up(operator)

    async def _hold(self, session: Session, *, on: bool) -> None:
        if session.bridge is None or session.moh == on:
            return
        session.moh = on
        await self._pbx.set_hold_music(session.bridge, on=on)

    async def _destroy_consult(self, session: Session) -> None:
        consult, session.consult = session.consult, None
        if consult is not None:
            await self._pbx.destroy_bridge(consult)

    async def _requeue(self, session: Session) -> None:
        """The caller goes back to the operators' queue; dispatch lets go of the call."""
        self._timeline.record(session, "caller_requeued", {})
        await self._hold(session, on=False)
        await self._pbx.back_to_queue(session.caller)
        await self._drop_operator(session, "requeued")
        await self._end(session)

    async def _end(self, session: Session) -> None:
        run = session.run
        if run is not None and run.agency is not None:
            await self._pbx.hang_up(run.agency)
        await self._drop_operator(session, "call ended")
        await self._destroy_consult(session)
        if session.bridge is not None:
            await self._pbx.destroy_bridge(session.bridge)
        session.state = State.ENDED

    def _clock(self) -> Clock:
        return self._fixed_clock or asyncio.get_running_loop()
