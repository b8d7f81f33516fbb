"""The phone notification of a ticket: what the agency's duty phone hears, and what the call's end means (pure: no
I/O; dispatch/phone_calls.py places the calls, docs/TICKETS.md describes them).

The text is spoken by espeak-ng in Bahasa Indonesia. It is built only from validated values (the routing table's
category label, the incident's kecamatan, the ticket number) and filtered once more to letters, digits, spaces and
a little punctuation, so nothing in it can act as an espeak-ng option or SSML markup. The ticket number is read digit
by digit in words ("satu satu dua, ..."), which is how a desk writes it down.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

DIGIT_WORDS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
#: The key that acknowledges the ticket.
ACCEPT_DIGIT = "1"
_UNSAFE = re.compile(r"[^\w .,'()/-]+")
_SPACES = re.compile(r"\s+")
_MAX_FIELD = 80


class CallReason(StrEnum):
    """Why the call is made; the opening words say it."""

    CREATED = "created"
    ESCALATED = "escalated"


_OPENING = {
    CallReason.CREATED: "Pemberitahuan dari Call Center 112. Ada tiket baru untuk instansi Anda.",
    CallReason.ESCALATED: "Peringatan dari Call Center 112. Tiket ini belum diterima dan sudah melewati batas waktu.",
}


def speakable(value: str | None, fallback: str) -> str:
    """A field as espeak-ng may read it: letters, digits, spaces and . , ' ( ) / - only, short, never empty."""
    cleaned = _SPACES.sub(" ", _UNSAFE.sub(" ", value or "")).strip(" -.,")[:_MAX_FIELD].strip()
    return cleaned or fallback


def spoken_digits(number: str) -> str:
    """'112-2026-000042' -> 'satu satu dua, dua nol dua enam, nol nol nol nol empat dua'."""
    groups = [group for group in re.split(r"\D+", number) if group]
    return ", ".join(" ".join(DIGIT_WORDS[int(digit)] for digit in group) for group in groups)


def message_text(reason: CallReason, category_label: str | None, kecamatan: str | None, ticket_number: str) -> str:
    """What the duty phone hears (the dialplan plays it twice when no key is pressed)."""
    return " ".join(
        [
            _OPENING[reason],
            f"Kategori: {speakable(category_label, 'tidak disebutkan')}.",
            f"Kecamatan: {speakable(kecamatan, 'tidak diketahui')}.",
            f"Nomor tiket: {spoken_digits(ticket_number)}.",
            f"Tekan {DIGIT_WORDS[int(ACCEPT_DIGIT)]} untuk menerima tiket ini.",
        ]
    )


def sound_name(text: str) -> str:
    """The audio file's name for a text: the same text is spoken once, whatever the number of calls."""
    return "ticket-" + hashlib.sha256(text.encode()).hexdigest()[:20]


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # the desk pressed 1
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNREACHABLE = "unreachable"  # congestion, refused, no route
    NO_DIGIT = "no_digit"  # answered, heard the message twice, pressed nothing (or hung up)
    WRONG_DIGIT = "wrong_digit"
    NO_REPORT = "no_report"  # Asterisk never said how the call ended (restarted, AMI lost)
    NOT_SENT = "not_sent"  # the call could not be placed (AMI down, no duty number, no audio)


_DIAL_STATUSES = {"BUSY": Outcome.BUSY, "NOANSWER": Outcome.NO_ANSWER}


def dial_failure(dial_status: str | None) -> Outcome:
    """The outcome of a duty phone that never answered, from Dial()'s DIALSTATUS (CONGESTION, CHANUNAVAIL, ...:
    unreachable)."""
    return _DIAL_STATUSES.get((dial_status or "").upper(), Outcome.UNREACHABLE)


def digit_outcome(digit: str | None) -> Outcome:
    """The outcome reported by the dialplan after the message (Read()'s digit; empty when none was pressed)."""
    if digit == ACCEPT_DIGIT:
        return Outcome.ACKNOWLEDGED
    return Outcome.WRONG_DIGIT if digit else Outcome.NO_DIGIT


@dataclass(frozen=True)
class CallRef:
    """Which attempt a report is about: carried by the Originate's ActionID and the dialplan's UserEvent."""

    call_id: str
    attempt: int

    PREFIX = "ntpd112-ticketcall-"

    def action_id(self) -> str:
        return f"{self.PREFIX}{self.call_id}-{self.attempt}"

    @classmethod
    def of_action_id(cls, action_id: str) -> CallRef | None:
        if not action_id.startswith(cls.PREFIX):
            return None
        call_id, _, attempt = action_id.removeprefix(cls.PREFIX).rpartition("-")
        return cls(call_id, int(attempt)) if attempt.isdigit() and call_id else None
