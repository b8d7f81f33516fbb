"""A supervisor listens to, whispers to or barges into an operator's live call, on the supervisor's own phone.

How: AMI Originate rings the supervisor's phone (the operator-directory phone of their username, pbx/phones.py) and,
once answered, runs the dialplan's ntpd112-spy, where ChanSpy joins the operator's channel (its full name, found
with CoreShowChannels: only the channel of that operator's phone that is in a bridge). A new mode (or operator) for
a supervisor already listening is Setvar + Redirect of their channel back into ntpd112-spy: no second ring.

Why ChanSpy and not an ARI snoop channel: ChanSpy runs in the dialplan on an audiohook, so the listen goes on if the
service restarts, it needs no bridge of ours around the operator's call (the queue's bridge stays untouched), and it
ends by itself when the operator's call ends (option E). An ARI snoop would put the supervisor's channel and the
snoop channel in a Stasis bridge the service must create, watch and tear down, and would drop with the service.

State: Asterisk's, read on every request, so a restarted service still shows and stops a listen. The Originate gives
the supervisor's channel a uniqueid of ours (ChannelId, LISTEN_ID_PREFIX): that channel, ringing or answered, is the
listen, and it is the only channel a stop hangs up. Whom and how it listens: ChanSpy's own arguments while it runs,
else the channel variables the Originate (or a switch) set. ChanSpy runs without option d, so nothing but the
service changes the mode. The one thing kept in memory is an Originate Asterisk has queued but whose channel it has
not made yet (a few milliseconds), until its OriginateResponse.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel
from sqlalchemy import select

from ntpd112.clock import utcnow
from ntpd112.live import Hub, OperatorChanged
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError, AmiRefused, refusal
from ntpd112.pbx.ami_actions import (
    ChannelInfo,
    CoreShowChannels,
    DialplanLocation,
    Getvar,
    Hangup,
    Originate,
    Redirect,
    Setvar,
)
from ntpd112.pbx.names import (
    ENTRY_EXTENSION,
    SPY_CONTEXT,
    SPY_MODE_VARIABLE,
    SPY_SINCE_VARIABLE,
    SPY_TARGET_VARIABLE,
)
from ntpd112.queue.operators import OperatorError, interface
from ntpd112.store.db import Database
from ntpd112.store.models import Operator

log = get_logger(__name__)

SpyMode = Literal["listen", "whisper", "barge"]
# ringing: the supervisor's phone rings; joining: answered (or switching mode), ChanSpy not running yet;
# listening: ChanSpy runs on the operator's channel (it attaches its audiohooks ~100 ms after it starts).
SpyState = Literal["ringing", "joining", "listening"]
# The uniqueid (and the Originate's ActionID) of every listen's channel: ours, whoever started the service.
LISTEN_ID_PREFIX = "ntpd112-spy-"
RING_SECONDS = 30
# Asterisk answers an Originate within its ring time; past this an awaited OriginateResponse was lost (AMI
# reconnected meanwhile).
RING_GRACE_SECONDS = 5
# A stop that comes before Asterisk has made the listen's channel: how long it tries to hang it up.
CALL_OFF_TRIES = 20
CALL_OFF_PAUSE_SECONDS = 0.05
_SPY_ENTRY = DialplanLocation(SPY_CONTEXT, ENTRY_EXTENSION)
# ChanSpy's options beyond the common ones (ntpd112-spy) that make each mode.
_MODE_OPTIONS: dict[str, SpyMode] = {"w": "whisper", "B": "barge"}


class SpyView(BaseModel):
    """What a supervisor's phone is doing: ringing for, or listening to, one operator's call."""

    operator: str
    mode: SpyMode
    state: SpyState
    since: datetime


@dataclass(frozen=True)
class QueuedOriginate:
    """An Originate Asterisk has taken whose channel may not exist yet."""

    channel_id: str
    view: SpyView

    def lost(self, now: datetime) -> bool:
        return (now - self.view.since).total_seconds() > RING_SECONDS + RING_GRACE_SECONDS


class SpyService:
    def __init__(self, database: Database, ami: AmiClient, hub: Hub) -> None:
        self._database = database
        self._ami = ami
        self._hub = hub
        self._queued: dict[str, QueuedOriginate] = {}  # by supervisor username, until the OriginateResponse

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
        mine = listen_channel(channels, supervisor)
        if self._pending(supervisor) is not None or (mine is not None and mine.state != "Up"):
            raise OperatorError(409, "spy_phone_ringing", "your phone is ringing for a listen: answer it first")
        if mine is not None:
            await self._switch(mine.uniqueid, target.name, mode)
            view = SpyView(operator=operator, mode=mode, state="joining", since=utcnow())
        else:
            view = await self._ring(supervisor, operator, target.name, mode)
        log.info("supervisor listens", supervisor=supervisor, operator=operator, mode=mode, state=view.state)
        self._hub.publish(OperatorChanged(supervisor))
        return view

    async def current(self, supervisor: str) -> SpyView | None:
        mine = listen_channel(await self._channels(), supervisor)
        if mine is not None:
            return await self._read(mine)
        queued = self._pending(supervisor)
        return None if queued is None else queued.view

    async def stop(self, supervisor: str) -> None:
        """Hang up the supervisor's listening (or still ringing) phone: that one channel, nothing else of theirs."""
        mine = listen_channel(await self._channels(), supervisor)
        queued = self._pending(supervisor)
        self._queued.pop(supervisor, None)
        if mine is not None:
            await self._hang_up(mine.uniqueid)
        elif queued is not None:
            await self._call_off(supervisor, queued.channel_id)
        else:
            raise OperatorError(409, "not_listening", "you are not listening to any call")
        log.info("supervisor stopped listening", supervisor=supervisor)
        self._hub.publish(OperatorChanged(supervisor))

    # -- internals ----------------------------------------------------------------------------------------

    async def _channels(self) -> list[ChannelInfo]:
        try:
            return await self._ami.send(CoreShowChannels())
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    def _pending(self, supervisor: str) -> QueuedOriginate | None:
        """The supervisor's Originate still awaiting its response. One whose response was lost is forgotten: kept,
        it would show a listen ringing forever and refuse every next one as spy_phone_ringing."""
        queued = self._queued.get(supervisor)
        if queued is not None and queued.lost(utcnow()):
            del self._queued[supervisor]
            return None
        return queued

    async def _hang_up(self, channel_id: str) -> None:
        try:
            await self._ami.require(Hangup(channel_id))
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _call_off(self, supervisor: str, channel_id: str) -> None:
        """Hang up a listen whose Originate Asterisk has queued but whose channel it had not made a moment ago: it
        makes it within milliseconds (then rings the phone), so the hangup is tried until it is there."""
        for _ in range(CALL_OFF_TRIES):
            try:
                await self._ami.require(Hangup(channel_id))
            except AmiRefused:
                await asyncio.sleep(CALL_OFF_PAUSE_SECONDS)
            except AmiError as error:
                raise refusal(error, OperatorError) from None
            else:
                return
        log.warning("a listen's channel never appeared to be hung up", supervisor=supervisor, channel_id=channel_id)

    async def _read(self, channel: ChannelInfo) -> SpyView:
        """The listen as Asterisk has it: ChanSpy's arguments while it runs, else the variables set for it."""
        running = chanspy_listen(channel.application_data) if channel.application == "ChanSpy" else None
        target, mode, since = await asyncio.gather(
            *(self._variable(channel, name) for name in (SPY_TARGET_VARIABLE, SPY_MODE_VARIABLE, SPY_SINCE_VARIABLE))
        )
        if running is not None:
            target, mode = running
        state: SpyState = "ringing" if channel.state != "Up" else "joining" if running is None else "listening"
        return SpyView(
            operator=ChannelInfo.of({"Channel": target}).endpoint or target,
            mode=_mode(mode),
            state=state,
            since=datetime.fromtimestamp(int(since), UTC) if since.isdigit() else utcnow(),
        )

    async def _variable(self, channel: ChannelInfo, name: str) -> str:
        try:
            return await self._ami.send(Getvar(channel.uniqueid, name)) or ""
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _ring(self, supervisor: str, operator: str, target: str, mode: SpyMode) -> SpyView:
        channel_id = f"{LISTEN_ID_PREFIX}{uuid.uuid4()}"
        now = utcnow()
        view = SpyView(operator=operator, mode=mode, state="ringing", since=now)
        # Kept before the Originate is sent: a phone that cannot be rung answers at once, and its OriginateResponse
        # must find it to forget it.
        self._queued[supervisor] = QueuedOriginate(channel_id, view)
        try:
            await self._ami.require(
                Originate(
                    interface(supervisor),
                    _SPY_ENTRY,
                    action_id=channel_id,
                    channel_id=channel_id,
                    # The supervisor's phone shows whom it is about to listen to.
                    caller_id=f'"112 {mode} {operator}" <{operator}>',
                    ring_seconds=RING_SECONDS,
                    variables={
                        SPY_TARGET_VARIABLE: target,
                        SPY_MODE_VARIABLE: mode,
                        SPY_SINCE_VARIABLE: str(int(now.timestamp())),
                    },
                )
            )
        except AmiError as error:
            self._queued.pop(supervisor, None)
            raise refusal(error, OperatorError) from None
        return view

    async def _switch(self, channel_id: str, target: str, mode: SpyMode) -> None:
        try:
            await self._ami.require(Setvar(SPY_TARGET_VARIABLE, target, channel_id))
            await self._ami.require(Setvar(SPY_MODE_VARIABLE, mode, channel_id))
            # ChanSpy ends on the redirect (its channel's async goto) and ntpd112-spy starts it again.
            await self._ami.require(Redirect(channel_id, _SPY_ENTRY))
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _originate_response(self, event: dict[str, str]) -> None:
        action_id = event.get("ActionID", "")
        if not action_id.startswith(LISTEN_ID_PREFIX):
            return
        supervisor = next((s for s, q in self._queued.items() if q.channel_id == action_id), None)
        if supervisor is None:
            return
        # Answered or not, the channel now speaks for itself (or is gone).
        del self._queued[supervisor]
        if event.get("Response") != "Success":
            log.info("supervisor's phone did not answer the listen", supervisor=supervisor, reason=event.get("Reason"))
        self._hub.publish(OperatorChanged(supervisor))

    async def _spy_changed(self, event: dict[str, str]) -> None:
        if (event.get("SpyerUniqueid") or "").startswith(LISTEN_ID_PREFIX):
            spyer = ChannelInfo.of({"Channel": event.get("SpyerChannel", "")}).endpoint
            if spyer is not None:
                self._hub.publish(OperatorChanged(spyer))


