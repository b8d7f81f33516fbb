"""EIDO export and import as the API and the CLI use them: the routing table in force names the categories and
agencies, tickets/eido.py maps, store/eido.py reads and writes, TicketService makes the tickets (and notifies)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from pydantic import ValidationError

from ntpd112.clock import utcnow
from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.dispatch.tickets import TicketService
from ntpd112.routing.tables import TableSource
from ntpd112.store.eido import EidoRepository
from ntpd112.store.incidents import IncidentView
from ntpd112.store.tickets import TicketSummary, Who
from ntpd112.tickets.eido import EidoRefused, from_eido, to_eido
from ntpd112.tickets.eido_document import EidoDocument
from ntpd112.tickets.flow import ALL_FILTER

#: The room's identifier in EIDO documents when the settings name none (NTPD112_EIDO_DOMAIN).
DEFAULT_DOMAIN = "ntpd112.invalid"


@dataclass(frozen=True)
class Imported:
    call_id: uuid.UUID
    incident: IncidentView
    tickets: list[TicketSummary]
    created: bool


class EidoService:
    def __init__(
        self, repository: EidoRepository, tickets: TicketService, tables: TableSource, domain: str = DEFAULT_DOMAIN
    ) -> None:
        self._repository = repository
        self._tickets = tickets
        self._tables = tables
        self.domain = domain

    async def export(self, call_id: uuid.UUID, include_caller: bool) -> EidoDocument | None:
        """None when the call has no incident. Raises CallNotFound."""
        facts = await self._repository.facts(call_id)
        if facts is None:
            return None
        table = await self._tables.current_table()
        category = table.category(facts.category)
        kinds = {agency.id: agency.kind.value for agency in table.agencies}
        facts = replace(
            facts,
            category_label=category.label_id if category else None,
            tickets=[replace(t, agency_kind=kinds.get(t.agency, "other")) for t in facts.tickets],
        )
        return to_eido(facts, self.domain, utcnow(), include_caller)

    async def import_document(self, document: EidoDocument, who: Who, fallback_category: str | None = None) -> Imported:
        """Raises EidoRefused (422: unknown_agency, unknown_category, broken_reference, invalid_location,
        invalid_incident). Importing a document whose incident id was imported before answers that incident (and
        makes any of its tickets a crash left unmade), never a second copy."""
        table = await self._tables.current_table()
        plan = from_eido(document, [agency.id for agency in table.agencies])
        known = [c.id for c in table.categories]
        candidates = [*plan.category_candidates, *([fallback_category] if fallback_category else [])]
        category = next((table.category(c) for c in candidates if table.category(c) is not None), None)
        if category is None:
            raise EidoRefused(
                "unknown_category",
                "the incident type is not a category of the routing table in force; name one as fallback_category",
                {"types": list(plan.category_candidates), "known": known},
            )
        place = plan.incident_place
        try:
            change = IncidentChange.model_validate(
                {
                    "category": category.id,
                    "severity": plan.severity
                    or (category.default_severity.value if category.default_severity else None),
                    "address": plan.address,
                    "description": plan.description,
                    "area": place.kecamatan,
                    "lat": place.lat if place.lon is not None else None,
                    "lon": place.lon if place.lat is not None else None,
                }
            )
        except ValidationError as error:
            issues = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()]
            raise EidoRefused(
                "invalid_incident", "the incident does not fit ntpd112's incident", {"issues": issues}
            ) from None
        fields = change.model_dump(mode="json") | {"status": plan.status}
        call_id, incident, created = await self._repository.import_incident(plan, fields, who.username)
        tickets: list[TicketSummary] = []
        for agency, note in plan.ticket_notes.items():
            tickets += await self._tickets.create(call_id, [agency], who, note[:4000] or None)
        if not created and not plan.ticket_notes:
            tickets = await self._tickets.list(who, ALL_FILTER, None, 500, call_id)
        return Imported(call_id, incident, tickets, created)
