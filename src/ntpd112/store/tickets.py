"""Tickets in PostgreSQL: created per (incident, agency), moved along tickets/flow.py under a row lock, every change
and comment an appended ticket_events row with who and when.

Written directly, like incidents: the person asking learns at once whether it was saved. Every committed change
is published on the hub (live.TicketChanged) for the agency screens and the room.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.clock import utcnow
from ntpd112.errors import RefusedError
from ntpd112.live import Hub, TicketChanged
from ntpd112.store.db import Database
from ntpd112.store.models import Call, Incident, Ticket, TicketCounter, TicketEscalation, TicketEvent
from ntpd112.tickets.flow import (
    Actor,
    TicketStatus,
    TransitionRefused,
    actor_of,
    allowed_from,
    check,
    ticket_number,
)

# Most urgent first; a ticket without a severity sorts with the low ones.
_URGENCY = case({"critical": 4, "high": 3, "medium": 2, "low": 1}, value=Ticket.severity, else_=0)


class TicketError(RefusedError):
    """A ticket request refused; nothing was changed."""


@dataclass(frozen=True)
class Who:
    """Someone acting on tickets: a user (roles, agency) or the service itself (`system`)."""

    username: str
    roles: tuple[str, ...]
    agency: str | None
    system: bool = False

    def actor_for(self, ticket_agency: str) -> Actor | None:
        return Actor.SYSTEM if self.system else actor_of(self.roles, self.agency, ticket_agency)


class TicketSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    call_id: uuid.UUID
    incident_id: uuid.UUID
    agency: str
    category: str
    # The category's names in the routing table in force (None: the category has left the table since).
    category_label_id: str | None = None
    category_label_en: str | None = None
    severity: str | None
    status: TicketStatus
    kecamatan: str | None = None
    # The highest escalation level the ticket has reached for a missed time limit (0: none; as listed and read).
    escalation_level: int = 0
    created_by: str
    created_at: datetime
    updated_at: datetime


class TicketEventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    from_status: TicketStatus | None
    to_status: TicketStatus | None
    by: str
    actor: Actor
    text: str | None


class TicketPlace(BaseModel):
    """Where to go: the operator's position on the incident when set, else the call's best location fix."""

    lat: float | None
    lon: float | None
    radius_m: float | None
    source: str | None  # "incident" (set by the operator) or the fix's source (aml, pidf, cell, ...)
    address: str | None
    kabupaten: str | None
    kecamatan: str | None
    kelurahan: str | None
    area: str | None  # the operator's area text


@dataclass(frozen=True)
class TicketRecord:
    """A ticket with what its detail page needs; the web layer decides what each reader may see of it."""

    summary: TicketSummary
    final_report: str | None
    description: str | None
    place: TicketPlace
    caller_number: str | None
    events: list[TicketEventView]


def _summary(ticket: Ticket, call: Call | None, incident: Incident | None, escalation_level: int) -> TicketSummary:
    summary = TicketSummary.model_validate(ticket)
    kecamatan = (call.area_kecamatan if call else None) or (incident.area if incident else None)
    return summary.model_copy(update={"kecamatan": kecamatan, "escalation_level": escalation_level})


def _place(call: Call, incident: Incident) -> TicketPlace:
    lat, lon, radius, source = call.best_lat, call.best_lon, call.best_radius_m, call.best_source
    if incident.lat is not None:
        lat, lon, radius, source = incident.lat, incident.lon, None, "incident"
    return TicketPlace(
        lat=lat,
        lon=lon,
        radius_m=radius,
        source=source if lat is not None else None,
        address=incident.address,
        kabupaten=call.area_kabupaten,
        kecamatan=call.area_kecamatan,
        kelurahan=call.area_kelurahan,
        area=incident.area,
    )


_ESCALATION_LEVEL = (
    select(func.coalesce(func.max(TicketEscalation.level), 0))
    .where(TicketEscalation.ticket_id == Ticket.id)
    .correlate(Ticket)
    .scalar_subquery()
)


def _with_context() -> Select[Ticket, Call, Incident, int]:
    return (
        select(Ticket, Call, Incident, _ESCALATION_LEVEL)
        .join(Call, Call.id == Ticket.call_id)
        .join(Incident, Incident.id == Ticket.incident_id)
    )


class TicketRepository:
    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self._database = database
        self._hub = hub

    def _changed(self, tickets: list[Ticket]) -> None:
        publish_changed(self._hub, [(ticket.id, ticket.agency) for ticket in tickets])

    async def create(
        self, call_id: uuid.UUID, agencies: list[str], who: Who, year: int, note: str | None = None
    ) -> tuple[list[TicketSummary], list[uuid.UUID]]:
        """One ticket per agency for the call's incident, new and at once sent (the agency's screen shows it);
        an agency that has a ticket for this incident already keeps it (idempotent). Answers the tickets in the
        order of `agencies`, and the ids of those made now. Raises TicketError 409 no_incident when the call is not
        classified."""
        now = utcnow()
        made: list[Ticket] = []
        async with self._database.session() as session, session.begin():
            incident = (
                await session.scalars(select(Incident).where(Incident.call_id == call_id).with_for_update())
            ).first()
            if incident is None:
                raise TicketError(409, "no_incident", "classify the call first: tickets are made from its incident")
            existing = {
                t.agency: t
                for t in (await session.scalars(select(Ticket).where(Ticket.incident_id == incident.id))).all()
            }
            for agency in dict.fromkeys(agencies):  # the incident's row lock serializes two creators
                if agency in existing:
                    continue
                ticket = Ticket(
                    number=ticket_number(year, await _next_number(session, year)),
                    incident_id=incident.id,
                    call_id=call_id,
                    agency=agency,
                    category=incident.category,
                    severity=incident.severity,
                    status=TicketStatus.SENT.value,
                    created_by=who.username,
                    created_at=now,
                    updated_at=now,
                )
                session.add(ticket)
                await session.flush()
                actor = who.actor_for(agency) or Actor.OPERATOR
                session.add_all(
                    [
                        ticket_event(ticket, now, "status", None, TicketStatus.NEW, who.username, actor, note),
                        ticket_event(
                            ticket, now, "status", TicketStatus.NEW, TicketStatus.SENT, "system:web", Actor.SYSTEM
                        ),
                    ]
                )
                existing[agency] = ticket
                made.append(ticket)
            await session.flush()
            created = [TicketSummary.model_validate(existing[agency]) for agency in dict.fromkeys(agencies)]
        self._changed(made)
        return created, [ticket.id for ticket in made]

    async def list(
        self,
        agency: str | None,
        statuses: frozenset[TicketStatus] | None,
        limit: int,
        call_id: uuid.UUID | None = None,
    ) -> list[TicketSummary]:
        statement = _with_context()
        if call_id is not None:
            statement = statement.where(Ticket.call_id == call_id)
        if agency is not None:
            statement = statement.where(Ticket.agency == agency)
        if statuses is not None:
            statement = statement.where(Ticket.status.in_([s.value for s in statuses]))
        statement = statement.order_by(_URGENCY.desc(), Ticket.created_at.desc(), Ticket.id).limit(limit)
        async with self._database.session() as session:
            rows = (await session.execute(statement)).all()
        return [_summary(ticket, call, incident, level) for ticket, call, incident, level in rows]

    async def get(self, ticket_id: uuid.UUID) -> TicketRecord | None:
        async with self._database.session() as session:
            row = (await session.execute(_with_context().where(Ticket.id == ticket_id))).first()
            if row is None:
                return None
            ticket, call, incident, level = row
            events = (
                await session.scalars(
                    select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
                )
            ).all()
        return TicketRecord(
            summary=_summary(ticket, call, incident, level),
            final_report=ticket.final_report,
            description=incident.description,
            place=_place(call, incident),
            caller_number=call.caller_number,
            events=[TicketEventView.model_validate(e) for e in events],
        )

    async def transition(
        self, ticket_id: uuid.UUID, to: TicketStatus, who: Who, reason: str | None = None, report: str | None = None
    ) -> TicketSummary:
        """Raises TicketError: 404 when the ticket does not exist or is another agency's, 409 when the flow
        refuses the move (details: the statuses this user may move it to), 422 when a reason or report is due."""
        now = utcnow()
        async with self._database.session() as session, session.begin():
            ticket, actor = await locked_ticket(session, ticket_id, who)
            current = TicketStatus(ticket.status)
            try:
                check(current, to, actor, reason, report)
            except TransitionRefused as refused:
                status = 409 if refused.kind == "illegal" else 422
                details = {"status": current.value, "allowed": [s.value for s in refused.allowed]}
                raise TicketError(status, f"transition_{refused.kind}", refused.message, details) from None
            ticket.status = to.value
            ticket.updated_at = now
            if to is TicketStatus.CLOSED:
                ticket.final_report = report
            session.add(ticket_event(ticket, now, "status", current, to, who.username, actor, report or reason))
            await session.flush()
            moved = TicketSummary.model_validate(ticket)
        self._changed([ticket])
        return moved

    async def comment(self, ticket_id: uuid.UUID, text: str, who: Who) -> TicketEventView:
        now = utcnow()
        async with self._database.session() as session, session.begin():
            ticket, actor = await locked_ticket(session, ticket_id, who)
            event = ticket_event(ticket, now, "comment", None, None, who.username, actor, text)
            session.add(event)
            await session.flush()
            view = TicketEventView.model_validate(event)
        self._changed([ticket])
        return view


def publish_changed(hub: Hub | None, tickets: list[tuple[uuid.UUID, str]]) -> None:
    """Tell the live streams of changed (ticket id, agency); called after the commit, so a reader re-reading at once
    sees the change."""
    if hub is not None:
        for ticket_id, agency in tickets:
            hub.publish(TicketChanged(ticket_id, agency))


def allowed_moves(ticket: TicketSummary, who: Who) -> list[TicketStatus]:
    """The statuses `who` may move the ticket to now (the buttons an agency user sees)."""
    actor = who.actor_for(ticket.agency)
    return [] if actor is None else list(allowed_from(ticket.status, actor))


async def locked_ticket(session: AsyncSession, ticket_id: uuid.UUID, who: Who) -> tuple[Ticket, Actor]:
    """The ticket, row-locked, and how `who` acts on it; TicketError 404 when it is missing or not theirs."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True)
    actor = who.actor_for(ticket.agency) if ticket is not None else None
    if ticket is None or actor is None:
        # Another agency's ticket is answered like a missing one: its existence is not theirs to know.
        raise TicketError(404, "ticket_not_found", "no such ticket (or not your agency's)", {"id": str(ticket_id)})
    return ticket, actor


async def _next_number(session: AsyncSession, year: int) -> int:
    upsert = (
        insert(TicketCounter)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=[TicketCounter.year], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )
    last: int = (await session.execute(upsert)).scalar_one()
    return last


def ticket_event(
    ticket: Ticket,
    at: datetime,
    kind: str,
    from_status: TicketStatus | None,
    to_status: TicketStatus | None,
    by: str,
    actor: Actor,
    text: str | None = None,
) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id,
        at=at,
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        by=by[:80],
        actor=actor.value,
        text=text,
    )
