"""Agency webhooks in PostgreSQL: the agencies' signing secrets (write-only), the deliveries waiting to be posted and
every attempt at them.

A delivery is claimed for one attempt with a lease (store/outbox.py): two services never post it at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from ntpd112.clock import utcnow
from ntpd112.store import outbox
from ntpd112.store.db import Database
from ntpd112.store.models import AgencyWebhookSecret, WebhookAttempt, WebhookDelivery


@dataclass(frozen=True)
class DueDelivery:
    id: uuid.UUID
    agency: str
    event: str
    body: str
    attempt: int  # the number of the attempt about to be made (1: the first)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None  # None: no HTTP answer (refused, timed out)
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryView(outbox.OutboxRowView):
    """A delivery as an admin follows it: its state and its last attempt's answer (the body is not repeated)."""

    event: str
    last_status_code: int | None
    last_error: str | None


class WebhookSecrets:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def put(self, agency: str, secret: str, by: str) -> None:
        values = {"secret": secret, "updated_by": by[:80], "updated_at": utcnow()}
        statement = insert(AgencyWebhookSecret).values(agency=agency, **values)
        async with self._database.session() as session, session.begin():
            await session.execute(statement.on_conflict_do_update(index_elements=["agency"], set_=values))

    async def remove(self, agency: str) -> bool:
        async with self._database.session() as session, session.begin():
            removed = await session.execute(delete(AgencyWebhookSecret).where(AgencyWebhookSecret.agency == agency))
        return bool(removed.rowcount)  # type: ignore[attr-defined]

    async def agencies_with_secret(self) -> frozenset[str]:
        async with self._database.session() as session:
            return frozenset((await session.scalars(select(AgencyWebhookSecret.agency))).all())

    async def secret(self, agency: str) -> str | None:
        """For signing only; never returned by the API nor logged."""
        async with self._database.session() as session:
            return await session.scalar(select(AgencyWebhookSecret.secret).where(AgencyWebhookSecret.agency == agency))


class WebhookDeliveries:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def enqueue(self, event_id: uuid.UUID, ticket_id: uuid.UUID, agency: str, event: str, body: str) -> None:
        await outbox.enqueue(self._database, WebhookDelivery, event_id, ticket_id, agency, event=event, body=body)

    async def recent(self, agency: str, limit: int) -> list[DeliveryView]:
        """The agency's deliveries, newest first, each with its last attempt."""
        rows = await outbox.recent(
            self._database,
            WebhookDelivery,
            WebhookAttempt.delivery_id,
            agency,
            limit,
            WebhookAttempt.status_code,
            WebhookAttempt.error,
        )
        return [
            DeliveryView(
                **DeliveryView.fields_of(delivery), event=delivery.event, last_status_code=status_code, last_error=error
            )
            for delivery, status_code, error in rows
        ]

    async def claim_due(self, limit: int, lease: timedelta) -> list[DueDelivery]:
        """Pending deliveries whose time has come (oldest first), each leased for one attempt."""
        model = WebhookDelivery
        rows = await outbox.claim_due(
            self._database, model, limit, lease, model.id, model.agency, model.event, model.body, model.attempts
        )
        return [DueDelivery(row.id, row.agency, row.event, row.body, row.attempts + 1) for row in rows]

    async def next_due_at(self) -> datetime | None:
        return await outbox.next_due_at(self._database, WebhookDelivery)

    async def record_attempt(
        self, delivery: DueDelivery, result: AttemptResult, retry_in: float | None, at: datetime
    ) -> str:
        """Logs the attempt and moves the delivery on: delivered, retried in `retry_in` seconds, or failed (when
        `retry_in` is None). Answers the delivery's new status."""
        moved = outbox.after_attempt(delivery.attempt, "delivered" if result.delivered else None, retry_in)
        async with self._database.session() as session, session.begin():
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempt=delivery.attempt,
                    at=at,
                    status_code=result.status_code,
                    error=result.error[:200] if result.error else None,
                    duration_ms=result.duration_ms,
                )
            )
            await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**moved))
        return str(moved["status"])
