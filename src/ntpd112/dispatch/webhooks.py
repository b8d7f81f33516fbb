"""Agency webhooks as the service runs them: a ticket event becomes a delivery (its body fixed then, stored), and the
sender posts pending deliveries, signed, retrying with backoff until a 2xx answer or the last attempt.

The body and signature are in tickets/webhooks.py and docs/TICKETS.md; the rows in store/webhooks.py. Deliveries
are rows, not tasks: a restart loses none (the sender starts with the pending ones). The secret and the URL's path
and query are never logged (a gateway's URL may carry a token).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from ntpd112.backoff import Backoff
from ntpd112.clock import utcnow
from ntpd112.dispatch.notify import TicketEvent
from ntpd112.dispatch.outbox import OutboxLoop
from ntpd112.logs import get_logger
from ntpd112.routing.deadlines import Deadline, Escalation, calendar_of, schedule
from ntpd112.routing.tables import RoutingTable, TableSource
from ntpd112.store.eido import ticket_facts
from ntpd112.store.tickets import TicketRecord, TicketRepository
from ntpd112.store.webhooks import AttemptResult, DueDelivery, WebhookDeliveries, WebhookSecrets
from ntpd112.tickets.eido import to_eido
from ntpd112.tickets.webhooks import (
    WebhookBody,
    WebhookContact,
    WebhookEscalation,
    WebhookLocation,
    WebhookTicket,
    signed_headers,
)

log = get_logger(__name__)


class TicketNotifier:
    """Queues a delivery of a ticket event when the ticket's agency has a webhook."""

    name = "webhook"

    def __init__(
        self,
        tickets: TicketRepository,
        deliveries: WebhookDeliveries,
        tables: TableSource,
        wake: Callable[[], None],
        eido_domain: str = "ntpd112.invalid",
    ) -> None:
        self._tickets = tickets
        self._deliveries = deliveries
        self._tables = tables
        self._wake = wake
        self._eido_domain = eido_domain

    async def queue(self, event: TicketEvent) -> None:
        ticket_id, change, escalation = event.ticket_id, event.change, event.escalation
        table = await self._tables.current_table()
        record = await self._tickets.get(ticket_id)
        agency = table.agency(record.summary.agency) if record is not None else None
        if record is None or agency is None or agency.webhook is None:
            return
        event_id = uuid.uuid4()
        include_caller = agency.webhook.include_caller_number
        category = table.category(record.summary.category)
        facts = ticket_facts(record, category.label_id if category else None, agency.kind.value)
        body = WebhookBody(
            event=event.kind,
            event_id=event_id,
            occurred_at=utcnow(),
            ticket=_ticket(record, table, include_caller_number=include_caller),
            change=change,
            escalation=_escalation(escalation, record, table) if escalation is not None else None,
            eido=to_eido(facts, self._eido_domain, utcnow(), include_caller).json_body(),
        )
        await self._deliveries.enqueue(event_id, ticket_id, agency.id, event.kind.value, body.model_dump_json())
        self._wake()


def _ticket(record: TicketRecord, table: RoutingTable, *, include_caller_number: bool) -> WebhookTicket:
    summary, place = record.summary, record.place
    category = table.category(summary.category)
    due = None
    if category is not None:
        due = schedule(summary.created_at, category, calendar_of(table), table.time_limits(category, summary.agency))
    return WebhookTicket(
        id=summary.id,
        number=summary.number,
        agency=summary.agency,
        status=summary.status.value,
        category=summary.category,
        category_label=category.label_id if category is not None else None,
        severity=summary.severity,
        kecamatan=summary.kecamatan,
        location=WebhookLocation(
            lat=place.lat,
            lon=place.lon,
            radius_m=place.radius_m,
            address=place.address,
            kelurahan=place.kelurahan,
            kecamatan=place.kecamatan,
            kabupaten=place.kabupaten,
        ),
        created_at=summary.created_at,
        updated_at=summary.updated_at,
        acknowledge_due_at=due[Deadline.ACKNOWLEDGE][0] if due else None,
        resolve_due_at=due[Deadline.RESOLVE][0] if due else None,
        caller_number=record.caller_number if include_caller_number else None,
    )


def _escalation(escalation: Escalation, record: TicketRecord, table: RoutingTable) -> WebhookEscalation:
    agency = table.agency(record.summary.agency)
    # Every level reaches the people on duty; the second also the head of the agency and the camat.
    contacts = [WebhookContact(role="duty", name=c.name, phone=c.phone) for c in (agency.duty if agency else [])]
    if escalation.level >= 2:
        if agency is not None and agency.head is not None:
            contacts.append(WebhookContact(role="head_of_agency", name=agency.head.name, phone=agency.head.phone))
        camat = table.camat(record.summary.kecamatan)
        if camat is not None:
            contacts.append(WebhookContact(role="camat", name=camat.contact.name, phone=camat.contact.phone))
    return WebhookEscalation(
        deadline=escalation.deadline.value, level=escalation.level, due_at=escalation.at, contacts=contacts
    )


class WebhookSender:
    def __init__(
        self,
        deliveries: WebhookDeliveries,
        secrets: WebhookSecrets,
        tables: TableSource,
        backoff: Backoff,
        *,
        timeout: float,
        max_attempts: int,
    ) -> None:
        self._deliveries = deliveries
        self._secrets = secrets
        self._tables = tables
        self._backoff = backoff
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._session: aiohttp.ClientSession | None = None
        # The lease covers one attempt with room to spare; a service that died mid-attempt frees it after that.
        lease = timedelta(seconds=timeout * 2 + 5)
        self._outbox = OutboxLoop(
            "webhooks", lambda limit: deliveries.claim_due(limit, lease), deliveries.next_due_at, self._attempt
        )

    def wake(self) -> None:
        self._outbox.wake()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        await self._outbox.start()

    async def stop(self) -> None:
        await self._outbox.stop()
        if self._session is not None:
            await self._session.close()

    async def _attempt(self, delivery: DueDelivery) -> None:
        at = utcnow()
        table = await self._tables.current_table()
        agency = table.agency(delivery.agency)
        secret = await self._secrets.secret(delivery.agency)
        host = None
        if agency is None or agency.webhook is None or secret is None:
            result = AttemptResult(None, "the agency has no webhook URL or no secret", 0.0)
        else:
            url = str(agency.webhook.url)
            host = urlsplit(url).hostname
            result = await self._post(url, secret, delivery)
        retry_in = self._backoff.retry_in(delivery.attempt, self._max_attempts)
        status = await self._deliveries.record_attempt(delivery, result, retry_in, at)
        log.info(
            "webhook attempt",
            delivery=str(delivery.id),
            agency=delivery.agency,
            webhook_event=delivery.event,
            host=host,
            attempt=delivery.attempt,
            status_code=result.status_code,
            error=result.error,
            outcome=status,
        )

    async def _post(self, url: str, secret: str, delivery: DueDelivery) -> AttemptResult:
        assert self._session is not None
        body = delivery.body.encode()
        headers = signed_headers(secret, delivery.event, delivery.id, body, int(time.time()))
        started = time.monotonic()
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                status: int | None = response.status
                error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except TimeoutError:
            status, error = None, "timeout"
        except aiohttp.ClientError as failure:
            status, error = None, type(failure).__name__
        return AttemptResult(status, error, (time.monotonic() - started) * 1000)
