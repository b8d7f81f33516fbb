"""One loop hands a ticket event to every channel (webhook, duty phone): a channel that fails is logged and does not
keep the event from the channels after it, nor reach the ticket change that told it."""

from __future__ import annotations

import uuid

from structlog.testing import capture_logs

from ntpd112.dispatch.notify import TicketEvent, TicketEvents
from ntpd112.tickets.webhooks import WebhookChange, WebhookEvent


class Recording:
    def __init__(self, name: str, *, fails: bool = False) -> None:
        self.name = name
        self.fails = fails
        self.seen: list[TicketEvent] = []

    async def queue(self, event: TicketEvent) -> None:
        self.seen.append(event)
        if self.fails:
            raise RuntimeError("gateway table unreadable")


async def test_a_failing_channel_is_logged_and_the_next_one_still_gets_the_event() -> None:
    webhook, phone = Recording("webhook", fails=True), Recording("phone")
    ticket_id = uuid.uuid4()
    change = WebhookChange(to="acknowledged", by="damkar1", reason=None)
    with capture_logs() as logs:
        await TicketEvents([webhook, phone]).notify(ticket_id, WebhookEvent.STATUS_CHANGED, change=change)
    expected = TicketEvent(ticket_id, WebhookEvent.STATUS_CHANGED, change, None)
    assert webhook.seen == phone.seen == [expected]
    [failure] = [line for line in logs if line["event"] == "ticket event not queued"]
    assert (failure["channel"], failure["ticket"], failure["log_level"]) == ("webhook", str(ticket_id), "error")
    assert failure["webhook_event"] == WebhookEvent.STATUS_CHANGED.value
