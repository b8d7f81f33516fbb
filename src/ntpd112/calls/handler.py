"""What happens to a 112 call while the service holds it: intake in the Stasis app, then into the queue.

Rule one: a call is never lost to bad input or a failed step. Every step that can fail is caught, recorded as an
event on the call's timeline, and the call goes on to the queue anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ntpd112.intake.identity import CallerIdentity, identify_caller
from ntpd112.logs import call_logger, get_logger
from ntpd112.metrics import Metrics
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.ari_models import (
    AriEvent,
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    StasisStart,
)
from ntpd112.pbx.asterisk_config import TrunkTable
from ntpd112.queue.priority import queue_priority
from ntpd112.queue.room import PrioritySettings
from ntpd112.store.history import CallerHistory
from ntpd112.store.journal import Journal, utcnow

log = get_logger(__name__)

QUEUE_CONTEXT = "ntpd112-queue"
QUEUE_EXTENSION = "s"
# SIP headers read at intake. Values are kept raw on the timeline; parsing happens in intake/.
INTAKE_HEADERS = ("P-Asserted-Identity", "From", "Privacy")
MAX_RAW_HEADER = 8192


@dataclass
class ActiveCall:
    call_id: uuid.UUID
    uniqueid: str
    log: Any
    hangup_cause: int | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class StasisArgs:
    """The arguments the dialplan passes to Stasis(): trunk endpoint, linkedid, dialed number, recording file."""

    endpoint: str
    linkedid: str | None
    dialed: str | None
    recording: str | None = None

    @classmethod
    def parse(cls, args: list[str]) -> StasisArgs:
        padded = [*args, "", "", "", ""]
        return cls(
            endpoint=padded[0][:80],
            linkedid=padded[1][:150] or None,
            dialed=padded[2][:80] or None,
            recording=padded[3][:255] or None,
        )

    @classmethod
    def from_app_data(cls, app_data: str) -> StasisArgs:
        # app_data is "ntpd112,trunk-x,linkedid,112": the first item is the application name.
        return cls.parse(app_data.split(",")[1:])


class CallHandler:
    def __init__(
        self,
        ari: AriClient,
        journal: Journal,
        trunks: TrunkTable,
        metrics: Metrics,
        history: CallerHistory,
        priorities: PrioritySettings,
    ) -> None:
        self._ari = ari
        self._journal = journal
        self._trunks = trunks
        self._metrics = metrics
        self._history = history
        self._priorities = priorities
        self.active: dict[str, ActiveCall] = {}

    # -- events -------------------------------------------------------------------------------------------

    async def on_event(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            await self.intake(event.channel, StasisArgs.parse(event.args))
        elif isinstance(event, ChannelHangupRequest):
            call = self.active.get(event.channel.id)
            if call is not None and event.cause:
                call.log.debug("hangup requested", cause=event.cause)
                call.hangup_cause = event.cause
        elif isinstance(event, ChannelDestroyed):
            self._ended(event.channel.id, event.cause, event.cause_txt)

    async def resync(self) -> None:
        """After every (re)connect: Asterisk does not replay events missed while we were away."""
        try:
            channels = {channel.id: channel for channel in await self._ari.list_channels()}
        except AriError as error:
            log.warning("resync failed; will retry on next connect", error=str(error))
            return
        for uniqueid, call in list(self.active.items()):
            if uniqueid not in channels:
                call.log.info("call ended while ari was disconnected")
                self._journal.record_event(call.call_id, "ended_unobserved", {"reason": "ended while disconnected"})
                self._ended(uniqueid, 0, "ended while the service was disconnected")
            else:
                await self._subscribe(call)
        waiting = [c for c in channels.values() if self._waits_in_our_app(c) and c.id not in self.active]
        for channel in waiting:
            log.info("resync: call waiting in stasis picked up", uniqueid=channel.id)
            await self.intake(channel, StasisArgs.from_app_data(channel.dialplan.app_data), resynced=True)

    def _waits_in_our_app(self, channel: Channel) -> bool:
        # Channels that dispatch holds (Stasis(ntpd112,dispatch,...)) are past intake: not picked up here.
        app_args = channel.dialplan.app_data.split(",")
        return channel.dialplan.app_name == "Stasis" and app_args[0] == self._ari.app and app_args[1:2] != ["dispatch"]

    def uniqueid_of(self, call_id: uuid.UUID) -> str | None:
        """The caller's channel of a call this service is handling now; None once it has ended."""
        return next((uniqueid for uniqueid, call in self.active.items() if call.call_id == call_id), None)

    # -- intake -------------------------------------------------------------------------------------------

    async def intake(self, channel: Channel, args: StasisArgs, *, resynced: bool = False) -> None:
        try:
            await self._intake(channel, args, resynced)
        except Exception as error:
            # Last resort: whatever broke, the caller still goes to the queue and the failure is on record.
            log.exception("intake failed; sending the call to the queue anyway", uniqueid=channel.id)
            call = self.active.get(channel.id)
            if call is not None:
                self._journal.record_event(call.call_id, "intake_failed", {"error": repr(error)[:300]})
            with contextlib.suppress(AriError):
                await self._ari.continue_in_dialplan(channel.id, QUEUE_CONTEXT, QUEUE_EXTENSION)

    async def _intake(self, channel: Channel, args: StasisArgs, resynced: bool) -> None:
        started = time.perf_counter()
        uniqueid = channel.id
        trunk = self._trunks.by_endpoint(args.endpoint)
        headers = await self._read_headers(uniqueid)
        identity = identify_caller(
            headers.get("P-Asserted-Identity"),
            headers.get("From"),
            channel.caller.number,
            channel.caller.name,
            privacy=headers.get("Privacy"),
        )
        call_id = self._journal.record_call(
            uniqueid,
            linkedid=args.linkedid,
            trunk=trunk.name if trunk else args.endpoint or None,
            carrier=trunk.operator if trunk else None,
            dialed_number=args.dialed,
            caller_number_raw=identity.number_raw,
            caller_number=identity.number_e164,
            caller_name=identity.display_name,
            caller_presentation=identity.presentation,
            handled_by="service",
            offered_at=channel.creationtime or utcnow(),
            recording_path=args.recording,
        )
        call = ActiveCall(call_id, uniqueid, call_logger(__name__, str(call_id), uniqueid=uniqueid))
        self.active[uniqueid] = call
        self._metrics.calls_offered.inc()
        self._metrics.calls_active.inc()
        self._journal.record_event(call_id, "offered", self._offered_data(channel, args, headers, identity, resynced))
        if trunk is None:
            self._journal.record_event(call_id, "parse_error", {"field": "trunk", "value": args.endpoint[:200]})
        for problem in identity.problems:
            self._journal.record_event(call_id, "parse_error", {"field": "caller_identity", "problem": problem})
        call.log.info("112 call offered", trunk=args.endpoint, caller=identity.number_e164 or identity.number_raw)

        if await self._step(call, "answer", self._ari.answer(uniqueid)):
            call.answered_at = utcnow()
            self._journal.record_call(uniqueid, answered_at=call.answered_at)
            self._journal.record_event(call_id, "answered")
            self._metrics.calls_answered.inc()
        await self._subscribe(call)
        await self._prioritise(call, identity)
        if await self._step(call, "continue", self._ari.continue_in_dialplan(uniqueid, QUEUE_CONTEXT, QUEUE_EXTENSION)):
            elapsed = time.perf_counter() - started
            self._metrics.intake_seconds.observe(elapsed)
            self._journal.record_event(call_id, "queued", {"intake_ms": round(elapsed * 1000, 2)})

    async def _prioritise(self, call: ActiveCall, identity: CallerIdentity) -> None:
        context = None
        if identity.number_e164:
            context = await self._history.lookup(identity.number_e164, utcnow(), exclude_uniqueid=call.uniqueid)
        priority = queue_priority(
            self._priorities,
            has_location=False,  # no location sources are read at intake yet
            repeat_caller=bool(context and context.repeat_caller),
            prankster=bool(context and context.prankster),
        )
        self._journal.record_call(call.uniqueid, queue_priority=priority)
        self._journal.record_event(
            call.call_id, "prioritised", {"priority": priority, "history": context.model_dump() if context else None}
        )
        await self._step(call, "priority", self._ari.set_variable(call.uniqueid, "QUEUE_PRIO", str(priority)))

    async def _read_headers(self, uniqueid: str) -> dict[str, str]:
        async def read(name: str) -> tuple[str, str | None]:
            try:
                return name, await self._ari.get_variable(uniqueid, f"PJSIP_HEADER(read,{name})")
            except AriError:
                return name, None

        results = await asyncio.gather(*(read(name) for name in INTAKE_HEADERS))
        return {name: value[:MAX_RAW_HEADER] for name, value in results if value}

    @staticmethod
    def _offered_data(
        channel: Channel, args: StasisArgs, headers: dict[str, str], identity: CallerIdentity, resynced: bool
    ) -> dict[str, Any]:
        return {
            "trunk_endpoint": args.endpoint,
            "channel": channel.name,
            "caller": {"number": channel.caller.number, "name": channel.caller.name},
            "identity": identity.model_dump(exclude={"problems"}),
            "headers": headers,
            "resynced": resynced,
        }

    async def _step(self, call: ActiveCall, name: str, action: Any) -> bool:
        """Run one ARI step of the call flow; a failure is an event on the timeline, not an exception."""
        try:
            await action
        except AriError as error:
            call.log.warning("call step failed", step=name, error=str(error))
            self._journal.record_event(
                call.call_id, "step_failed", {"step": name, "status": error.status, "error": str(error)[:300]}
            )
            return False
        return True

    async def _subscribe(self, call: ActiveCall) -> None:
        # After `continue` the channel leaves Stasis; without this subscription the service would not hear how
        # and when the call ends.
        await self._step(call, "subscribe", self._ari.subscribe_channel(call.uniqueid))

    def _ended(self, uniqueid: str, cause: int, cause_text: str) -> None:
        call = self.active.pop(uniqueid, None)
        if call is None:
            return
        # Quirk: ChannelDestroyed carries the channel's last HANGUPCAUSE, which a dialplan application may have
        # overwritten (0 after Playback, 3 after a failed Dial to an overflow target); the cause of the hangup
        # request (e.g. 16 for the caller's BYE) says how the call really ended.
        final_cause = call.hangup_cause or cause
        ended_at = utcnow()
        # MixMonitor writes from answer to hangup; on a remote Asterisk the file is not ours to measure.
        recorded = (ended_at - call.answered_at).total_seconds() if call.answered_at else None
        self._journal.record_call(
            uniqueid,
            ended_at=ended_at,
            recording_seconds=recorded,
            hangup_cause=final_cause,
            hangup_cause_text=_cause_text(final_cause),
        )
        self._journal.record_event(call.call_id, "ended", {"cause": final_cause, "cause_txt": cause_text})
        self._metrics.calls_active.dec()
        call.log.info("112 call ended", cause=final_cause)


# Q.850 causes seen on 112 calls; others are stored by number.
_CAUSES = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer",
    21: "Call rejected",
    27: "Destination out of order",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    127: "Interworking, unspecified",
}


def _cause_text(cause: int) -> str:
    return _CAUSES.get(cause, f"cause {cause}")
