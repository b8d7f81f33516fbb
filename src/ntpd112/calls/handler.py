"""What happens to a 112 call while the service holds it: intake in the Stasis app, then into the queue.

Rule one: a call is never lost to bad input or a failed step. Every step that can fail is caught, recorded as an
event on the call's timeline, and the call goes on to the queue anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ntpd112.calls.channel_readings import INTAKE_HEADERS, ChannelReadings, read_channel
from ntpd112.calls.release import dropped_by_shutdown, q850_cause, released_for_no_media
from ntpd112.clock import call_id_for, utcnow
from ntpd112.intake.call_location import PANI_HEADER, CallLocation, read_call_location
from ntpd112.intake.cells import fix_from_cell
from ntpd112.intake.identity import CallerIdentity, identify_caller
from ntpd112.intake.numbering import AUTO_NUMBERING
from ntpd112.logs import call_logger, get_logger
from ntpd112.metrics import Metrics
from ntpd112.pbx.ami import AmiClient, AmiError, AmiRefused
from ntpd112.pbx.ari import AriClient, AriError, AriUnavailable
from ntpd112.pbx.ari_models import (
    AriEvent,
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    StasisStart,
)
from ntpd112.pbx.asterisk_config import Trunk, TrunkTable
from ntpd112.pbx.names import DISPATCH_STASIS_ARG, ENTRY_EXTENSION, QUEUE_CONTEXT, queue_entry_with_priority
from ntpd112.pbx.queue_priority import change_queue_priority
from ntpd112.room.config import PrioritySettings
from ntpd112.room.priority import queue_priority
from ntpd112.sip_names import endpoint_of
from ntpd112.store.history import CallerContext
from ntpd112.store.intake_lookups import IntakeFindings, IntakeLookups
from ntpd112.store.journal import Journal
from ntpd112.store.locations import IntakeLocation, fix_columns

log = get_logger(__name__)

# How long intake waits for its two lookups before the caller joins the queue without them. They take about 10 ms on
# a quiet machine, so nearly every call joins with its final priority; in a surge (lookups up to their 250 ms limit)
# the caller joins at once and is moved when they answer: a caller waiting outside the queue is rung by no one.
LOOKUP_HEAD_START_SECONDS = 0.02
# The pauses before asking Asterisk again for a channel subscription it did not answer (ARI's request timeout each).
SUBSCRIBE_RETRY_SECONDS = (0.5, 1.0, 2.0)


@dataclass
class ActiveCall:
    call_id: uuid.UUID
    uniqueid: str
    log: Any
    hangup_cause: int | None = None
    answered_at: datetime | None = None
    # Decided by the first hangup request (see calls/release.py); None until one came.
    media_lost: bool | None = None
    first_request: dict[str, Any] | None = None
    # Asterisk hung the caller up while shutting down (a restart): on the callback list at the end.
    dropped: bool = False


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
        ami: AmiClient,
        journal: Journal,
        trunks: TrunkTable,
        metrics: Metrics,
        lookups: IntakeLookups,
        priorities: PrioritySettings,
    ) -> None:
        self._ari = ari
        self._ami = ami
        self._journal = journal
        self._trunks = trunks
        self._metrics = metrics
        self._intake_lookups = lookups
        self._priorities = priorities
        self.active: dict[str, ActiveCall] = {}
        # Told each uniqueid whose call ended, before its end is recorded (queue/events.py: abandons).
        self.ended_listeners: list[Callable[[str], None]] = []
        self._asterisk_started: str | None = None  # the startup time Asterisk reported at the last resync

    # -- events -------------------------------------------------------------------------------------------

    async def on_event(self, event: AriEvent) -> None:
        if isinstance(event, StasisStart):
            await self.intake(event.channel, StasisArgs.parse(event.args), entered_at=event.timestamp)
        elif isinstance(event, ChannelHangupRequest):
            call = self.active.get(event.channel.id)
            if call is not None:
                call.log.debug("hangup requested", cause=event.cause, soft=event.soft)
                call.hangup_cause = q850_cause(event) or call.hangup_cause
                call.dropped = call.dropped or dropped_by_shutdown(event)
            if call is not None and call.media_lost is None:
                call.first_request = {"cause": event.cause, "soft": bool(event.soft)}
                call.media_lost = released_for_no_media(event)
        elif isinstance(event, ChannelDestroyed):
            self._ended(event.channel.id, event.cause, event.cause_txt)

    async def resync(self) -> None:
        """After every (re)connect: Asterisk does not replay events missed while we were away."""
        try:
            started = await self._ari.startup_time()
            channels = {channel.id: channel for channel in await self._ari.list_channels()}
        except AriError as error:
            log.warning("resync failed; will retry on next connect", error=str(error))
            return
        # Asterisk restarted meanwhile (and the service did not see its shutdown): the calls it followed were
        # dropped by the restart, not ended by their callers.
        restarted = started is not None and self._asterisk_started not in (None, started)
        self._asterisk_started = started or self._asterisk_started
        for uniqueid, call in list(self.active.items()):
            if uniqueid not in channels:
                call.log.info("call ended while ari was disconnected", asterisk_restarted=restarted)
                reason = "asterisk restarted" if restarted else "ended while disconnected"
                self._journal.record_event(call.call_id, "ended_unobserved", {"reason": reason})
                call.dropped = call.dropped or restarted
                self._ended(uniqueid, 0, "ended while the service was disconnected")
            else:
                await self._subscribe(call)
        for channel in channels.values():
            if channel.id not in self.active and self._in_queue(channel):
                # Waiting or talking after intake while the service was away (restart, crash): follow it again
                # so its end is recorded live; reconciliation fills in what happened meanwhile.
                await self._resume(channel)
        waiting = [c for c in channels.values() if self._waits_in_our_app(c) and c.id not in self.active]
        for channel in waiting:
            log.info("resync: call waiting in stasis picked up", uniqueid=channel.id)
            await self.intake(channel, StasisArgs.from_app_data(channel.dialplan.app_data), resynced=True)

    async def _resume(self, channel: Channel) -> None:
        """Follow a call in the queue that this service did not take in (it restarted, or was killed before its
        journal wrote), and record who is calling from what Asterisk still knows: the INVITE's headers, the caller
        id, the trunk. The same reading as intake's, so a row written before stays as it was; a row that was lost
        gets the caller's number back, and the callback list and the reports with it."""
        call = self._track(channel.id)
        trunk = self._trunks.by_endpoint(endpoint_of(channel.name) or "")
        readings = await read_channel(self._ari, channel)
        identity = self._identify(readings.headers, channel, trunk)
        recovered = {
            name: value
            for name, value in {
                "trunk": trunk.name if trunk else None,
                "carrier": trunk.operator if trunk else None,
                "caller_number_raw": identity.number_raw,
                "caller_number": identity.number_e164,
                "caller_name": identity.display_name,
                "caller_presentation": identity.presentation,
                "offered_at": channel.creationtime,
            }.items()
            if value is not None
        }
        self._journal.record_call(channel.id, **recovered)
        self._journal.record_event(
            call.call_id,
            "tracking_resumed",
            {"context": channel.dialplan.context, "source": "asterisk_channel", "recovered": sorted(recovered)},
        )
        await self._subscribe(call)

    @staticmethod
    def _identify(headers: dict[str, str], channel: Channel, trunk: Trunk | None) -> CallerIdentity:
        return identify_caller(
            headers.get("P-Asserted-Identity"),
            headers.get("From"),
            channel.caller.number,
            channel.caller.name,
            privacy=headers.get("Privacy"),
            numbering=trunk.numbers if trunk else AUTO_NUMBERING,
        )

    @staticmethod
    def _in_queue(channel: Channel) -> bool:
        return channel.name.startswith("PJSIP/trunk-") and channel.dialplan.context == QUEUE_CONTEXT

    def _waits_in_our_app(self, channel: Channel) -> bool:
        # Channels that dispatch holds (Stasis(ntpd112,dispatch,...)) are past intake: not picked up here.
        app_args = channel.dialplan.app_data.split(",")
        return (
            channel.dialplan.app_name == "Stasis"
            and app_args[0] == self._ari.app
            and app_args[1:2] != [DISPATCH_STASIS_ARG]
        )

    def uniqueid_of(self, call_id: uuid.UUID) -> str | None:
        """The caller's channel of a call this service is handling now; None once it has ended."""
        return next((uniqueid for uniqueid, call in self.active.items() if call.call_id == call_id), None)

    # -- intake -------------------------------------------------------------------------------------------

    async def intake(
        self, channel: Channel, args: StasisArgs, *, resynced: bool = False, entered_at: datetime | None = None
    ) -> None:
        try:
            await self._intake(channel, args, resynced, entered_at)
        except Exception as error:
            # Last resort: whatever broke, the caller still goes to the queue and the failure is on record.
            log.exception("intake failed; sending the call to the queue anyway", uniqueid=channel.id)
            call = self.active.get(channel.id)
            if call is not None:
                self._journal.record_event(call.call_id, "intake_failed", {"error": repr(error)[:300]})
            with contextlib.suppress(AriError):
                await self._ari.continue_in_dialplan(channel.id, QUEUE_CONTEXT, ENTRY_EXTENSION)

    async def _intake(self, channel: Channel, args: StasisArgs, resynced: bool, entered_at: datetime | None) -> None:
        started = time.perf_counter()
        uniqueid = channel.id
        # The call was offered when Asterisk created its channel, and the dialplan answered it before Stasis() (the
        # caller's 200 OK never waits on the service; Up is the state StasisStart or resync shows then), not when the
        # service reads the event: a saturated Asterisk delivered StasisStart 59 s late (load profile `thousand`),
        # after its fail-safe had queued the call, and `offered` then came after `queue_joined` on the timeline.
        # Asterisk's clock stamps both; the earlier of it and ours keeps the timeline in order whichever clock is
        # ahead.
        now = utcnow()
        offered_at = min(channel.creationtime or now, now)
        answered_by_dialplan = min(entered_at or now, now) if channel.state == "Up" else None
        trunk = self._trunks.by_endpoint(args.endpoint)
        readings = await read_channel(self._ari, channel)
        headers = readings.headers
        identity = self._identify(headers, channel, trunk)
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
            offered_at=offered_at,
            recording_path=args.recording,
        )
        call = self._track(uniqueid)
        self._metrics.calls_offered.inc()
        offered = self._offered_data(channel, args, readings, identity, resynced)
        self._journal.record_event(call_id, "offered", offered, at=offered_at)
        if trunk is None:
            self._journal.record_event(call_id, "parse_error", {"field": "trunk", "value": args.endpoint[:200]})
        for problem in identity.problems:
            self._journal.record_event(call_id, "parse_error", {"field": "caller_identity", "problem": problem})
        if readings.oversized_header:
            unread = [name for name in INTAKE_HEADERS if name not in headers]
            problem = f"a header is too long for Asterisk to hand over; one of: {', '.join(unread)}"
            self._journal.record_event(
                call_id,
                "parse_error",
                {"field": "SIP headers", "code": "unreadable", "problem": problem, "value": None},
            )
        location = read_call_location(headers, readings.geoloc)
        for location_problem in location.problems:
            self._journal.record_event(call_id, "parse_error", location_problem.model_dump())
        call.log.info("112 call offered", trunk=args.endpoint, caller=identity.number_e164 or identity.number_raw)

        # The subscription and the database lookups (history, cell, waiting AML) are independent round trips: they
        # run while the call goes on. The caller waits in intake (hearing nothing) only for what the queue needs:
        # the lookups get a short head start for the priority, and `continue` carries whatever priority is known.
        subscription = asyncio.create_task(self._subscribe(call))
        lookups = asyncio.create_task(self._lookups(call, identity, location, offered_at))
        try:
            if await self._answer(call, answered_by_dialplan is not None):
                call.answered_at = answered_by_dialplan or utcnow()
                self._journal.record_call(uniqueid, answered_at=call.answered_at)
                self._journal.record_event(call_id, "answered", at=call.answered_at)
                self._metrics.calls_answered.inc()
            await asyncio.wait([lookups], timeout=LOOKUP_HEAD_START_SECONDS)
            lookups_late = not lookups.done()
            if not lookups_late:
                context, found = lookups.result()
                priority = self._prioritise(
                    call, context, self._record_location(call, identity, location, found, offered_at, headers)
                )
            else:
                priority = self._prioritise_without_lookups(call, location)
            continued = self._ari.continue_in_dialplan(uniqueid, QUEUE_CONTEXT, queue_entry_with_priority(priority))
            continuing = time.perf_counter()
            if await self._step(call, "continue", continued):
                done = time.perf_counter()
                self._metrics.intake_seconds.observe(done - started)
                # continue_ms: the part of intake spent waiting for Asterisk's answer to the continue (the load
                # report tells the service's own time from Asterisk's by it).
                timing = {
                    "intake_ms": round((done - started) * 1000, 2),
                    "continue_ms": round((done - continuing) * 1000, 2),
                }
                self._journal.record_event(call_id, "queued", timing)
            if lookups_late:
                context, found = await lookups
                has_location = self._record_location(call, identity, location, found, offered_at, headers)
                await self._review_priority(call, channel.name, priority, context, has_location)
            subscribed = await subscription
        finally:
            # Only when intake itself failed: the fallback's `continue` must not wait for them.
            subscription.cancel()
            lookups.cancel()
        if not subscribed and await self._gone(uniqueid):
            # The caller hung up before the subscription was made (the answer comes before Stasis(), so a caller
            # can hang up within milliseconds of it): Asterisk had already destroyed the channel and no
            # ChannelDestroyed will reach the service. The record ends here, as resync ends a call gone meanwhile.
            self._journal.record_event(call_id, "ended_unobserved", {"reason": "ended during intake"})
            self._ended(uniqueid, 0, "ended during intake")

    async def _answer(self, call: ActiveCall, already_up: bool) -> bool:
        # A channel that comes in unanswered met a dialplan older than the Answer() before Stasis() (an Asterisk
        # whose extensions_ntpd112.conf was not rendered again after an upgrade): intake answers it, as it once did.
        if already_up:
            return True
        return await self._step(call, "answer", self._ari.answer(call.uniqueid))

    async def _lookups(
        self, call: ActiveCall, identity: CallerIdentity, location: CallLocation, offered_at: datetime
    ) -> IntakeFindings:
        """Under their own time limit, and never raise: intake goes on without them."""
        cell = location.cell.lookup_key if location.cell else None
        return await self._intake_lookups.lookup(identity.number_e164, cell, offered_at, call.uniqueid)

    def _record_location(
        self,
        call: ActiveCall,
        identity: CallerIdentity,
        location: CallLocation,
        found: IntakeLocation,
        offered_at: datetime,
        headers: dict[str, str],
    ) -> bool:
        """Journal the call's fixes and claim AML that came first; True when any of them has a position."""
        received_at = utcnow()
        if location.device_fix is not None:
            self._journal.record_fix(
                call.call_id,
                fix_columns(
                    location.device_fix,
                    source="pidf",
                    channel="sip",
                    received_at=received_at,
                    raw=location.device_fix.raw,
                ),
            )
        if location.cell is not None:
            # An unknown cell is kept too: its decoded ids alone still name the operator's site.
            tower = fix_from_cell(found.cell, observed_at=offered_at) if found.cell else None
            self._journal.record_fix(
                call.call_id,
                fix_columns(
                    tower,
                    source="cell",
                    channel="sip",
                    received_at=received_at,
                    raw=headers[PANI_HEADER],
                    cell=location.cell,
                ),
            )
        if identity.number_e164:
            self._journal.claim_aml(call.call_id, identity.number_e164, offered_at)
        return location.device_fix is not None or found.cell is not None or found.pending_aml_fixes > 0

    def _prioritise(self, call: ActiveCall, context: CallerContext | None, has_location: bool) -> int:
        """The queue priority from the lookups' answers, on the record before the call joins the queue with it."""
        priority = self._priority(context, has_location)
        self._record_priority(call, priority, context)
        self._journal.record_event(
            call.call_id,
            "prioritised",
            {"priority": priority, "has_location": has_location, "history": self._history_data(context)},
        )
        return priority

    def _prioritise_without_lookups(self, call: ActiveCall, location: CallLocation) -> int:
        """The lookups are late: the caller joins the queue now, with the priority of what the call itself carries
        (a device position), and `_review_priority` moves them once the lookups answer."""
        has_location = location.device_fix is not None
        priority = self._priority(None, has_location)
        self._journal.record_call(call.uniqueid, queue_priority=priority)
        self._journal.record_event(
            call.call_id,
            "prioritised",
            {"priority": priority, "has_location": has_location, "history": None, "lookups": "late"},
        )
        return priority

    async def _review_priority(
        self, call: ActiveCall, channel: str, joined_with: int, context: CallerContext | None, has_location: bool
    ) -> None:
        """The late lookups' priority, applied to a caller already in the queue (or about to join it)."""
        priority = self._priority(context, has_location)
        self._record_priority(call, priority, context)
        applied = "unchanged"
        if priority != joined_with:
            try:
                moved = await change_queue_priority(self._ami, channel, priority)
            except AmiRefused:
                applied = "call_gone"  # the caller hung up meanwhile: no channel to set
            except AmiError as error:
                call.log.warning("late priority not applied", priority=priority, error=str(error))
                applied = "failed"
            else:
                # Not in the queue (not joined yet, or already answered): QUEUE_PRIO holds it for the next join.
                applied = "queue" if moved else "next_join"
        self._journal.record_event(
            call.call_id,
            "priority_reviewed",
            {
                "from": joined_with,
                "priority": priority,
                "has_location": has_location,
                "history": self._history_data(context),
                "applied": applied,
            },
        )

    def _priority(self, context: CallerContext | None, has_location: bool) -> int:
        return queue_priority(
            self._priorities,
            has_location=has_location,
            repeat_caller=bool(context and context.repeat_caller),
            prankster=bool(context and context.prankster),
        )

    def _record_priority(self, call: ActiveCall, priority: int, context: CallerContext | None) -> None:
        self._journal.record_call(
            call.uniqueid,
            queue_priority=priority,
            repeat_caller=context.repeat_caller if context else None,
            calls_24h=context.calls_24h if context else None,
            calls_30d=context.calls_30d if context else None,
        )

    @staticmethod
    def _history_data(context: CallerContext | None) -> dict[str, Any] | None:
        return context.model_dump() if context else None

    @staticmethod
    def _offered_data(
        channel: Channel, args: StasisArgs, readings: ChannelReadings, identity: CallerIdentity, resynced: bool
    ) -> dict[str, Any]:
        return {
            "trunk_endpoint": args.endpoint,
            "channel": channel.name,
            "caller": {"number": channel.caller.number, "name": channel.caller.name},
            "identity": identity.model_dump(exclude={"problems"}),
            "headers": readings.headers,
            "headers_from": readings.source,
            "resynced": resynced,
        }

    async def _step(self, call: ActiveCall, name: str, action: Any) -> bool:
        """Run one ARI step of the call flow; a failure is an event on the timeline, not an exception."""
        try:
            await action
        except AriError as error:
            self._step_failed(call, name, error)
            return False
        return True

    def _step_failed(self, call: ActiveCall, name: str, error: AriError) -> None:
        call.log.warning("call step failed", step=name, error=str(error))
        self._journal.record_event(
            call.call_id, "step_failed", {"step": name, "status": error.status, "error": str(error)[:300]}
        )

    def _track(self, uniqueid: str) -> ActiveCall:
        """Follow a call from now on until its ChannelDestroyed; its row id is derived from the uniqueid."""
        call_id = call_id_for(uniqueid)
        call = ActiveCall(call_id, uniqueid, call_logger(__name__, str(call_id), uniqueid=uniqueid))
        self.active[uniqueid] = call
        self._metrics.calls_active.inc()
        return call

    async def _subscribe(self, call: ActiveCall) -> bool:
        """After `continue` the channel leaves Stasis; without this subscription the service would not hear how and
        when the call ends. A request Asterisk did not answer in time is made again: in a test with 1,000 calls in
        progress, 183 went unanswered, and each of those calls stayed open in the service (and its record without
        an end) until the next resync. One Asterisk answered (404/422: the channel is gone) is not."""
        retries = iter(SUBSCRIBE_RETRY_SECONDS)
        while True:
            try:
                await self._ari.subscribe_channel(call.uniqueid)
            except AriError as error:
                retry_after = next(retries, None) if isinstance(error, AriUnavailable) else None
                if retry_after is None:
                    self._step_failed(call, "subscribe", error)
                    return False
            else:
                return True
            call.log.info("subscription unanswered; asking again", retry_after=retry_after)
            await asyncio.sleep(retry_after)

    async def _gone(self, uniqueid: str) -> bool:
        try:
            return await self._ari.get_channel(uniqueid) is None
        except AriError:
            return False  # Asterisk unreachable: resync after the reconnect settles it

    def _ended(self, uniqueid: str, cause: int, cause_text: str) -> None:
        call = self.active.pop(uniqueid, None)
        if call is None:
            return
        for listener in self.ended_listeners:
            listener(uniqueid)
        # Quirk: ChannelDestroyed carries the channel's last HANGUPCAUSE, which a dialplan application may have
        # overwritten (0 after Playback, 3 after a failed Dial to an overflow target); the cause of the hangup
        # request (e.g. 16 for the caller's BYE) says how the call really ended.
        final_cause = call.hangup_cause or cause
        ended_at = utcnow()
        # The longest the recording can be: MixMonitor writes only while the caller is connected to someone (the
        # dialplan's ntpd112-record), and on a remote Asterisk the file is not ours to measure.
        recorded = (ended_at - call.answered_at).total_seconds() if call.answered_at else None
        self._journal.record_call(
            uniqueid,
            ended_at=ended_at,
            recording_seconds=recorded,
            hangup_cause=final_cause,
            hangup_cause_text=_cause_text(final_cause),
        )
        # The text names the cause the record carries; the channel's own last cause is kept when it differs.
        ended: dict[str, Any] = {"cause": final_cause, "cause_txt": _cause_text(final_cause)}
        if (cause, cause_text) != (final_cause, ended["cause_txt"]):
            ended |= {"channel_cause": cause, "channel_cause_txt": cause_text}
        if call.first_request is not None:
            ended["first_request"] = call.first_request  # soft: Asterisk's reason flags (calls/release.py)
        self._journal.record_event(call.call_id, "ended", ended)
        if call.dropped:
            # Not the caller's doing: the PBX went down under the call. They may still need help.
            self._journal.record_call(uniqueid, callback_status="pending", callback_reason="asterisk_restart")
            dropped = {"by": "asterisk_shutdown", "callback": "pending"}
            self._journal.record_event(call.call_id, "caller_dropped", dropped)
            call.log.warning("112 caller dropped by an asterisk shutdown: caller on the callback list")
        if call.media_lost:
            # The caller's phone stopped sending audio: it died or lost coverage, and they may still need help.
            self._journal.record_call(uniqueid, callback_status="pending", callback_reason="no_media")
            self._journal.record_event(call.call_id, "caller_media_lost", {"callback": "pending"})
            call.log.warning("112 caller sent no audio: call released, caller on the callback list")
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
