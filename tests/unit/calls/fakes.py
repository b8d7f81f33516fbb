"""In-memory stand-ins for what the call handler talks to: ARI, AMI, the journal, intake's lookups.

They record every call in order, so a test can check what the handler did and in which order, without Asterisk or
PostgreSQL. Only the methods the call handler uses exist.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ntpd112.clock import call_id_for
from ntpd112.intake.cells import CellKey
from ntpd112.pbx.ami import AmiRefused
from ntpd112.pbx.ami_actions import AmiAction, Reply
from ntpd112.pbx.ari import AriError, AriUnavailable
from ntpd112.pbx.ari_models import Channel
from ntpd112.store.history import CallerContext
from ntpd112.store.intake_lookups import IntakeFindings
from ntpd112.store.locations import IntakeLocation

APP = "ntpd112"


class FakeAri:
    """Channel variables from a dict; a variable that is not there fails the way Asterisk does (HTTP 500). A channel
    in `gone` has hung up: Asterisk no longer knows it (subscribe 422, other steps 404)."""

    def __init__(self, variables: dict[str, str], channels: list[Channel] | None = None) -> None:
        self.app = APP
        self.variables = variables
        self.channels = channels or []
        self.gone: set[str] = set()
        self.unanswered_subscriptions = 0  # this many subscription requests time out first
        self.actions: list[tuple[Any, ...]] = []
        self.continued = asyncio.Event()  # set by the first `continue`
        self.reads: list[str] = []  # every variable read over ARI, in order
        self.started: str | None = "2026-11-22T03:00:00.000+0000"  # Asterisk's startup time

    def _exists(self, channel_id: str, status: int = 404) -> None:
        if channel_id in self.gone:
            raise AriError(status, "Channel not found", "POST", f"/channels/{channel_id}")

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        self.reads.append(variable)
        if variable not in self.variables:
            raise AriError(500, "Unable to read provided function", "GET", f"/channels/{channel_id}/variable")
        return self.variables[variable]

    async def answer(self, channel_id: str) -> None:
        self.actions.append(("answer", channel_id))

    async def subscribe_channel(self, channel_id: str) -> None:
        self.actions.append(("subscribe", channel_id))
        if self.unanswered_subscriptions > 0:
            self.unanswered_subscriptions -= 1
            raise AriUnavailable(0, "TimeoutError: ", "POST", "/applications/ntpd112/subscription")
        self._exists(channel_id, 422)

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        self.actions.append(("set_variable", channel_id, variable, value))
        self._exists(channel_id)

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str, priority: int = 1) -> None:
        self.actions.append(("continue", channel_id, context, extension))
        self.continued.set()
        self._exists(channel_id)

    async def get_channel(self, channel_id: str) -> Channel | None:
        return None if channel_id in self.gone else Channel(id=channel_id)

    async def list_channels(self) -> list[Channel]:
        return self.channels

    async def startup_time(self) -> str | None:
        return self.started

    def names(self) -> list[str]:
        return [action[0] for action in self.actions]


class FakeAmi:
    """Records every action; an action named in `refused` gets Asterisk's error answer."""

    def __init__(self, refused: set[str] | None = None) -> None:
        self.refused = refused or set()
        self.actions: list[AmiAction[Any]] = []

    async def require(self, action: AmiAction[Reply]) -> Reply:
        self.actions.append(action)
        if action.name in self.refused:
            raise AmiRefused(action.name, "No such channel")
        return Reply(success=True, message="")


@dataclass(frozen=True)
class JournalEvent:
    call_id: uuid.UUID
    type: str
    data: dict[str, Any]
    at: datetime | None = None  # None: the journal stamps it when it takes it


@dataclass
class FakeJournal:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[JournalEvent] = field(default_factory=list)
    fixes: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    aml_claims: list[tuple[uuid.UUID, str, datetime]] = field(default_factory=list)

    def record_call(self, uniqueid: str, **fields: Any) -> uuid.UUID:
        self.calls.append((uniqueid, fields))
        return call_id_for(uniqueid)

    def record_event(
        self, call_id: uuid.UUID, event_type: str, data: dict[str, Any] | None = None, at: datetime | None = None
    ) -> None:
        self.events.append(JournalEvent(call_id, event_type, data or {}, at))

    def record_fix(self, call_id: uuid.UUID, columns: dict[str, Any]) -> uuid.UUID:
        self.fixes.append((call_id, columns))
        return uuid.uuid4()

    def claim_aml(self, call_id: uuid.UUID, caller_number: str, offered_at: datetime) -> None:
        self.aml_claims.append((call_id, caller_number, offered_at))

    def types(self) -> list[str]:
        return [event.type for event in self.events]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event.data for event in self.events if event.type == event_type]


class FakeLookups:
    """Intake's lookups. `answer` held back: they answer only once the test sets it (lookups slower than intake's head
    start)."""

    def __init__(
        self,
        context: CallerContext | None = None,
        found: IntakeLocation | None = None,
        *,
        error: Exception | None = None,
        answer: asyncio.Event | None = None,
    ) -> None:
        self.context = context
        self.found = found or IntakeLocation()
        self.error = error
        self.answer = answer
        self.asked: list[tuple[str | None, CellKey | None]] = []

    async def lookup(
        self, number_e164: str | None, cell: CellKey | None, offered_at: datetime, exclude_uniqueid: str
    ) -> IntakeFindings:
        self.asked.append((number_e164, cell))
        if self.answer is not None:
            await self.answer.wait()
        if self.error is not None:
            raise self.error
        return IntakeFindings(self.context if number_e164 else None, self.found)
