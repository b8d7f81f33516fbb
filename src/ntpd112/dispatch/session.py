"""The state of one call held by dispatch: the session (caller, operator, our bridges) and the run of the dispatch
going on in it (the chain being walked, the legs ringing, the agency that answered)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ntpd112.dispatch.messages import Message
from ntpd112.dispatch.models import AttemptView, DispatchView
from ntpd112.dispatch.plan import DispatchPlan
from ntpd112.routing.chain import ChainWalk


class State(StrEnum):
    STARTING = "starting"  # channels on their way into Stasis
    IDLE = "idle"  # caller (and operator) held in our bridge, no dispatch running
    RINGING = "ringing"
    CONSULTING = "consulting"  # attended: operator and agency talk, caller on hold
    CONNECTED = "connected"  # an agency talks with the caller
    ENDED = "ended"


class Timer(Protocol):
    def cancel(self) -> None: ...


@dataclass
class Run:
    """One dispatch request carried out on a session."""

    plan: DispatchPlan
    walk: ChainWalk
    legs: dict[str, int | None] = field(default_factory=dict)  # ringing channel -> hangup cause once ended
    ring_started: float = 0.0
    timer: Timer | None = None  # ends the current attempt as unanswered
    agency: str | None = None  # the channel of the agency that answered

    @classmethod
    def of(cls, plan: DispatchPlan) -> Run:
        return cls(plan, ChainWalk.of(plan.steps))

    @property
    def ringing_legs(self) -> list[str]:
        return [leg for leg, cause in self.legs.items() if cause is None]

    @property
    def hangup_causes(self) -> list[int]:
        return [cause for cause in self.legs.values() if cause is not None]


@dataclass
class Session:
    call_id: uuid.UUID
    caller: str  # channel id (= uniqueid) of the caller
    operator: str | None = None
    inbox: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    arrived: set[str] = field(default_factory=set)  # the roles already in Stasis after the take-over
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    state: State = State.STARTING
    bridge: str | None = None  # holds the caller (and the operator, and an agency once connected)
    consult: str | None = None  # attended: operator and agency while the caller waits
    moh: bool = False  # the caller's bridge plays the hold music
    run: Run | None = None
    agency_talked: bool = False  # an agency was in the caller's bridge: the call may end when it is alone


def view_of(session: Session, run: Run | None = None) -> DispatchView:
    """The session as the room sees it; `run` for a run that is not (or no longer) the session's."""
    run = run or session.run
    outcomes = {a.number: o for a, o in run.walk.outcomes} if run else {}
    decision = run.plan.decision if run else None
    return DispatchView(
        call_id=session.call_id,
        mode=run.plan.mode if run else None,
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
        requested_by=run.plan.by if run else None,
    )
