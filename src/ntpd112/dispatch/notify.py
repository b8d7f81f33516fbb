"""Where ticket events go: the agency's webhook (dispatch/webhooks.py) and its duty phone (dispatch/phone_calls.py).
Ticket changes and escalations tell TicketEvents; it hands the event to each channel, and a channel that fails is
logged without keeping the event from the others."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ntpd112.logs import get_logger
from ntpd112.routing.deadlines import Escalation
from ntpd112.tickets.webhooks import WebhookChange, WebhookEvent

log = get_logger(__name__)


@dataclass(frozen=True)
class TicketEvent:
    ticket_id: uuid.UUID
    kind: WebhookEvent
    change: WebhookChange | None = None
    escalation: Escalation | None = None


class TicketEventChannel(Protocol):
    name: str

    async def queue(self, event: TicketEvent) -> None:
        """Queues what the channel sends for the event (if anything); may raise."""


class TicketEvents:
    def __init__(self, channels: Sequence[TicketEventChannel]) -> None:
        self._channels = tuple(channels)

    async def notify(
        self,
        ticket_id: uuid.UUID,
        kind: WebhookEvent,
        change: WebhookChange | None = None,
        escalation: Escalation | None = None,
    ) -> None:
        """Never raises: the ticket's change is committed already and stands whatever happens to its notification."""
        event = TicketEvent(ticket_id, kind, change, escalation)
        for channel in self._channels:
            try:
                await channel.queue(event)
            except Exception:
                log.exception(
                    "ticket event not queued", channel=channel.name, ticket=str(ticket_id), webhook_event=kind.value
                )
