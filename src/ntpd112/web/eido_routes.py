"""NENA EIDO over REST: export a call's incident with its tickets, import one (tickets/eido.py maps; docs/TICKETS.md
says what is mapped). Staff export (an operator the calls they answered); supervisors and admins import. The import
is audited like every state change (web/auth.py); the document's size is the API's body limit."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.dispatch.eido import EidoService
from ntpd112.routing.categories import CategoryId
from ntpd112.store.incidents import IncidentView
from ntpd112.store.tickets import TicketSummary, Who
from ntpd112.tickets.eido import EidoRefused
from ntpd112.tickets.eido_document import EidoDocument
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, ApiError, Identity, require_call_of
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
_IMPORT_REFUSALS = ("unknown_agency", "unknown_category", "broken_reference", "invalid_location", "invalid_incident")


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The category to use when the document's incident type is none of the routing table's.
    fallback_category: CategoryId | None = None


class ImportAnswer(BaseModel):
    call_id: uuid.UUID
    incident: IncidentView
    tickets: list[TicketSummary]
    created: bool  # false: this EIDO's incident was imported before; nothing new was made


def _service(request: web.Request) -> EidoService:
    service = request.app[DEPS].eido
    if service is None:
        raise ApiError(503, "eido_disabled", "this service exchanges no EIDO documents")
    return service


@routes.get(
    "/api/incidents/{call_id}/eido",
    access="operator",
    summary="The call's incident with its tickets as a NENA EIDO document (JSON, NENA-STA-021.1)",
    response_model=EidoDocument,
    refusals={403: ("not_your_call",), 404: ("call_not_found", "no_incident"), 503: ("eido_disabled",)},
)
async def export_eido(request: web.Request, path: CallPath, identity: Identity) -> web.Response:
    await require_call_of(request, identity, path.call_id, unanswered_too=True)
    # The caller's number goes to those who may see it elsewhere (staff; agency users reach callers through the room).
    document = await _service(request).export(path.call_id, include_caller=identity.has_role("operator"))
    if document is None:
        raise ApiError(404, "no_incident", "the call is not classified: it has no incident to export")
    return web.json_response(document.json_body())


@routes.post(
    "/api/eido/import",
    access="supervisor",
    summary="Import a NENA EIDO document: its incident, a ticket per dispatched agency (200: imported before)",
    status=201,
    response_model=ImportAnswer,
    refusals={422: _IMPORT_REFUSALS, 503: ("eido_disabled",)},
)
async def import_eido(request: web.Request, query: ImportQuery, body: EidoDocument, identity: Identity) -> web.Response:
    who = Who(identity.username, identity.roles, identity.agency)
    try:
        imported = await _service(request).import_document(body, who, query.fallback_category)
    except EidoRefused as refused:
        raise ApiError(422, refused.error_id, str(refused), refused.details) from None
    answer = ImportAnswer(
        call_id=imported.call_id, incident=imported.incident, tickets=imported.tickets, created=imported.created
    )
    return web.json_response(text=answer.model_dump_json(), status=201 if imported.created else 200)
