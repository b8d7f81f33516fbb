"""REST for agency tickets: the operator hands an incident to agencies, agency users follow and move their tickets
on their phone, the room follows every ticket.

Agency users see and act on their own agency's tickets only: another agency's ticket answers 404 as a missing one
does. The caller's number goes to staff only (an agency reaches the caller through the room). Every state change
is in the audit trail (web/auth.py) and, with who and when, in the ticket's events.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ntpd112.dispatch.incidents import FREE_TEXT_PATTERN
from ntpd112.routing.agencies import Slug
from ntpd112.store.attachments import PhotoView
from ntpd112.store.tickets import TicketEventView, TicketPlace, TicketSummary, Who, allowed_moves
from ntpd112.tickets.flow import OPEN_FILTER, STATUS_FILTERS, TicketStatus
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, Identity, require_call_of
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
MAX_AGENCIES = 16
# A comment, reason or report: free text (no control characters but newlines and tabs), not empty.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000, pattern=FREE_TEXT_PATTERN)
]
_TICKET = {404: ("ticket_not_found",)}


class NewTickets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agencies: Annotated[list[Slug], Field(min_length=1, max_length=MAX_AGENCIES)]
    note: Text | None = None


class TicketPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: uuid.UUID


class TicketQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the service (422 unknown_status with the known filters), not here: a 400 would not name them.
    status: str = Field(
        OPEN_FILTER,
        max_length=40,
        description="open (the default: not closed, rejected or cancelled), all, or one status",
        json_schema_extra={"enum": list(STATUS_FILTERS)},
    )
    agency: Slug | None = None
    call_id: uuid.UUID | None = None  # the tickets of one call (its card on the console)
    limit: int = Field(100, ge=1, le=500)


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: TicketStatus
    reason: Text | None = None
    report: Text | None = None


class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text


class Navigation(BaseModel):
    """Links a phone opens in its own maps app; the console fetches no map tiles."""

    geo_uri: str
    osm_url: str


class TicketDetail(TicketSummary):
    final_report: str | None
    description: str | None
    place: TicketPlace
    navigation: Navigation | None
    caller_number: str | None  # staff only
    events: list[TicketEventView]
    allowed: list[TicketStatus]  # what the reader may move it to now
    photos: list[PhotoView]  # oldest first; each served by GET /api/tickets/{id}/photos/{photo_id}


def _who(identity: Identity) -> Who:
    return Who(identity.username, identity.roles, identity.agency)


def _navigation(place: TicketPlace) -> Navigation | None:
    if place.lat is None or place.lon is None:
        return None
    lat, lon = f"{place.lat:.6f}", f"{place.lon:.6f}"
    return Navigation(
        geo_uri=f"geo:{lat},{lon}?q={lat},{lon}",
        osm_url=f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}",
    )


@routes.post(
    "/api/calls/{call_id}/tickets",
    access="operator",
    summary="Hand the call's incident to agencies: one ticket each (an agency that has one keeps it)",
    status=201,
    refusals={403: ("not_your_call",), 404: ("call_not_found",), 409: ("no_incident",), 422: ("unknown_agency",)},
)
async def create_tickets(
    request: web.Request, path: CallPath, body: NewTickets, identity: Identity
) -> list[TicketSummary]:
    await require_call_of(request, identity, path.call_id, unanswered_too=True)
    return await request.app[DEPS].tickets.create(path.call_id, body.agencies, _who(identity), body.note)


@routes.get(
    "/api/tickets",
    access="signed_in",
    summary="Tickets, most urgent then newest first, open ones unless `status` says otherwise: an agency user's own "
    "agency's; every agency's for staff",
    refusals={403: ("not_your_agency",), 422: ("unknown_status",)},
)
async def list_tickets(request: web.Request, query: TicketQuery, identity: Identity) -> list[TicketSummary]:
    tickets = request.app[DEPS].tickets
    return await tickets.list(_who(identity), query.status, query.agency, query.limit, query.call_id)


@routes.get(
    "/api/tickets/{ticket_id}",
    access="signed_in",
    summary="One ticket with its events, place, navigation links and photos",
    refusals=_TICKET,
)
async def get_ticket(request: web.Request, path: TicketPath, identity: Identity) -> TicketDetail:
    who = _who(identity)
    record = await request.app[DEPS].tickets.get(path.ticket_id, who)
    return TicketDetail(
        **record.summary.model_dump(),
        final_report=record.final_report,
        description=record.description,
        place=record.place,
        navigation=_navigation(record.place),
        caller_number=record.caller_number if identity.has_role("operator") else None,
        events=record.events,
        allowed=allowed_moves(record.summary, who),
        photos=await request.app[DEPS].photos.list(path.ticket_id),
    )


@routes.post(
    "/api/tickets/{ticket_id}/transitions",
    access="signed_in",
    summary="Move a ticket along its flow (409 names the statuses allowed from here)",
    refusals={
        **_TICKET,
        409: ("transition_illegal",),
        422: ("transition_missing_reason", "transition_missing_report"),
    },
)
async def move_ticket(
    request: web.Request, path: TicketPath, body: TransitionRequest, identity: Identity
) -> TicketSummary:
    tickets = request.app[DEPS].tickets
    return await tickets.transition(path.ticket_id, body.to, _who(identity), body.reason, body.report)


@routes.post(
    "/api/tickets/{ticket_id}/comments",
    access="signed_in",
    summary="Add a note to a ticket",
    status=201,
    refusals=_TICKET,
)
async def comment_ticket(
    request: web.Request, path: TicketPath, body: CommentRequest, identity: Identity
) -> TicketEventView:
    return await request.app[DEPS].tickets.comment(path.ticket_id, body.text, _who(identity))
