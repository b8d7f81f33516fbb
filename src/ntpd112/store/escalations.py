"""Ticket escalations in PostgreSQL: the tickets whose deadlines still run, each escalation level recorded once (with
a ticket event for the ticket's history), and the count of breaches the reports use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from ntpd112.clock import utcnow
from ntpd112.live import Hub
from ntpd112.routing.deadlines import Deadline, Escalation
from ntpd112.store.db import Database
from ntpd112.store.models import Ticket, TicketEscalation, TicketEvent
from ntpd112.store.tickets import publish_changed
from ntpd112.tickets.flow import AWAITING_ACKNOWLEDGEMENT, AWAITING_RESOLUTION, Actor, TicketStatus

SYSTEM_ESCALATION = "system:escalation"
_STILL_MISSED = {Deadline.ACKNOWLEDGE: AWAITING_ACKNOWLEDGEMENT, Deadline.RESOLVE: AWAITING_RESOLUTION}


@dataclass(frozen=True)
class RunningTicket:
    """A ticket with a deadline still running, and the escalation levels it has reached."""

    id: uuid.UUID
    agency: str
    category: str
    status: TicketStatus
    created_at: datetime
    reached: frozenset[tuple[Deadline, int]]

    @property
    def missed(self) -> frozenset[Deadline]:
        """The deadlines the ticket's status has not met yet (whether or not their time has come)."""
        return frozenset(deadline for deadline, statuses in _STILL_MISSED.items() if self.status in statuses)


class Escalations:
    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self._database = database
        self._hub = hub

    async def running(self) -> list[RunningTicket]:
        reached = func.coalesce(
            func.array_agg(func.concat(TicketEscalation.deadline, ":", TicketEscalation.level)).filter(
                TicketEscalation.level.is_not(None)
            ),
            [],
        )
        statement = (
            select(Ticket.id, Ticket.agency, Ticket.category, Ticket.status, Ticket.created_at, reached)
            .outerjoin(TicketEscalation, TicketEscalation.ticket_id == Ticket.id)
            .where(Ticket.status.in_([s.value for s in AWAITING_RESOLUTION]))
            .group_by(Ticket.id)
        )
        async with self._database.session() as session:
            rows = (await session.execute(statement)).all()
        return [
            RunningTicket(
                row[0], row[1], row[2], TicketStatus(row[3]), row[4], frozenset(_parse_level(text) for text in row[5])
            )
            for row in rows
        ]

    async def record(self, ticket_id: uuid.UUID, escalation: Escalation) -> bool:
        """Records the escalation once, with a ticket event, if the ticket still misses that deadline (the agency may
        have acted since the check). True when recorded now: the caller notifies; False when already recorded or
        no longer due."""
        now = utcnow()
        async with self._database.session() as session, session.begin():
            ticket = await session.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None or TicketStatus(ticket.status) not in _STILL_MISSED[escalation.deadline]:
                return False
            inserted = await session.scalar(
                insert(TicketEscalation)
                .values(
                    ticket_id=ticket_id,
                    deadline=escalation.deadline.value,
                    level=escalation.level,
                    due_at=escalation.at,
                    recorded_at=now,
                )
                .on_conflict_do_nothing()
                .returning(TicketEscalation.level)
            )
            if inserted is None:
                return False
            session.add(
                TicketEvent(
                    ticket_id=ticket_id,
                    at=now,
                    kind="escalated",
                    by=SYSTEM_ESCALATION,
                    actor=Actor.SYSTEM.value,
                    text=f"{escalation.deadline.value} limit missed: escalation level {escalation.level}",
                )
            )
            agency = ticket.agency
        publish_changed(self._hub, [(ticket_id, agency)])
        return True

    async def count_breaches(self, since: datetime, until: datetime, agency: str | None = None) -> dict[Deadline, int]:
        """Tickets that missed a deadline in [since, until) (by when it was missed), per deadline: for the
        reports."""
        statement = (
            select(TicketEscalation.deadline, func.count())
            .join(Ticket, Ticket.id == TicketEscalation.ticket_id)
            .where(TicketEscalation.level == 1, TicketEscalation.due_at >= since, TicketEscalation.due_at < until)
            .group_by(TicketEscalation.deadline)
        )
        if agency is not None:
            statement = statement.where(Ticket.agency == agency)
        async with self._database.session() as session:
            counted = {deadline: count for deadline, count in await session.execute(statement)}
        return {deadline: counted.get(deadline.value, 0) for deadline in Deadline}


def _parse_level(text: str) -> tuple[Deadline, int]:
    deadline, level = text.split(":")
    return Deadline(deadline), int(level)
