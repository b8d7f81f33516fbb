"""Phone notifications of tickets in PostgreSQL: the calls waiting to be placed (ticket_phone_calls) and every
attempt at them (ticket_phone_call_attempts). Claimed for one attempt with a lease (store/outbox.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ntpd112.clock import utcnow
from ntpd112.store import outbox
from ntpd112.store.db import Database
from ntpd112.store.models import TicketPhoneCall, TicketPhoneCallAttempt


@dataclass(frozen=True)
class DuePhoneCall:
    id: uuid.UUID
    ticket_id: uuid.UUID
    agency: str
    number: str
    text: str
    attempt: int  # the number of the attempt about to be made (1: the first)


@dataclass(frozen=True)
class PhoneAttempt:
    """An attempt as logged: for the tests and the admins."""

    call_id: uuid.UUID
    ticket_id: uuid.UUID
    status: str
    attempt: int
    outcome: str
    digit: str | None


class PhoneCallView(outbox.OutboxRowView):
    """A phone notification as an admin follows it: its state and its last attempt's outcome (not the text)."""

    reason: str
    number: str
    last_outcome: str | None


class PhoneCalls:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def enqueue(self, ticket_id: uuid.UUID, agency: str, reason: str, number: str, text: str) -> uuid.UUID:
        call_id = uuid.uuid4()
        await outbox.enqueue(
            self._database, TicketPhoneCall, call_id, ticket_id, agency, reason=reason, number=number, text=text
        )
        return call_id

    async def claim_due(self, limit: int, lease: timedelta) -> list[DuePhoneCall]:
        m = TicketPhoneCall
        rows = await outbox.claim_due(
            self._database, m, limit, lease, m.id, m.ticket_id, m.agency, m.number, m.text, m.attempts
        )
        return [DuePhoneCall(r.id, r.ticket_id, r.agency, r.number, r.text, r.attempts + 1) for r in rows]

    async def next_due_at(self) -> datetime | None:
        return await outbox.next_due_at(self._database, TicketPhoneCall)

    async def ticket_of(self, call_id: uuid.UUID) -> tuple[uuid.UUID, str] | None:
        """(ticket, number rung) of a call: a key pressed after the service restarted still acknowledges."""
        async with self._database.session() as session:
            row = (
                await session.execute(
                    select(TicketPhoneCall.ticket_id, TicketPhoneCall.number).where(TicketPhoneCall.id == call_id)
                )
            ).first()
        return (row.ticket_id, row.number) if row is not None else None

    async def record_attempt(
        self,
        call: DuePhoneCall,
        outcome: str,
        digit: str | None,
        duration_ms: float,
        retry_in: float | None,
        at: datetime,
        *,
        final: str | None = None,
    ) -> str:
        """Logs the attempt and moves the call on: `final` ('acknowledged', 'cancelled') ends it; otherwise it is
        retried in `retry_in` seconds, or failed when that is None. Answers the call's new status. A call that ended
        meanwhile (acknowledged on the web page, by a late key press) keeps its status."""
        moved = outbox.after_attempt(call.attempt, final, retry_in)
        async with self._database.session() as session, session.begin():
            session.add(
                TicketPhoneCallAttempt(
                    call_id=call.id, attempt=call.attempt, at=at, outcome=outcome, digit=digit, duration_ms=duration_ms
                )
            )
            await session.execute(
                update(TicketPhoneCall)
                .where(TicketPhoneCall.id == call.id, TicketPhoneCall.status == "pending")
                .values(**moved)
            )
            current = await session.scalar(select(TicketPhoneCall.status).where(TicketPhoneCall.id == call.id))
        return current or str(moved["status"])

    async def end_for_ticket(self, ticket_id: uuid.UUID, status: str) -> int:
        """Ends the ticket's pending calls (the ticket no longer waits for the agency); answers how many."""
        now = utcnow()
        async with self._database.session() as session, session.begin():
            ended = await session.execute(
                update(TicketPhoneCall)
                .where(TicketPhoneCall.ticket_id == ticket_id, TicketPhoneCall.status == "pending")
                .values(status=status, finished_at=now)
            )
        return int(ended.rowcount)  # type: ignore[attr-defined]

    async def recent(self, agency: str, limit: int) -> list[PhoneCallView]:
        """The agency's phone notifications, newest first, each with its last attempt's outcome."""
        rows = await outbox.recent(
            self._database,
            TicketPhoneCall,
            TicketPhoneCallAttempt.call_id,
            agency,
            limit,
            TicketPhoneCallAttempt.outcome,
        )
        return [
            PhoneCallView(**PhoneCallView.fields_of(call), reason=call.reason, number=call.number, last_outcome=outcome)
            for call, outcome in rows
        ]

    async def attempts(self, ticket_id: uuid.UUID) -> list[PhoneAttempt]:
        statement = (
            select(
                TicketPhoneCall.id,
                TicketPhoneCall.ticket_id,
                TicketPhoneCall.status,
                TicketPhoneCallAttempt.attempt,
                TicketPhoneCallAttempt.outcome,
                TicketPhoneCallAttempt.digit,
            )
            .join(TicketPhoneCallAttempt, TicketPhoneCallAttempt.call_id == TicketPhoneCall.id)
            .where(TicketPhoneCall.ticket_id == ticket_id)
            .order_by(TicketPhoneCall.created_at, TicketPhoneCallAttempt.attempt)
        )
        async with self._database.session() as session:
            return [PhoneAttempt(*row) for row in (await session.execute(statement)).all()]
