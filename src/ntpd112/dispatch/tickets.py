"""Tickets as the room and the agencies use them: made from an incident for each agency it goes to (by the
operator, or by dispatch when an agency desk answers or a rule opens an after-hours ticket), listed and moved
along by the agency, followed by the room. The flow's rules are in tickets/flow.py, the rows in store/tickets.py.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ntpd112.clock import utcnow
from ntpd112.dispatch.notify import TicketEvents
from ntpd112.routing.tables import RoutingTable, TableSource
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.tickets import (
    TicketError,
    TicketEventView,
    TicketRecord,
    TicketRepository,
    TicketSummary,
    Who,
)
from ntpd112.tickets.flow import STATUS_FILTERS, TicketStatus, statuses_of
from ntpd112.tickets.webhooks import WebhookChange, WebhookEvent

SYSTEM_DISPATCH = "system:dispatch"


class TicketService:
    def __init__(
        self,
        repository: TicketRepository,
        incidents: IncidentRepository,
        tables: TableSource,
        notifier: TicketEvents | None = None,
    ) -> None:
        self._repository = repository
        self._incidents = incidents
        self._tables = tables
        self._notifier = notifier

    async def _created(self, made: list[uuid.UUID]) -> None:
        if self._notifier is not None:
            for ticket_id in made:
                await self._notifier.notify(ticket_id, WebhookEvent.CREATED)

    async def _moved(self, ticket: TicketSummary, who: Who, reason: str | None) -> None:
        if self._notifier is not None:
            change = WebhookChange(to=ticket.status.value, by=who.username, reason=reason)
            await self._notifier.notify(ticket.id, WebhookEvent.STATUS_CHANGED, change=change)

    async def create(
        self, call_id: uuid.UUID, agencies: list[str], who: Who, note: str | None = None
    ) -> list[TicketSummary]:
        """Raises CallNotFound, TicketError 422 unknown_agency (nothing is made) and 409 no_incident."""
        await self._incidents.get(call_id)  # an unknown call is a 404, not "not classified"
        table = await self._tables.current_table()
        known = [agency.id for agency in table.agencies]
        unknown = [agency for agency in agencies if agency not in known]
        if unknown:
            raise TicketError(
                422,
                "unknown_agency",
                "not an agency of the routing table in force",
                {"unknown": unknown, "known": known},
            )
        created, made = await self._repository.create(call_id, agencies, who, _year(utcnow(), table.tz), note)
        await self._created(made)
        return [_labelled(ticket, table) for ticket in created]

    async def handed_over(self, call_id: uuid.UUID, agency: str, *, acknowledged: bool) -> TicketSummary:
        """Dispatch handed the incident to `agency`: its ticket exists (made now if need be); when an agency desk
        answered, the agency has it: acknowledged by the service on the agency's behalf."""
        system = Who(SYSTEM_DISPATCH, (), None, system=True)
        table = await self._tables.current_table()
        [ticket], made = await self._repository.create(call_id, [agency], system, _year(utcnow(), table.tz))
        await self._created(made)
        if acknowledged and ticket.status in (TicketStatus.NEW, TicketStatus.SENT):
            ticket = await self._repository.transition(ticket.id, TicketStatus.ACKNOWLEDGED, system)
            await self._moved(ticket, system, None)
        return ticket

    async def list(
        self,
        who: Who,
        status_filter: str,
        agency: str | None,
        limit: int,
        call_id: uuid.UUID | None = None,
    ) -> list[TicketSummary]:
        """`status_filter`: one of STATUS_FILTERS ('open', 'all', a status), else TicketError 422 unknown_status.
        Agency users see their own agency's tickets; staff every agency's."""
        try:
            statuses = statuses_of(status_filter)
        except ValueError:
            known = {"status": status_filter, "known": list(STATUS_FILTERS)}
            raise TicketError(422, "unknown_status", "no such ticket status filter", known) from None
        if "agency" in who.roles and not _is_staff(who):
            if agency is not None and agency != who.agency:
                raise TicketError(403, "not_your_agency", "an agency user sees only their own agency's tickets")
            tickets = await self._repository.list(who.agency, statuses, limit, call_id)
        else:
            tickets = await self._repository.list(agency, statuses, limit, call_id)
        table = await self._tables.current_table()
        return [_labelled(ticket, table) for ticket in tickets]

    async def get(self, ticket_id: uuid.UUID, who: Who) -> TicketRecord:
        record = await self._repository.get(ticket_id)
        if record is None or who.actor_for(record.summary.agency) is None:
            raise TicketError(404, "ticket_not_found", "no such ticket (or not your agency's)", {"id": str(ticket_id)})
        return replace(record, summary=_labelled(record.summary, await self._tables.current_table()))

    async def transition(
        self, ticket_id: uuid.UUID, to: TicketStatus, who: Who, reason: str | None, report: str | None
    ) -> TicketSummary:
        moved = await self._repository.transition(ticket_id, to, who, reason, report)
        await self._moved(moved, who, reason)
        return _labelled(moved, await self._tables.current_table())

    async def comment(self, ticket_id: uuid.UUID, text: str, who: Who) -> TicketEventView:
        return await self._repository.comment(ticket_id, text, who)


def _labelled(ticket: TicketSummary, table: RoutingTable) -> TicketSummary:
    category = table.category(ticket.category)
    if category is None:
        return ticket
    return ticket.model_copy(update={"category_label_id": category.label_id, "category_label_en": category.label_en})


def _is_staff(who: Who) -> bool:
    return any(role in who.roles for role in ("operator", "supervisor", "admin"))


def _year(now: datetime, tz: ZoneInfo) -> int:
    # The number's year is the room's: a ticket made at 00:30 WIB on 1 January belongs to the new year.
    return now.astimezone(tz).year
