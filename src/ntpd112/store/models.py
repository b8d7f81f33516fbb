"""The schema. Alembic migrations under migrations/ are the history; this module is the current shape."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ntpd112.tickets.flow import TicketStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Call(Base):
    """One 112 call as it entered through a trunk. `id` is derived from Asterisk's uniqueid (see journal.call_id)
    so any writer, at any time, names the same row without asking the database first."""

    __tablename__ = "calls"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(150), unique=True)
    linkedid: Mapped[str | None] = mapped_column(String(150))
    trunk: Mapped[str | None] = mapped_column(String(80))
    carrier: Mapped[str | None] = mapped_column(String(80))
    dialed_number: Mapped[str | None] = mapped_column(String(80))
    caller_number_raw: Mapped[str | None] = mapped_column(Text)
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(Text)
    caller_presentation: Mapped[str | None] = mapped_column(String(16))
    handled_by: Mapped[str | None] = mapped_column(String(16))
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(80))
    recording_path: Mapped[str | None] = mapped_column(String(255))
    recording_seconds: Mapped[float | None] = mapped_column(Double)
    queue_priority: Mapped[int | None] = mapped_column(Integer)
    # Filled from app_queue's AMI events: who answered and how fast.
    queue_joined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    operator_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    operator: Mapped[str | None] = mapped_column(String(40))
    ring_attempts: Mapped[int | None] = mapped_column(Integer)
    wait_seconds: Mapped[float | None] = mapped_column(Double)
    talk_seconds: Mapped[float | None] = mapped_column(Double)
    # The callback list: calls whose caller hung up before an operator answered (or an operator asked for one).
    abandoned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_status: Mapped[str | None] = mapped_column(String(16), index=True)
    callback_reason: Mapped[str | None] = mapped_column(String(16))
    callback_taken_by: Mapped[str | None] = mapped_column(String(40))
    callback_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_outcome: Mapped[str | None] = mapped_column(String(40))
    callback_attempts: Mapped[int | None] = mapped_column(Integer)
    # Intake: the best location among the call's fixes (see store/locations.py), its area, and the caller's history.
    best_fix_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    best_lat: Mapped[float | None] = mapped_column(Double)
    best_lon: Mapped[float | None] = mapped_column(Double)
    best_radius_m: Mapped[float | None] = mapped_column(Double)
    best_source: Mapped[str | None] = mapped_column(String(8))
    best_measured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    area_id: Mapped[int | None] = mapped_column(Integer)
    area_code: Mapped[str | None] = mapped_column(String(64))
    area_kabupaten: Mapped[str | None] = mapped_column(String(256))
    area_kecamatan: Mapped[str | None] = mapped_column(String(256))
    area_kelurahan: Mapped[str | None] = mapped_column(String(256))
    repeat_caller: Mapped[bool | None] = mapped_column()
    calls_24h: Mapped[int | None] = mapped_column(Integer)
    calls_30d: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CallEvent(Base):
    """The call's timeline: one row per thing that happened, in the order it happened."""

    __tablename__ = "call_events"
    __table_args__ = (
        Index("ix_call_events_call_id_at", "call_id", "at", "seq"),
        # The reports' dispatch facts (store/reports.py).
        Index(
            "ix_call_events_dispatch_steps",
            "call_id",
            "type",
            "at",
            postgresql_where=text("type IN ('dispatch_attempt', 'agency_answered')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Insertion order breaks ties between events with the same timestamp.
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class User(Base):
    """A person (or, for tokens migrated from before accounts existed, a script) who uses the API or the console.

    Only the argon2 hash of the password is stored; NULL: no password set (sign-in impossible until an admin
    resets it). Roles among access.roles.ROLES; an agency user is bound to exactly one agency of the routing table.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['operator', 'supervisor', 'admin', 'agency']::varchar[] AND cardinality(roles) > 0",
            name="roles",
        ),
        CheckConstraint("('agency' = ANY(roles)) = (agency IS NOT NULL)", name="agency_bound"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    agency: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSession(Base):
    """A browser session. The cookie holds a random secret; only its SHA-256 is stored (a 256-bit random secret
    needs no slow hash). It ends at idle or absolute expiry (access/expiry.py) or when revoked."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    signed_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_address: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A personal API token of a user, for scripts and the CLI: it acts with its user's roles. Only its SHA-256
    is stored; the token itself is shown once, when it is created."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who did what, from where, with which outcome: every sign-in (failed ones too), sign-out and state-changing
    request. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (see the migration). Never holds a password
    or a token; the username is kept as text so that the trail outlives the account."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    via: Mapped[str | None] = mapped_column(String(8))  # session, token, or NULL (not signed in)
    action: Mapped[str] = mapped_column(String(160))
    target: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(80))  # "ok" or the refusal's error id
    source_address: Mapped[str | None] = mapped_column(String(64))


class RoutingTableVersion(Base):
    """One accepted routing table. Versions only ever grow; the highest one is the table in force. Restoring
    an old version appends a new version with its content, so the history stays complete."""

    __tablename__ = "routing_table_versions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    table: Mapped[dict[str, Any]] = mapped_column(JSONB)
    fingerprint: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    restored_from_version: Mapped[int | None] = mapped_column(Integer)


INCIDENT_STATUSES = ("open", "dispatched", "acknowledged", "failed", "ticket", "closed")


class Incident(Base):
    """What the operator found out about a call: one incident per call."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('" + "', '".join(INCIDENT_STATUSES) + "')", name="status"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    area: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


TICKET_STATUSES = tuple(status.value for status in TicketStatus)


class Ticket(Base):
    """An incident handed to one agency (tickets/flow.py has its status flow): one per (incident, agency)."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('" + "', '".join(TICKET_STATUSES) + "')", name="status"),
        UniqueConstraint("incident_id", "agency", name="uq_tickets_incident_agency"),
        Index("ix_tickets_agency_status", "agency", "status"),
        # The wallboard's open tickets and those past their limits (migration 0014): the few open among many.
        Index(
            "ix_tickets_open_created_at",
            "created_at",
            postgresql_where=text("status IN ('new', 'sent', 'acknowledged', 'en_route', 'on_scene', 'resolved')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # 112-2026-000123
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64))  # the routing table's agency id
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    final_report: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TicketEvent(Base):
    """Every status change and comment of a ticket, with who and when. Appended, never changed."""

    __tablename__ = "ticket_events"
    __table_args__ = (CheckConstraint("kind IN ('status', 'comment', 'escalated', 'photo')", name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(80))  # a username, or system:<what> for the service itself
    actor: Mapped[str] = mapped_column(String(16))  # tickets.flow.Actor: how they acted
    text: Mapped[str | None] = mapped_column(Text)  # the comment, the reason, or the final report


class TicketAttachment(Base):
    """A photo attached to a ticket: the file is outside the database (store/attachments.py), under its SHA-256 in
    the attachments directory; this row holds what it is, who added it and when. `label` is the client's file name,
    shown only (never used as a path)."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (
        CheckConstraint("media_type IN ('image/jpeg', 'image/png', 'image/webp')", name="media_type"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        CheckConstraint("size_bytes > 0", name="size_bytes"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TicketEscalation(Base):
    """A ticket's missed deadline reaching an escalation level (routing/deadlines.py): one row per (ticket, deadline,
    level), so each level is acted on once; level 1 rows are the breaches the reports count."""

    __tablename__ = "ticket_escalations"
    __table_args__ = (
        CheckConstraint("deadline IN ('acknowledge', 'resolve')", name="deadline"),
        CheckConstraint("level >= 1", name="level"),
    )

    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    deadline: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # when the level was reached
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgencyWebhookSecret(Base):
    """The secret an agency's webhook deliveries are signed with. Write-only through the API: never read back."""

    __tablename__ = "agency_webhook_secrets"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


WEBHOOK_DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookDelivery(Base):
    """One ticket event to post to an agency's webhook, its body fixed when the event happened; pending until a
    2xx answer (delivered) or the last attempt (failed). Pending rows outlive a restart."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('" + "', '".join(WEBHOOK_DELIVERY_STATUSES) + "')", name="status"),
        Index("ix_webhook_deliveries_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)  # the body's event_id
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON posted (and signed)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """Every attempt at a delivery: its number, when, the HTTP status (None: no answer) or the error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt", name="uq_webhook_attempts_delivery_attempt"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[float] = mapped_column(Double)


TICKET_PHONE_CALL_STATUSES = ("pending", "acknowledged", "failed", "cancelled")


class TicketPhoneCall(Base):
    """A phone notification of a ticket to its agency's duty number (dispatch/phone_calls.py): pending until the
    desk presses 1 (acknowledged), the last attempt (failed), or the ticket no longer waits for the agency
    (cancelled: acknowledged on its web page, cancelled by the room). Pending rows outlive a restart; an attempt is
    leased like a webhook delivery."""

    __tablename__ = "ticket_phone_calls"
    __table_args__ = (
        CheckConstraint("status IN ('" + "', '".join(TICKET_PHONE_CALL_STATUSES) + "')", name="status"),
        Index("ix_ticket_phone_calls_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # created | escalated
    number: Mapped[str] = mapped_column(String(15))  # the duty number when the call was queued
    text: Mapped[str] = mapped_column(Text)  # what is spoken, fixed when queued
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TicketPhoneCallAttempt(Base):
    """Every attempt at a phone notification: when, how it ended (tickets/phone_message.Outcome), the key pressed."""

    __tablename__ = "ticket_phone_call_attempts"
    __table_args__ = (UniqueConstraint("call_id", "attempt", name="uq_ticket_phone_call_attempts_call_attempt"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ticket_phone_calls.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    digit: Mapped[str | None] = mapped_column(String(1))
    duration_ms: Mapped[float] = mapped_column(Double)


class TicketCounter(Base):
    """The last ticket number given in a year (numbers restart at 1 every year)."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Operator(Base):
    """A person who answers 112 calls (or a supervisor), with the SIP phone they log in from.

    The SIP password is never stored: only the digest hash (md5 of username:realm:password) that Asterisk needs.
    """

    __tablename__ = "operators"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # The person whose phone this is; the usernames are the same.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    sip_md5_cred: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(255))
    logged_in: Mapped[bool] = mapped_column(default=False)
    paused: Mapped[bool] = mapped_column(default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(40))
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OperatorPresence(Base):
    """From `at`, the operator is `state` (available, paused with `reason`, logged_out) until their next row: the
    queue's member events as history, for the operator time in the reports (queue/presence.py writes them)."""

    __tablename__ = "operator_presence"
    __table_args__ = (
        Index("ix_operator_presence_operator_at", "operator", "at"),
        CheckConstraint("state IN ('available', 'paused', 'logged_out')", name="state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    operator: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40))


class CallerFlag(Base):
    """What the room knows about a number. A flag lowers a caller's queue priority; it never blocks 112."""

    __tablename__ = "caller_flags"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    prankster: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgencyDesk(Base):
    """A SIP phone at an agency's desk, rung as a member of the agency's hunt groups in the routing table.

    Like an operator's phone, only the SIP digest hash is stored; the phone itself lives in AstDB.
    """

    __tablename__ = "agency_desks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    endpoint: Mapped[str] = mapped_column(String(64), unique=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    sip_md5_cred: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


LOCATION_SOURCES = ("cell", "pidf", "aml", "operator")


class LocationFixRow(Base):
    """One location fix as received: a network cell, a handset's PIDF-LO, an AML message, or an operator's pin.

    An AML message may arrive before its call is known (or never match one): `call_id` stays NULL until the call
    claims it. A fix without coordinates is kept too: an unknown cell (its decoded ids) or AML without a position.
    """

    __tablename__ = "location_fixes"
    __table_args__ = (
        CheckConstraint("source IN ('" + "', '".join(LOCATION_SOURCES) + "')", name="source"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
        # Unmatched AML of a number, looked up at every call's intake.
        Index("ix_location_fixes_unmatched", "caller_number", "received_at", postgresql_where=text("call_id IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(8))  # sip, sms, https
    lat: Mapped[float | None] = mapped_column(Double)
    lon: Mapped[float | None] = mapped_column(Double)
    radius_m: Mapped[float | None] = mapped_column(Double)
    confidence: Mapped[float | None] = mapped_column(Double)
    method: Mapped[str | None] = mapped_column(String(64))
    shape: Mapped[str | None] = mapped_column(String(16))
    measured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raw: Mapped[str] = mapped_column(Text)
    radio: Mapped[str | None] = mapped_column(String(4))
    mcc: Mapped[int | None] = mapped_column(Integer)
    mnc: Mapped[int | None] = mapped_column(Integer)
    area_code: Mapped[int | None] = mapped_column(Integer)
    cell_id: Mapped[int | None] = mapped_column(BigInteger)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class CellTower(Base):
    """One row of the OpenCellID cell table: where a cell's tower is, and how far it reaches."""

    __tablename__ = "cells"

    radio: Mapped[str] = mapped_column(String(4), primary_key=True)
    mcc: Mapped[int] = mapped_column(Integer, primary_key=True)
    mnc: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit: Mapped[int | None] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    range_m: Mapped[float] = mapped_column(Double)
    samples: Mapped[int] = mapped_column(Integer)
    changeable: Mapped[bool] = mapped_column()
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    average_signal: Mapped[int | None] = mapped_column(Integer)


class AdminAreaRow(Base):
    """A kecamatan or kelurahan/desa boundary from `ntpd112 areas import`; the bounding box prefilters lookups."""

    __tablename__ = "areas"
    __table_args__ = (
        Index(
            "ix_areas_bbox",
            text("box(point(min_lon, min_lat), point(max_lon, max_lat))"),
            postgresql_using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64))
    kabupaten: Mapped[str | None] = mapped_column(String(256))
    kecamatan: Mapped[str | None] = mapped_column(String(256))
    kelurahan: Mapped[str | None] = mapped_column(String(256))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONB)
    min_lon: Mapped[float] = mapped_column(Double)
    min_lat: Mapped[float] = mapped_column(Double)
    max_lon: Mapped[float] = mapped_column(Double)
    max_lat: Mapped[float] = mapped_column(Double)


class AsteriskCdr(Base):
    """Asterisk's own record of every call leg, written by cdr_pgsql whether or not the service is up."""

    __tablename__ = "asterisk_cdr"
    # No key column in the table (see the migration); (uniqueid, sequence) identifies a CDR for the ORM.
    __mapper_args__ = {"primary_key": ["uniqueid", "sequence"]}

    calldate: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clid: Mapped[str | None] = mapped_column(String(80))
    src: Mapped[str | None] = mapped_column(String(80))
    dst: Mapped[str | None] = mapped_column(String(80))
    dcontext: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(80))
    dstchannel: Mapped[str | None] = mapped_column(String(80))
    lastapp: Mapped[str | None] = mapped_column(String(80))
    lastdata: Mapped[str | None] = mapped_column(String(255))
    duration: Mapped[int | None] = mapped_column(Integer)
    billsec: Mapped[int | None] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String(45))
    amaflags: Mapped[int | None] = mapped_column(Integer)
    accountcode: Mapped[str | None] = mapped_column(String(80))
    uniqueid: Mapped[str | None] = mapped_column(String(150), index=True)
    linkedid: Mapped[str | None] = mapped_column(String(150))
    userfield: Mapped[str | None] = mapped_column(String(255))
    peeraccount: Mapped[str | None] = mapped_column(String(80))
    sequence: Mapped[int | None] = mapped_column(Integer)
