"""Phone notifications of tickets: the service rings the agency's duty number (routing table, `duty_number`) through
the agency trunk and plays a spoken message (tickets/phone_message.py); pressing 1 acknowledges the ticket, by the
system actor "phone:<number>". No answer, busy, or no key: retried with backoff up to the last attempt.

A notification is a row (store/phone_calls.py), sent by the same outbox loop as the webhooks (dispatch/outbox.py):
pending calls survive a restart, every attempt is logged. One attempt: the message is spoken once per text (espeak-ng,
cached by the text's hash in Asterisk's sounds directory), an AMI Originate rings the number into the dialplan
context ntpd112-ticket-call, which plays it, reads one key and reports it back in a UserEvent; an OriginateResponse
that is not Success says the phone never answered (busy, no answer). A key pressed after the service restarted (its
attempt no longer awaited) still acknowledges the ticket.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ntpd112.backoff import Backoff
from ntpd112.clock import utcnow
from ntpd112.dispatch.notify import TicketEvent
from ntpd112.dispatch.outbox import OutboxLoop
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import DialplanLocation, Originate
from ntpd112.pbx.names import (
    TICKET_CALL_CONTEXT,
    TICKET_CALL_DIAL_EXTENSION,
    TICKET_CALL_EVENT,
    TICKET_CALL_MESSAGE_EXTENSION,
)
from ntpd112.pbx.speech import speak
from ntpd112.routing.agencies import DIAL_NUMBER_PATTERN
from ntpd112.routing.deadlines import Deadline
from ntpd112.routing.tables import TableSource
from ntpd112.store.phone_calls import DuePhoneCall, PhoneCalls
from ntpd112.store.tickets import TicketRepository, Who
from ntpd112.tickets.flow import AWAITING_ACKNOWLEDGEMENT
from ntpd112.tickets.phone_message import (
    CallReason,
    CallRef,
    Outcome,
    dial_failure,
    digit_outcome,
    message_text,
    sound_name,
)
from ntpd112.tickets.webhooks import WebhookEvent

log = get_logger(__name__)
#: Where the messages go, under the sounds directory Asterisk plays `ntpd112/...` from.
SOUNDS_SUBDIR = "tickets"
CALLER_ID = '"NTPD 112" <112>'
#: Seconds an answered call may last: the message twice with the pauses for the key, and the thanks.
_TALK_LIMIT_SECONDS = 150
_SOUND_KEEP_SECONDS = 7 * 24 * 3600
# How long a failed Originate waits for the dialplan's own report of the Dial() status before it counts.
_STATUS_GRACE_SECONDS = 1.0
#: Who acknowledges: the number that pressed 1 (the ticket's history shows it).
PHONE_ACTOR_PREFIX = "phone:"

Acknowledge = Callable[[uuid.UUID, Who, str], Awaitable[object]]


@dataclass(frozen=True)
class PhoneCallSettings:
    trunk: str  # the agency trunk's PJSIP endpoint (room.toml)
    sounds_dir: Path  # Asterisk's sounds/ntpd112 directory, as this host sees it
    ring_seconds: int
    digit_seconds: int  # how long the desk has to press a key after each playing of the message
    max_attempts: int


class PhoneNotifier:
    """Queues a call when a ticket is made for an agency with a duty number, or misses its acknowledge limit; ends
    the ticket's pending calls when it no longer waits for the agency (acknowledged on its page, cancelled)."""

    name = "phone"

    def __init__(self, tickets: TicketRepository, calls: PhoneCalls, tables: TableSource, wake: Callable[[], None]):
        self._tickets = tickets
        self._calls = calls
        self._tables = tables
        self._wake = wake

    async def queue(self, event: TicketEvent) -> None:
        ticket_id = event.ticket_id
        record = await self._tickets.get(ticket_id)
        if record is None:
            return
        summary = record.summary
        if summary.status not in AWAITING_ACKNOWLEDGEMENT:
            if await self._calls.end_for_ticket(ticket_id, "cancelled"):
                log.info("ticket phone calls ended", ticket=str(ticket_id), status=summary.status.value)
            return
        escalation = event.escalation
        if event.kind is WebhookEvent.CREATED:
            reason = CallReason.CREATED
        elif event.kind is WebhookEvent.ESCALATED and escalation and escalation.deadline is Deadline.ACKNOWLEDGE:
            reason = CallReason.ESCALATED
        else:
            return
        table = await self._tables.current_table()
        agency = table.agency(summary.agency)
        if agency is None or agency.duty_number is None:
            return
        category = table.category(summary.category)
        text = message_text(reason, category.label_id if category else None, summary.kecamatan, summary.number)
        call_id = await self._calls.enqueue(ticket_id, agency.id, reason.value, agency.duty_number, text)
        log.info("ticket phone call queued", ticket=str(ticket_id), agency=agency.id, call=str(call_id))
        self._wake()


