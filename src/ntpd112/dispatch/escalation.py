"""The periodic check that escalates tickets past their time limits (routing/deadlines.py decides when).

Each level of a missed deadline is recorded once (store/escalations.py: a row per ticket, deadline and level, with a
ticket event), published on the hub (the agency's screen and the supervisors' re-read the ticket) and posted to the
agency's webhook; at level 2 the body names the head of the agency and the camat of the incident's kecamatan, for
the Pemda's gateway to reach them. Several services may check at once: the row decides who acts.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from ntpd112.clock import utcnow
from ntpd112.dispatch.notify import TicketEvents
from ntpd112.logs import get_logger
from ntpd112.routing.deadlines import calendar_of, escalations_due, schedule
from ntpd112.routing.tables import TableSource
from ntpd112.store.escalations import Escalations
from ntpd112.tasks import TaskSet
from ntpd112.tickets.webhooks import WebhookEvent

log = get_logger(__name__)


class EscalationChecker:
    def __init__(
        self, escalations: Escalations, tables: TableSource, notifier: TicketEvents, *, interval: float
    ) -> None:
        self._escalations = escalations
        self._tables = tables
        self._notifier = notifier
        self._interval = interval
        self._tasks = TaskSet("escalation")

    async def start(self) -> None:
        self._tasks.spawn(self._loop(), name="escalation")

    async def stop(self) -> None:
        await self._tasks.aclose()

    async def check(self, now: datetime) -> int:
        """One pass: escalates what is due at `now`; answers how many escalations it recorded."""
        table = await self._tables.current_table()
        calendar = calendar_of(table)
        recorded = 0
        for ticket in await self._escalations.running():
            category = table.category(ticket.category)
            if category is None:  # the category has left the table: its limits with it
                continue
            levels = schedule(ticket.created_at, category, calendar, table.time_limits(category, ticket.agency))
            for escalation in escalations_due(levels, ticket.missed, ticket.reached, now):
                if await self._escalations.record(ticket.id, escalation):
                    recorded += 1
                    log.warning(
                        "ticket escalated",
                        ticket=str(ticket.id),
                        agency=ticket.agency,
                        deadline=escalation.deadline.value,
                        escalation_level=escalation.level,
                    )
                    await self._notifier.notify(ticket.id, WebhookEvent.ESCALATED, escalation=escalation)
        return recorded

    async def _loop(self) -> None:
        while True:
            try:
                await self.check(utcnow())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("escalation check failed; next round in the interval")
            await asyncio.sleep(self._interval)
