"""Where ticket events go: the agency's webhook (dispatch/webhooks.py) and its duty phone (dispatch/phone_calls.py).
Ticket changes and escalations tell one sink; it tells each channel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from ntpd112.routing.deadlines import Escalation
from ntpd112.tickets.webhooks import WebhookChange, WebhookEvent


class TicketEventSink(Protocol):
    async def notify(
        self,
        ticket_id: uuid.UUID,
        event: WebhookEvent,
        change: WebhookChange | None = None,
        escalation: Escalation | None = None,
    ) -> None:
        """Never raises: the ticket's change is committed and stands whatever happens to its notification."""


class Fanout:
    def __init__(self, sinks: Sequence[TicketEventSink]) -> None:
        self._sinks = tuple(sinks)

    async def notify(
        self,
        ticket_id: uuid.UUID,
        event: WebhookEvent,
        change: WebhookChange | None = None,
        escalation: Escalation | None = None,
    ) -> None:
        for sink in self._sinks:
            await sink.notify(ticket_id, event, change, escalation)
