"""A supervisor listens to, whispers to or barges into an operator's live call, on the supervisor's own phone.

How: AMI Originate rings the supervisor's phone (the operator-directory phone of their username, pbx/phones.py) and,
once answered, runs the dialplan's ntpd112-spy, where ChanSpy joins the operator's channel (its full name, found
with CoreShowChannels: only the channel of that operator's phone that is in a bridge). A new mode (or operator) for
a supervisor already listening is Setvar + Redirect of their channel back into ntpd112-spy: no second ring.

Why ChanSpy and not an ARI snoop channel: ChanSpy runs in the dialplan on an audiohook, so the listen goes on if the
service restarts, it needs no bridge of ours around the operator's call (the queue's bridge stays untouched), it
ends by itself when the operator's call ends (option E), and its option d gives the supervisor's keypad the
listen/whisper/barge switch (4/5/6) for free. An ARI snoop would put the supervisor's channel and the snoop channel
in a Stasis bridge the service must create, watch and tear down, and would drop with the service.

State: the service keeps who listens to whom in memory (one process), from its own requests, OriginateResponse and
ChanSpyStart/ChanSpyStop; a read checks the supervisor's channel is still there (Asterisk is the truth).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select

from ntpd112.clock import utcnow
from ntpd112.live import Hub, OperatorChanged
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError, refusal
from ntpd112.pbx.ami_actions import (
    ChannelInfo,
    CoreShowChannels,
    DialplanLocation,
    Hangup,
    Originate,
    Redirect,
    Setvar,
)
from ntpd112.pbx.names import ENTRY_EXTENSION, SPY_CONTEXT, SPY_MODE_VARIABLE, SPY_TARGET_VARIABLE
from ntpd112.queue.operators import OperatorError, interface
from ntpd112.store.db import Database
from ntpd112.store.models import Operator

log = get_logger(__name__)

SpyMode = Literal["listen", "whisper", "barge"]
# ringing: the supervisor's phone rings; joining: answered (or switching mode), ChanSpy not attached yet; listening:
# ChanSpy is attached to the operator's channel (its ChanSpyStart came).
SpyState = Literal["ringing", "joining", "listening"]
# The Originate's ActionID, which its OriginateResponse carries back.
_ACTION_PREFIX = "ntpd112-spy-"
RING_SECONDS = 30
RING_GRACE_SECONDS = 5
_SPY_ENTRY = DialplanLocation(SPY_CONTEXT, ENTRY_EXTENSION)


class SpyView(BaseModel):
    """What a supervisor's phone is doing: ringing for, or listening to, one operator's call."""

    operator: str
    mode: SpyMode  # as last asked for; keys 4/5/6 on the supervisor's phone change it without the service knowing
    state: SpyState
    since: datetime


@dataclass(frozen=True)
class _Session:
    operator: str
    mode: SpyMode
    state: SpyState
    since: datetime
    action_id: str
    channel: str | None = None  # the supervisor's channel, once answered


class SpyService:
    def __init__(self, database: Database, ami: AmiClient, hub: Hub) -> None:
        self._database = database
        self._ami = ami
        self._hub = hub
        self._sessions: dict[str, _Session] = {}  # by supervisor username

    def attach(self, ami: AmiClient) -> None:
        ami.on("OriginateResponse", self._originate_response)
        ami.on("ChanSpyStart", self._spy_changed)
        ami.on("ChanSpyStop", self._spy_changed)

    async def start(self, supervisor: str, operator: str, mode: SpyMode) -> SpyView:
        """Listen to `operator`'s call in `mode`: ring the supervisor's phone, or switch the listen already on."""
        if supervisor == operator:
            raise OperatorError(409, "spy_on_self", "a supervisor cannot listen to their own call")
        async with self._database.session() as session:
            names = set(
                await session.scalars(select(Operator.username).where(Operator.username.in_((supervisor, operator))))
            )
        if operator not in names:
            raise OperatorError(404, "operator_not_found", f"no operator {operator}")
        if supervisor not in names:
            raise OperatorError(
                409,
                "no_supervisor_phone",
                f"{supervisor} has no phone: an admin adds one (POST /api/operators, role supervisor, same username)",
            )
        channels = await self._channels()
        target = call_channel(channels, operator)
        if target is None:
            raise OperatorError(409, "operator_not_on_call", f"{operator} is not on a call")
        current = self._live(supervisor, channels)
        if current is not None and current.state == "ringing":
            raise OperatorError(409, "spy_phone_ringing", "your phone is ringing for a listen: answer it first")
        if current is not None and current.channel is not None:
            await self._switch(current.channel, target.name, mode)
            updated = replace(current, operator=operator, mode=mode, state="joining", since=utcnow())
            self._sessions[supervisor] = updated
        else:
            updated = await self._ring(supervisor, operator, target.name, mode)
        log.info("supervisor listens", supervisor=supervisor, operator=operator, mode=mode, state=updated.state)
        self._hub.publish(OperatorChanged(supervisor))
        return _view(updated)

    async def current(self, supervisor: str) -> SpyView | None:
        if supervisor not in self._sessions:
            return None
        live = self._live(supervisor, await self._channels())
        return None if live is None else _view(live)

    async def stop(self, supervisor: str) -> None:
        """Hang up the supervisor's listening (or still ringing) phone."""
        if supervisor not in self._sessions:
            raise OperatorError(409, "not_listening", "you are not listening to any call")
        channels = await self._channels()
        session = self._live(supervisor, channels)
        self._sessions.pop(supervisor, None)
        if session is not None:
            for channel in _spy_channels(channels, supervisor, session):
                try:
                    await self._ami.send(Hangup(channel))
                except AmiError as error:
                    raise refusal(error, OperatorError) from None
        log.info("supervisor stopped listening", supervisor=supervisor)
        self._hub.publish(OperatorChanged(supervisor))

    # -- internals ----------------------------------------------------------------------------------------

    async def _channels(self) -> list[ChannelInfo]:
        try:
            return await self._ami.send(CoreShowChannels())
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    def _live(self, supervisor: str, channels: list[ChannelInfo]) -> _Session | None:
        """The supervisor's session if Asterisk still has it (their answered channel exists and is not hanging up);
        a session Asterisk no longer has is forgotten."""
        session = self._sessions.get(supervisor)
        if session is None:
            return None
        if session.channel is None:
            # Ringing: its OriginateResponse ends it; lost (AMI reconnected meanwhile), the ring time does.
            if (utcnow() - session.since).total_seconds() > RING_SECONDS + RING_GRACE_SECONDS:
                self._sessions.pop(supervisor, None)
                return None
            return session
        mine = next((c for c in channels if c.name == session.channel), None)
        if mine is None or mine.application == "Hangup":
            self._sessions.pop(supervisor, None)
            return None
        return session

    async def _ring(self, supervisor: str, operator: str, target: str, mode: SpyMode) -> _Session:
        action_id = f"{_ACTION_PREFIX}{uuid.uuid4()}"
        # Kept before the Originate is sent: a phone that cannot be rung answers at once, and its OriginateResponse
        # must find the session to end it.
        session = self._sessions[supervisor] = _Session(operator, mode, "ringing", utcnow(), action_id)
        try:
            await self._ami.require(
                Originate(
                    interface(supervisor),
                    _SPY_ENTRY,
                    action_id=action_id,
                    # The supervisor's phone shows whom it is about to listen to.
                    caller_id=f'"112 {mode} {operator}" <{operator}>',
                    ring_seconds=RING_SECONDS,
                    variables={SPY_TARGET_VARIABLE: target, SPY_MODE_VARIABLE: mode},
                )
            )
        except AmiError as error:
            self._sessions.pop(supervisor, None)
            raise refusal(error, OperatorError) from None
        # The answer may already have come (the phone answered at once): return what the events made of it.
        return self._sessions.get(supervisor, session)

    async def _switch(self, channel: str, target: str, mode: SpyMode) -> None:
        try:
            await self._ami.require(Setvar(SPY_TARGET_VARIABLE, target, channel))
            await self._ami.require(Setvar(SPY_MODE_VARIABLE, mode, channel))
            # ChanSpy ends on the redirect (its channel's async goto) and ntpd112-spy starts it again.
            await self._ami.require(Redirect(channel, _SPY_ENTRY))
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _originate_response(self, event: dict[str, str]) -> None:
        action_id = event.get("ActionID", "")
        if not action_id.startswith(_ACTION_PREFIX):
            return
        found = next(((s, v) for s, v in self._sessions.items() if v.action_id == action_id), None)
        if found is None:
            return
        supervisor, session = found
        if event.get("Response") == "Success":
            # Answered: from here on the session is the supervisor's channel.
            state: SpyState = "listening" if session.state == "listening" else "joining"
            self._sessions[supervisor] = replace(session, state=state, channel=event.get("Channel") or None)
        else:
            self._sessions.pop(supervisor, None)
            log.info("supervisor's phone did not answer the listen", supervisor=supervisor, reason=event.get("Reason"))
        self._hub.publish(OperatorChanged(supervisor))

    async def _spy_changed(self, event: dict[str, str]) -> None:
        spyer = ChannelInfo.of({"Channel": event.get("SpyerChannel", "")}).endpoint
        channel = event.get("SpyerChannel")
        session = self._sessions.get(spyer or "")
        # (A start may be read before the OriginateResponse that names the channel: it names it then.)
        if spyer is None or session is None or session.channel not in (None, channel):
            return
        # ChanSpyStop also comes on a switch (the redirect) before the next start: joining until then; a read
        # checks the channel is still there when the listen ended for good.
        state: SpyState = "listening" if event.get("Event") == "ChanSpyStart" else "joining"
        since = utcnow() if state == "listening" and session.state != "listening" else session.since
        self._sessions[spyer] = replace(session, state=state, channel=channel, since=since)
        self._hub.publish(OperatorChanged(spyer))


def call_channel(channels: list[ChannelInfo], operator: str) -> ChannelInfo | None:
    """The operator's phone's channel that is in a bridge with someone (the call they are on)."""
    return next(
        (c for c in channels if c.endpoint == operator and c.bridge_id and c.state == "Up"),
        None,
    )


def _spy_channels(channels: list[ChannelInfo], supervisor: str, session: _Session) -> list[str]:
    """The supervisor's channels to hang up: the answered one; while it rings, their phone's unbridged channels
    that are not up (the Originate's; an overflow call ringing them at the same moment would go too, a rare race)."""
    if session.channel is not None:
        return [session.channel]
    return [c.name for c in channels if c.endpoint == supervisor and not c.bridge_id and c.state != "Up"]


def _view(session: _Session) -> SpyView:
    return SpyView(operator=session.operator, mode=session.mode, state=session.state, since=session.since)
