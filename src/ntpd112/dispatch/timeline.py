"""What dispatch writes down: every step an event on the call's timeline (the journal spools it while the database
is away) and the incident's status."""

from __future__ import annotations

from typing import Any

from ntpd112.dispatch.plan import DispatchPlan
from ntpd112.dispatch.session import Session
from ntpd112.logs import get_logger
from ntpd112.routing.chain import Attempt
from ntpd112.store.incidents import IncidentRepository
from ntpd112.store.journal import Journal

log = get_logger(__name__)


class Timeline:
    def __init__(self, journal: Journal, incidents: IncidentRepository) -> None:
        self._journal = journal
        self._incidents = incidents

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


def attempt_data(attempt: Attempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number,
        "target": attempt.target_id,
        "agency": attempt.agency,
        "devices": list(attempt.devices),
        "timeout": attempt.timeout,
    }
