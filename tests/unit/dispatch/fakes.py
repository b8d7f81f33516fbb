"""In-memory stand-ins for what the dispatch actor talks to (ARI, AMI, journal, incidents, the ring clock), and a
rig that wires them to a DispatchService and plays Asterisk's part: channels entering Stasis, answering, hanging up.

The fakes never wait, so a few turns of the event loop let the actor handle everything in its inbox (`settle`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ntpd112.dispatch.actor import DispatchService
from ntpd112.dispatch.models import DispatchMode, DispatchRequest, DispatchView
from ntpd112.pbx.ami import AmiRefused
from ntpd112.pbx.ami_actions import AmiAction, Reply
from ntpd112.pbx.ari import AriError
from ntpd112.pbx.ari_models import Channel, ChannelDestroyed, StasisEnd, StasisStart
from ntpd112.pbx.names import (
    DISPATCH_AGENCY_ROLE,
    DISPATCH_CALLER_ROLE,
    DISPATCH_OPERATOR_ROLE,
    DISPATCH_STASIS_ARG,
)
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.incidents import IncidentView
from tests.unit.dispatch.builders import rule, table

R = TypeVar("R")

CALL_ID = uuid.UUID("11211211-0000-4000-8000-000000000001")
CALLER = "1700000000.1"  # the caller's channel id (= uniqueid)
OPERATOR = "1700000000.2"
CALLER_NAME = "PJSIP/trunk-telkomsel-00000001"
OPERATOR_NAME = "PJSIP/op-ani-00000002"
ANI = "ani"  # the operator who dispatches
BUDI = "budi"  # another operator

# fire: fire-desk is linear (fire1, then fire2, 20 s each), then the police's 110 (30 s).
# Police as an agency: police-desk rings pol1 and pol2 together (30 s), then 110.
TABLE = table(rule("fire", categories=["fire"], chain=("fire-desk", "police-110")))


def leg(attempt: int, index: int = 0) -> str:
    """The channel id the actor gives the `index`th device of attempt `attempt`."""
    return f"{CALLER}-d{attempt}-{index}"


def incident(category: str = "fire") -> IncidentView:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    return IncidentView(
        id=uuid.uuid4(),
        call_id=CALL_ID,
        category=category,
        severity=None,
        address=None,
        description=None,
        lat=None,
        lon=None,
        area=None,
        status="open",
        created_by=ANI,
        updated_by=ANI,
        created_at=now,
        updated_at=now,
    )


class FakeAri:
    """Records every request as (method, *arguments); originating to a device in `unreachable` fails."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, ...]] = []
        self.channels = [Channel(id=CALLER, name=CALLER_NAME), Channel(id=OPERATOR, name=OPERATOR_NAME)]
        self.unreachable: set[str] = set()
        self._bridges = 0

    def of(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of every `method` request, in order."""
        return [request[1:] for request in self.requests if request[0] == method]

    async def get_channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    async def list_channels(self) -> list[Channel]:
        return list(self.channels)

    async def create_bridge(self, bridge_type: str = "mixing") -> str:
        self._bridges += 1
        bridge = f"bridge-{self._bridges}"
        self.requests.append(("create_bridge", bridge))
        return bridge

    async def destroy_bridge(self, bridge_id: str) -> None:
        self.requests.append(("destroy_bridge", bridge_id))

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        self.requests.append(("add_to_bridge", bridge_id, channel_id))

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        self.requests.append(("remove_from_bridge", bridge_id, channel_id))

    async def start_bridge_moh(self, bridge_id: str, moh_class: str) -> None:
        self.requests.append(("start_bridge_moh", bridge_id, moh_class))

    async def stop_bridge_moh(self, bridge_id: str) -> None:
        self.requests.append(("stop_bridge_moh", bridge_id))

    async def play(self, channel_id: str, media: str) -> None:
        self.requests.append(("play", channel_id, media))

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str, priority: int = 1) -> None:
        self.requests.append(("continue_in_dialplan", channel_id, context, extension))

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self.requests.append(("hangup", channel_id, reason))

    async def originate(
        self, channel_id: str, endpoint: str, app_args: str, *, timeout: int, caller_id: str, originator: str
    ) -> None:
        self.requests.append(("originate", channel_id, endpoint, app_args, timeout))
        if endpoint in self.unreachable:
            raise AriError(500, "Allocation failed", "POST", f"/channels/{channel_id}")


class AmiResponse(dict[str, str]):
    """What panoramisk hands an action's `reply`: the headers, and `success`."""

    def __init__(self, success: bool, **fields: str) -> None:
        super().__init__(fields)
        self.success = success


class FakeAmi:
    """Answers Getvar BRIDGEPEER with the operator's channel (`bridge_peer`), accepts everything else. Records the
    headers each typed action puts on the wire."""

    def __init__(self) -> None:
        self.actions: list[dict[str, str]] = []
        self.bridge_peer = OPERATOR_NAME

    async def send(self, action: AmiAction[R], *, timeout: float = 5.0) -> R:
        headers = action.headers()
        self.actions.append(headers)
        if headers["Action"] == "Getvar" and headers["Variable"] == "BRIDGEPEER":
            return action.reply(AmiResponse(bool(self.bridge_peer), Value=self.bridge_peer))
        return action.reply(AmiResponse(True, Response="Success"))

    async def require(self, action: AmiAction[Reply], *, timeout: float = 5.0) -> Reply:
        reply = await self.send(action)
        if not reply.success:
            raise AmiRefused(action.name, reply.message)
        return reply

    def names(self) -> list[str]:
        return [action["Action"] for action in self.actions]


class FakeJournal:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def record_event(
        self, call_id: uuid.UUID, event_type: str, data: dict[str, Any] | None = None, at: datetime | None = None
    ) -> None:
        assert call_id == CALL_ID
        self.events.append((event_type, data or {}))

    def types(self) -> list[str]:
        return [event_type for event_type, _ in self.events]

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [data for t, data in self.events if t == event_type]


class FakeIncidents:
    def __init__(self) -> None:
        self.incident: IncidentView | None = None
        self.statuses: list[str] = []  # every status dispatch saved, in order

    async def get(self, call_id: uuid.UUID) -> IncidentView | None:
        return self.incident

    async def save(
        self, call_id: uuid.UUID, fields: dict[str, Any], author: str, defaults: dict[str, Any] | None = None
    ) -> IncidentView:
        assert self.incident is not None and author.startswith("dispatch:")
        self.statuses.append(fields["status"])
        return self.incident


class FakeTickets:
    def __init__(self) -> None:
        self.handed: list[tuple[str, bool]] = []  # (agency, acknowledged), in order

    async def handed_over(self, call_id: uuid.UUID, agency: str, *, acknowledged: bool) -> None:
        self.handed.append((agency, acknowledged))


class FakeTables:
    def __init__(self, current: RoutingTable) -> None:
        self.current = current

    async def current_table(self) -> RoutingTable:
        return self.current


class FakeCalls:
    def __init__(self) -> None:
        self.live = True

    def uniqueid_of(self, call_id: uuid.UUID) -> str | None:
        return CALLER if self.live and call_id == CALL_ID else None


@dataclass
class FakeTimer:
    when: float
    callback: Callable[[], object]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.timers: list[FakeTimer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], object]) -> FakeTimer:
        timer = FakeTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    @property
    def pending(self) -> list[FakeTimer]:
        return [t for t in self.timers if not t.cancelled and t.when > self.now]

    def advance(self, seconds: float) -> None:
        """Move time on and fire the timers that fall due."""
        due = sorted((t for t in self.pending if t.when <= self.now + seconds), key=lambda t: t.when)
        self.now += seconds
        for timer in due:
            if not timer.cancelled:
                timer.callback()


