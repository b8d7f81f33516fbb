"""The agency webhook: its JSON body and its signature (pure: no I/O; docs/TICKETS.md documents both for receivers).

A delivery is an HTTP POST of the body with these headers:

    X-NTPD112-Event: ticket.created | ticket.status_changed | ticket.escalated
    X-NTPD112-Delivery: <event id>      (the same on every retry of one event: the receiver's idempotency key)
    X-NTPD112-Timestamp: <unix seconds when this attempt was signed>
    X-NTPD112-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<raw body>" with the agency's secret>

The timestamp is inside the signed text, so a receiver that refuses timestamps older than a few minutes cannot be
fed a captured request again (replay); the event id lets it drop a retry of an event it already handled.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

EVENT_HEADER = "X-NTPD112-Event"
DELIVERY_HEADER = "X-NTPD112-Delivery"
TIMESTAMP_HEADER = "X-NTPD112-Timestamp"
SIGNATURE_HEADER = "X-NTPD112-Signature"
#: How old a signed timestamp a receiver should accept (seconds, either way: clocks drift).
REPLAY_TOLERANCE_SECONDS = 300
BODY_VERSION = 1
#: An agency's signing secret: printable ASCII without spaces, long enough not to be guessed; what a gateway's
#: configuration can hold.
SECRET_PATTERN = r"^[\x21-\x7e]{16,256}$"  # noqa: S105 - a pattern, not a secret


class WebhookEvent(StrEnum):
    CREATED = "ticket.created"
    STATUS_CHANGED = "ticket.status_changed"
    ESCALATED = "ticket.escalated"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookLocation(_Body):
    lat: float | None
    lon: float | None
    radius_m: float | None
    address: str | None
    kelurahan: str | None
    kecamatan: str | None
    kabupaten: str | None


class WebhookTicket(_Body):
    id: uuid.UUID
    number: str
    agency: str
    status: str
    category: str
    category_label: str | None  # in Bahasa Indonesia, from the routing table in force
    severity: str | None
    kecamatan: str | None
    location: WebhookLocation
    created_at: datetime
    updated_at: datetime
    acknowledge_due_at: datetime | None
    resolve_due_at: datetime | None
    #: Only when the agency's webhook is configured with include_caller_number.
    caller_number: str | None = None


class WebhookChange(_Body):
    """What changed, for ticket.status_changed."""

    to: str
    by: str
    reason: str | None


class WebhookContact(_Body):
    role: str  # "duty" (every level), "head_of_agency" or "camat" (level 2)
    name: str
    phone: str


class WebhookEscalation(_Body):
    """Why, for ticket.escalated: which deadline was missed, the level reached, whom to tell at level 2."""

    deadline: str  # "acknowledge" or "resolve"
    level: int
    due_at: datetime
    contacts: list[WebhookContact]


class WebhookBody(_Body):
    version: int = BODY_VERSION
    event: WebhookEvent
    event_id: uuid.UUID
    occurred_at: datetime
    ticket: WebhookTicket
    change: WebhookChange | None = None
    escalation: WebhookEscalation | None = None
    #: The ticket as a NENA EIDO document (tickets/eido.py; added within version 1: receivers ignore what they do
    #: not read). Its caller's number follows include_caller_number like `ticket.caller_number`.
    eido: dict[str, Any] | None = None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, event: str, event_id: uuid.UUID, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(event_id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance: float = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: the signature matches the raw body and the timestamp is recent."""
    if not timestamp_header or not signature_header or not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