class PhoneCaller:
    def __init__(
        self,
        calls: PhoneCalls,
        tickets: TicketRepository,
        ami: AmiClient,
        acknowledge: Acknowledge,
        backoff: Backoff,
        settings: PhoneCallSettings,
    ) -> None:
        self._calls = calls
        self._tickets = tickets
        self._ami = ami
        self._acknowledge = acknowledge
        self._backoff = backoff
        self._settings = settings
        self._waiting: dict[CallRef, asyncio.Future[tuple[Outcome, str | None]]] = {}
        self._speaking = asyncio.Lock()  # one espeak-ng at a time: the machine's cores are for calls
        self._limit = settings.ring_seconds + _TALK_LIMIT_SECONDS
        lease = timedelta(seconds=self._limit + 30)
        self._outbox = OutboxLoop(
            "ticket-calls", lambda limit: calls.claim_due(limit, lease), calls.next_due_at, self._attempt
        )

    def attach(self, ami: AmiClient) -> None:
        ami.on("UserEvent", self._user_event)
        ami.on("OriginateResponse", self._originate_response)

    def wake(self) -> None:
        self._outbox.wake()

    async def start(self) -> None:
        directory = self._settings.sounds_dir / SOUNDS_SUBDIR
        directory.mkdir(parents=True, exist_ok=True)
        # One file per ticket text: old ones go (a call that still needs one speaks it again).
        cutoff = time.time() - _SOUND_KEEP_SECONDS
        for old in directory.glob("ticket-*.wav"):
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        await self._outbox.start()

    async def stop(self) -> None:
        await self._outbox.stop()

    async def _sound(self, text: str) -> str:
        """The message's sound as Asterisk names it (ntpd112/tickets/<hash>), spoken now unless already there."""
        name = sound_name(text)
        target = self._settings.sounds_dir / SOUNDS_SUBDIR / f"{name}.wav"
        async with self._speaking:
            if not target.exists():
                await asyncio.to_thread(speak, text, target)
        return f"ntpd112/{SOUNDS_SUBDIR}/{name}"

    async def _attempt(self, call: DuePhoneCall) -> None:
        at, started = utcnow(), time.monotonic()
        record = await self._tickets.get(call.ticket_id)
        if record is None or record.summary.status not in AWAITING_ACKNOWLEDGEMENT:
            await self._calls.end_for_ticket(call.ticket_id, "cancelled")
            return
        outcome, digit = await self._ring(call)
        duration_ms = (time.monotonic() - started) * 1000
        if outcome is Outcome.ACKNOWLEDGED:
            status = await self._calls.record_attempt(call, outcome, digit, duration_ms, None, at, final="acknowledged")
            await self._acknowledged(call.ticket_id, call.number)
        else:
            retry_in = self._backoff.retry_in(call.attempt, self._settings.max_attempts)
            status = await self._calls.record_attempt(call, outcome, digit, duration_ms, retry_in, at)
        log.info(
            "ticket phone call attempt",
            call=str(call.id),
            ticket=str(call.ticket_id),
            agency=call.agency,
            attempt=call.attempt,
            outcome=outcome.value,
            status=status,
        )

    async def _ring(self, call: DuePhoneCall) -> tuple[Outcome, str | None]:
        # The number was validated with the table; checked again, since it goes into a dial string.
        if not re.fullmatch(DIAL_NUMBER_PATTERN.strip("^$"), call.number):
            return Outcome.NOT_SENT, None
        try:
            sound = await self._sound(call.text)
        except Exception:
            log.exception("ticket phone call: the message could not be spoken", call=str(call.id))
            return Outcome.NOT_SENT, None
        ref = CallRef(str(call.id), call.attempt)
        reported: asyncio.Future[tuple[Outcome, str | None]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = reported
        try:
            await self._ami.require(
                Originate(
                    f"Local/{TICKET_CALL_DIAL_EXTENSION}@{TICKET_CALL_CONTEXT}/n",
                    DialplanLocation(TICKET_CALL_CONTEXT, TICKET_CALL_MESSAGE_EXTENSION),
                    action_id=ref.action_id(),
                    caller_id=CALLER_ID,
                    # The Local channel answers when the desk does: the dialplan's Dial() rings for ring_seconds.
                    ring_seconds=self._settings.ring_seconds + 5,
                    variables={
                        "NTPD112_TICKET_CALL": ref.action_id(),
                        "NTPD112_TICKET_NUMBER": call.number,
                        "NTPD112_TICKET_TRUNK": self._settings.trunk,
                        "NTPD112_TICKET_RING": str(self._settings.ring_seconds),
                        "NTPD112_TICKET_SOUND": sound,
                        "NTPD112_TICKET_KEY_SECONDS": str(self._settings.digit_seconds),
                    },
                )
            )
            return await asyncio.wait_for(reported, self._limit)
        except AmiError as error:
            log.warning("ticket phone call not placed", call=str(call.id), error=str(error))
            return Outcome.NOT_SENT, None
        except TimeoutError:
            return Outcome.NO_REPORT, None
        finally:
            self._waiting.pop(ref, None)

    async def _acknowledged(self, ticket_id: uuid.UUID, number: str) -> None:
        who = Who(f"{PHONE_ACTOR_PREFIX}{number}", (), None, system=True)
        try:
            await self._acknowledge(ticket_id, who, f"acknowledged by pressing 1 on the notification call to {number}")
        except Exception as error:  # acknowledged on the web page meanwhile, cancelled: the flow refuses
            log.info("ticket phone call: key 1 did not acknowledge", ticket=str(ticket_id), reason=str(error))

    def _report(self, ref: CallRef, outcome: Outcome, digit: str | None) -> bool:
        waiting = self._waiting.get(ref)
        if waiting is None or waiting.done():
            return False
        waiting.set_result((outcome, digit))
        return True

    async def _originate_response(self, event: dict[str, str]) -> None:
        ref = CallRef.of_action_id(event.get("ActionID", ""))
        if ref is None or event.get("Response") == "Success":
            return  # answered: the dialplan reports the key
        # The dialplan's Dial() status came first when the desk was rung (busy, no answer); this is the fallback for
        # a call that never got that far (the Local channel not made).
        await asyncio.sleep(_STATUS_GRACE_SECONDS)
        self._report(ref, Outcome.UNREACHABLE, None)

    async def _user_event(self, event: dict[str, str]) -> None:
        if event.get("UserEvent") != TICKET_CALL_EVENT:
            return
        ref = CallRef.of_action_id(event.get("TicketCall", ""))
        digit = event.get("Digit", "").strip()[:1] or None
        if ref is None:
            log.warning("ticket phone call event without a valid reference", reference=event.get("TicketCall"))
            return
        if "DialStatus" in event:
            self._report(ref, dial_failure(event["DialStatus"]), None)
            return
        outcome = digit_outcome(digit)
        if self._report(ref, outcome, digit) or outcome is not Outcome.ACKNOWLEDGED:
            return
        # Nobody waits for this attempt (the service restarted during the call): the key still counts.
        try:
            found = await self._calls.ticket_of(uuid.UUID(ref.call_id))
        except ValueError:
            return
        if found is not None:
            ticket_id, number = found
            await self._calls.end_for_ticket(ticket_id, "acknowledged")
            await self._acknowledged(ticket_id, number)