def call_channel(channels: list[ChannelInfo], operator: str) -> ChannelInfo | None:
    """The operator's phone's channel that is in a bridge with someone (the call they are on)."""
    return next(
        (c for c in channels if c.endpoint == operator and c.bridge_id and c.state == "Up"),
        None,
    )


def listen_channel(channels: list[ChannelInfo], supervisor: str) -> ChannelInfo | None:
    """The supervisor's phone's channel the service originated for a listen (its uniqueid is ours), unless it is
    already hanging up; any other call on that phone (an overflow call ringing it) is not the listen."""
    return next(
        (
            c
            for c in channels
            if c.endpoint == supervisor and c.uniqueid.startswith(LISTEN_ID_PREFIX) and c.application != "Hangup"
        ),
        None,
    )


def _mode(value: str) -> SpyMode:
    return next((m for m in get_args(SpyMode) if m == value), "listen")


def chanspy_listen(application_data: str) -> tuple[str, SpyMode] | None:
    """Whom and how a ChanSpy of ntpd112-spy listens, from its arguments (`<channel>,qES[w|B]`)."""
    target, comma, options = application_data.rpartition(",")
    if not comma or not target:
        return None
    mode: SpyMode = next((m for option, m in _MODE_OPTIONS.items() if option in options), "listen")
    return target, mode
