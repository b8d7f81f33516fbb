"""What a dispatch actor handles, one message at a time: the operator's requests (answered on their `reply`) and
what happens on the channels (ARI events, the ring timer)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ntpd112.dispatch.models import DispatchView
from ntpd112.dispatch.plan import DispatchPlan

Reply = asyncio.Future[DispatchView]


def _new_reply() -> Reply:
    return asyncio.get_running_loop().create_future()


@dataclass(frozen=True, kw_only=True)
class Request:
    """An operator's request: the actor answers with the dispatch's view, or a DispatchError."""

    reply: Reply = field(default_factory=_new_reply, compare=False, repr=False)


@dataclass(frozen=True)
class StartDispatch(Request):
    plan: DispatchPlan


@dataclass(frozen=True)
class Complete(Request):
    """Attended: hand the consulted agency to the caller; the operator's part ends."""


@dataclass(frozen=True)
class Cancel(Request):
    """Attended, before completing: stop ringing or drop the consulted agency; the operator is back with the caller."""


@dataclass(frozen=True)
class Leave(Request):
    """Conference with an agency in: the operator leaves, caller and agency talk on."""


@dataclass(frozen=True)
class AgencyAnswered:
    leg: str  # the agency channel that entered Stasis


@dataclass(frozen=True)
class RingTimeout:
    attempt: int  # the attempt's number: a timer that fires after its attempt ended is ignored


@dataclass(frozen=True)
class ChannelGone:
    channel: str
    cause: int | None  # the hangup cause; None when the channel only left our app (StasisEnd)


OperatorRequest = StartDispatch | Complete | Cancel | Leave
ChannelEvent = AgencyAnswered | RingTimeout | ChannelGone
Message = OperatorRequest | ChannelEvent
