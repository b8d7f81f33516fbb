"""What dispatch writes down: every step an event on the call's timeline (the journal spools it while the database
is away), the incident's status, and the ticket of each agency the incident is handed to."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from ntpd112.dispatch.plan import DispatchPlan
from ntpd112.dispatch.session import Session
from ntpd112.logs import get_logger
from ntpd112.routing.chain import Attempt
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.journal import Journal

log = get_logger(__name__)


class HandOver(Protocol):
    """dispatch/tickets.TicketService: the ticket of an agency the incident went to."""

    async def handed_over(self, call_id: uuid.UUID, agency: str, *, acknowledged: bool) -> object: ...


class Timeline:
    def __init__(self, journal: Journal, incidents: IncidentRepository, tickets: HandOver) -> None:
        self._journal = journal
        self._incidents = incidents
        self._tickets = tickets

    def record(self, session: Session, event_type: str, data: dict[str, Any]) -> None:
        self._journal.record_event(session.call_id, event_type, data)

    async def set_incident(self, session: Session, status: str, plan: DispatchPlan) -> None:
        # Written directly (see store/incidents.py); a database outage must not hold up the call, so a failure
        # is an event on the timeline (the journal spools it) and dispatch carries on.
        if plan.category is None:
            return  # no incident to record it on; the timeline has every step
        try:
            # The category is only there because the upsert's INSERT must satisfy NOT NULL before ON CONFLICT.
            await self._incidents.save(
                session.call_id, {"status": status}, f"dispatch:{plan.by}"[:80], defaults={"category": plan.category}
            )
        except Exception as error:  # any database failure
            log.warning("incident status not saved", call_id=str(session.call_id), status=status, error=repr(error))
            self.record(session, "incident_status_not_saved", {"status": status, "error": repr(error)[:300]})

    async def hand_over(self, session: Session, agency: str | None, plan: DispatchPlan, *, acknowledged: bool) -> None:
        """The incident went to `agency` (its desk answered, or a rule opened an after-hours ticket for it)."""
        if plan.category is None or agency is None:
            return  # no incident to make a ticket of (dispatched before classification), or no agency named
        try:
            await self._tickets.handed_over(session.call_id, agency, acknowledged=acknowledged)
        except Exception as error:  # any database failure: the call goes on, the timeline says what is missing
            log.warning("ticket not saved", call_id=str(session.call_id), agency=agency, error=repr(error))
            self.record(session, "ticket_not_saved", {"agency": agency, "error": repr(error)[:300]})


def attempt_data(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "target": attempt.target_id,
        "agency": attempt.agency,
        "devices": list(attempt.devices),
        "timeout": attempt.timeout,
    }