class Rig:
    def __init__(self, routing_table: RoutingTable = TABLE) -> None:
        self.ari = FakeAri()
        self.ami = FakeAmi()
        self.journal = FakeJournal()
        self.incidents = FakeIncidents()
        self.calls = FakeCalls()
        self.tickets = FakeTickets()
        self.clock = FakeClock()
        self.service = DispatchService(
            self.ari,
            self.ami,
            self.journal,
            self.incidents,
            FakeTables(routing_table),
            self.calls,
            self.tickets,
            self.clock,
        )

    async def dispatch(self, mode: DispatchMode, by: str = ANI, **request: str) -> DispatchView:
        """Ask for a dispatch; on the first one, Asterisk's part of the take-over: both channels enter Stasis."""
        redirects = self.ami.names().count("Redirect")
        asking = asyncio.ensure_future(self.service.dispatch(CALL_ID, DispatchRequest(mode=mode, **request), by))
        await self.settle()
        if self.ami.names().count("Redirect") > redirects:
            await self.enter_stasis(CALLER, DISPATCH_CALLER_ROLE)
            await self.enter_stasis(OPERATOR, DISPATCH_OPERATOR_ROLE)
        return await asking

    async def enter_stasis(self, channel: str, role: str, caller: str = CALLER) -> None:
        event = StasisStart(type="StasisStart", channel=Channel(id=channel), args=[DISPATCH_STASIS_ARG, role, caller])
        await self.service.on_stasis_start(event)
        await self.settle()

    async def answer(self, channel: str) -> None:
        """An agency desk answers: its originated channel enters Stasis."""
        await self.enter_stasis(channel, DISPATCH_AGENCY_ROLE)

    async def hang_up(self, channel: str, cause: int = 16) -> None:
        """Asterisk reports the channel destroyed (16: normal clearing, 17: busy, 19: no answer)."""
        self.service.on_channel_left(
            ChannelDestroyed(type="ChannelDestroyed", channel=Channel(id=channel), cause=cause)
        )
        await self.settle()

    async def leave_stasis(self, channel: str) -> None:
        self.service.on_channel_left(StasisEnd(type="StasisEnd", channel=Channel(id=channel)))
        await self.settle()

    async def ring_timeout(self) -> None:
        """Let the ring timer of the attempt now ringing fire."""
        [timer] = self.clock.pending
        self.clock.advance(timer.when - self.clock.now)
        await self.settle()

    @staticmethod
    async def settle() -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    def view(self) -> DispatchView | None:
        return self.service.view(CALL_ID)

    def state(self) -> str | None:
        view = self.view()
        return None if view is None else view.state
