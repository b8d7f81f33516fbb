"""NENA EIDO (Emergency Incident Data Object, NENA-STA-021.1, JSON; schema: github NENA911/EIDO-JSON
Schema/openapi.yaml) for an ntpd112 incident and its tickets. Pure: the export of an incident (`to_eido`) and what
an import keeps of a document (`from_eido`); the document's models are in tickets/eido_document.py. docs/TICKETS.md
lists what is mapped and what is not.

The mapping in one picture (component: from what):
    top level ($id)              the incident tracking id: urn:emergency:uid:incidentid:<incident uuid>:<room domain>
    incidentComponent            category (internal code and text), severity (priority), status, description (note)
    locationComponent "Incident" the operator's position and address, kecamatan (A3) of the incident
    locationComponent "Caller"   the call's best fix (circle with its radius), kabupaten/kecamatan/kelurahan (A2-A4)
    callComponent                the call: start, answer, end state
    callbackComponent, person    the caller's number (tel: URI), only when the reader may see it
    agencyComponent              the room (owning, PSAP) and one per ticket's agency
    dispatchComponent            one per ticket: the agency handed to, the ticket's history as notes
    emergencyResourceComponent   one per ticket: its number and status (unit status), the agency's response
    notesComponent               the description, and each ticket event (status change or comment, who, when)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ntpd112.tickets import pidf_lo
from ntpd112.tickets.eido_document import (
    AgencyComponent,
    CallbackComponent,
    CallComponent,
    DispatchComponent,
    EidoDocument,
    EmergencyResourceComponent,
    IncidentComponent,
    LocationComponent,
    NotesComponent,
    PersonComponent,
    Ref,
)
from ntpd112.tickets.pidf_lo import Place

EIDO_VERSION = "1.0"
JSON_LD_CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
ISSUER = "ntpd112"
#: Incident statuses of ntpd112 (store.models.INCIDENT_STATUSES; the domain may not import the store).
INCIDENT_STATUSES = ("open", "dispatched", "acknowledged", "failed", "ticket", "closed")
SEVERITIES = ("critical", "high", "medium", "low")
#: incidentCommonPriorityNumber: NENA's common priority is a number, higher is more urgent (the samples use 10).
PRIORITY_NUMBER = {"critical": 10, "high": 7, "medium": 5, "low": 2}
#: A ticket's status as an emergency resource's primary unit status, after NENA's Primary Unit Status registry
#: (the words were not checked against the registry's current list; unitStatusInternal carries ntpd112's own).
UNIT_STATUS = {
    "new": "Assigned",
    "sent": "Dispatched",
    "acknowledged": "Acknowledged",
    "en_route": "Enroute",
    "on_scene": "OnScene",
    "resolved": "Cleared",
    "closed": "Cleared",
    "rejected": "Declined",
    "cancelled": "Cancelled",
}
PHONE = re.compile(r"^\+?[0-9]{3,15}$")


# ---- export -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketEventFacts:
    at: datetime
    kind: str  # status, comment, escalated
    from_status: str | None
    to_status: str | None
    by: str
    text: str | None


@dataclass(frozen=True)
class TicketFacts:
    id: uuid.UUID
    number: str
    agency: str
    agency_kind: str  # routing.agencies.AgencyKind
    status: str
    created_at: datetime
    updated_at: datetime
    events: Sequence[TicketEventFacts] = ()


@dataclass(frozen=True)
class IncidentFacts:
    """An incident with its call and tickets, as the export needs it (store/eido.py reads it)."""

    incident_id: uuid.UUID
    call_id: uuid.UUID
    category: str
    category_label: str | None
    severity: str | None
    status: str | None  # None: not known to the writer (the webhook's ticket record does not carry it)
    address: str | None
    description: str | None
    lat: float | None
    lon: float | None
    area: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    call_started_at: datetime | None
    call_answered_at: datetime | None
    call_ended_at: datetime | None
    caller_number: str | None
    caller_place: Place = field(default_factory=Place)
    tickets: Sequence[TicketFacts] = ()


def incident_uri(incident_id: uuid.UUID | str, domain: str) -> str:
    return f"urn:emergency:uid:incidentid:{incident_id}:{domain}"


def agency_uri(agency: str, domain: str) -> str:
    return f"{agency}.{domain}"


def to_eido(facts: IncidentFacts, domain: str, now: datetime, include_caller: bool) -> EidoDocument:
    """The incident as an EIDO issued by the room `domain` (e.g. 112.tangerangkab.go.id). The caller's number is in
    it only with `include_caller` (the reader's role, or the agency webhook's setting, decides)."""
    room = Ref(ref=domain)

    def prologue(component_id: str, stamp: datetime) -> dict[str, Any]:
        return {"id": component_id, "lastUpdateTimeStamp": stamp, "updatedByAgencyReference": room}

    base = f"urn:emergency:uid:{{}}:{facts.incident_id}:{domain}"
    notes: list[NotesComponent] = []
    locations: list[LocationComponent] = []
    incident_notes: list[Ref] = []
    if facts.description:
        notes.append(
            NotesComponent(
                **prologue(base.format("note:description"), facts.updated_at), notesActionComments=facts.description
            )
        )
        incident_notes.append(Ref(ref=notes[-1].id))
    incident_place = Place(
        lat=facts.lat,
        lon=facts.lon,
        kecamatan=facts.area,
        kabupaten=facts.caller_place.kabupaten if facts.area else None,
    )
    for kind, place, description in (("Incident", incident_place, facts.address), ("Caller", facts.caller_place, None)):
        if place.empty and not description:
            continue
        locations.append(
            LocationComponent(
                **prologue(base.format(f"location:{kind.lower()}"), facts.updated_at),
                locationTypeDescriptionRegistryText=kind,
                locationByValue=None if place.empty else pidf_lo.build(place, f"pres:{facts.call_id}@{domain}"),
                locationDescriptionText=description,
            )
        )
    calls: list[CallComponent] = []
    callbacks: list[CallbackComponent] = []
    persons: list[PersonComponent] = []
    call_uri = f"urn:emergency:uid:callid:{facts.call_id}:{domain}"
    callback_ref = None
    if include_caller and facts.caller_number:
        callbacks.append(
            CallbackComponent(
                **prologue(base.format("callback:0"), facts.created_at),
                callBackInformationUri=[f"tel:{facts.caller_number}"],
            )
        )
        callback_ref = Ref(ref=callbacks[0].id)
        persons.append(
            PersonComponent(
                **prologue(base.format("person:caller"), facts.created_at),
                personIncidentRoleRegistryText=["Caller"],
                callIdentifier=[call_uri],
                callBackReference=callback_ref,
            )
        )
    state = "callEnd" if facts.call_ended_at else ("callAnswered" if facts.call_answered_at else "callBegin")
    if facts.call_started_at is not None:  # optional in EIDO; left out where the call's times are not at hand
        calls.append(
            CallComponent(
                **prologue(call_uri, facts.call_ended_at or facts.call_answered_at or facts.created_at),
                callStateRegistryText=state,
                standardPrimaryCallType="emergency",
                direction="incoming",
                callStartTimestamp=facts.call_started_at,
                answerDate=facts.call_answered_at,
                callBackReference=callback_ref,
                locationReference=[
                    Ref(ref=loc.id) for loc in locations if loc.locationTypeDescriptionRegistryText == "Caller"
                ],
                personReference=[Ref(ref=p.id) for p in persons],
            )
        )
    agencies = [
        AgencyComponent(
            **prologue(domain, facts.created_at),
            agencyRoleDescriptionRegistryText=["CallReceiving"],
            agencyType=["psap"],
            incidentOwningAgencyIndicator=True,
        )
    ]
    dispatches: list[DispatchComponent] = []
    resources: list[EmergencyResourceComponent] = []
    for ticket in facts.tickets:
        agency_id = agency_uri(ticket.agency, domain)
        if all(a.id != agency_id for a in agencies):
            agencies.append(
                AgencyComponent(
                    **prologue(agency_id, ticket.created_at),
                    agencyRoleDescriptionRegistryText=["Responding"],
                    agencyType=[ticket.agency_kind],
                    incidentOwningAgencyIndicator=False,
                )
            )
        ticket_notes = []
        for index, event in enumerate(ticket.events):
            notes.append(
                NotesComponent(
                    **prologue(f"urn:emergency:uid:note:{ticket.id}:{index}:{domain}", event.at),
                    notesActionComments=_event_note(event),
                )
            )
            ticket_notes.append(Ref(ref=notes[-1].id))
        resource_id = f"urn:emergency:uid:resource:{ticket.id}:{domain}"
        resources.append(
            EmergencyResourceComponent(
                **prologue(resource_id, ticket.updated_at),
                emergencyResourceTypeCommonRegistryText=ticket.agency_kind,
                emergencyResourceName=ticket.number,
                primaryUnitStatusRegistryText=UNIT_STATUS.get(ticket.status, "Other"),
                unitStatusInternal=[ticket.status],
            )
        )
        dispatches.append(
            DispatchComponent(
                **prologue(f"urn:emergency:uid:dispatch:{ticket.id}:{domain}", ticket.created_at),
                agencyReference=Ref(ref=agency_id),
                emergencyResourceReference=[Ref(ref=resource_id)],
                notesReference=ticket_notes,
            )
        )
    incident = IncidentComponent(
        **prologue(base.format("incident"), facts.updated_at),
        incidentTypeCommonRegistryText=facts.category,
        incidentTypeInternalCode=facts.category,
        incidentTypeInternalText=facts.category_label,
        incidentStatusInternalText=[facts.status] if facts.status else [],
        incidentPriorityInternalText=facts.severity,
        incidentCommonPriorityNumber=PRIORITY_NUMBER.get(facts.severity or ""),
        internalIncidentId=str(facts.incident_id),
        locationReference=[
            Ref(ref=loc.id) for loc in locations if loc.locationTypeDescriptionRegistryText == "Incident"
        ],
        personReference=[Ref(ref=p.id) for p in persons],
        notesReference=incident_notes,
    )
    return EidoDocument(
        **prologue(incident_uri(facts.incident_id, domain), now),
        eidoVersion=EIDO_VERSION,
        issuingElementIdentification=f"{ISSUER}.{domain}",
        incidentComponent=incident,
        callComponent=calls,
        callbackComponent=callbacks,
        dispatchComponent=dispatches,
        emergencyResourceComponent=resources,
        notesComponent=notes,
        agencyComponent=agencies,
        locationComponent=locations,
        personComponent=persons,
        context=JSON_LD_CONTEXT,
    )


def _event_note(event: TicketEventFacts) -> str:
    stamp = event.at.astimezone(UTC).isoformat()
    if event.kind == "status":
        move = f"{event.from_status or '-'} -> {event.to_status}"
        return f"[{stamp}] {event.by}: status {move}" + (f": {event.text}" if event.text else "")
    return f"[{stamp}] {event.by}: {event.kind}" + (f": {event.text}" if event.text else "")


# ---- import -----------------------------------------------------------------------------------------------------


class EidoRefused(ValueError):
    """The document is well-typed but cannot be imported; `error_id` is the API's stable error id."""

    def __init__(self, error_id: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.details = details or {}


@dataclass(frozen=True)
class ImportPlan:
    """What ntpd112 makes of an EIDO: one incident (on a call row of its own, see store/eido.py) and one ticket per
    dispatched agency, with the source's notes on each ticket."""

    eido_id: str
    issuer: str
    category_candidates: tuple[str, ...]  # internal code then common type: the first the routing table knows wins
    severity: str | None
    status: str
    address: str | None
    description: str | None
    incident_place: Place
    caller_place: Place
    caller_number: str | None
    call_started_at: datetime | None
    call_answered_at: datetime | None
    ticket_notes: dict[str, str] = field(default_factory=dict)  # agency id -> the dispatch's notes, in order

    @property
    def agencies(self) -> list[str]:
        return list(self.ticket_notes)


def _place(location: LocationComponent | None) -> Place:
    if location is None or not location.locationByValue:
        return Place()
    try:
        return pidf_lo.parse(location.locationByValue)
    except pidf_lo.PidfRefused as refused:
        raise EidoRefused("invalid_location", f"location {location.id}: {refused}") from None


def _resolve_agency(component_id: str, known: Sequence[str]) -> str | None:
    """A known agency named by an agency component: its id, or its id qualified by a domain (damkar.112.example)."""
    for agency in known:
        if component_id == agency or component_id.startswith(agency + "."):
            return agency
    return None


def from_eido(document: EidoDocument, known_agencies: Sequence[str]) -> ImportPlan:
    """Raises EidoRefused: unknown_agency (a dispatch to an agency the routing table does not have), broken_reference
    (a $ref to no component) or invalid_location (a PIDF-LO that cannot be read safely)."""
    notes = {n.id: n.notesActionComments for n in document.notesComponent}
    locations = {loc.id: loc for loc in document.locationComponent}
    agencies = {a.id for a in document.agencyComponent}
    incident = document.incidentComponent

    def note_text(refs: Sequence[Ref]) -> str | None:
        missing = [r.ref for r in refs if r.ref not in notes]
        if missing:
            raise EidoRefused("broken_reference", "a notes reference names no notes component", {"refs": missing})
        return "\n".join(notes[r.ref] for r in refs) or None

    def location_of(refs: Sequence[Ref], kind: str) -> LocationComponent | None:
        named = [locations[r.ref] for r in refs if r.ref in locations]
        typed = [loc for loc in document.locationComponent if loc.locationTypeDescriptionRegistryText == kind]
        found = named or typed
        return found[0] if found else None

    incident_location = location_of(incident.locationReference if incident else [], "Incident")
    caller_location = next(
        (loc for loc in document.locationComponent if loc.locationTypeDescriptionRegistryText == "Caller"), None
    )
    if caller_location is incident_location:
        caller_location = None
    ticket_notes: dict[str, str] = {}
    unknown: list[str] = []
    for dispatch in document.dispatchComponent:
        if dispatch.agencyReference is None:
            continue
        ref = dispatch.agencyReference.ref
        if ref not in agencies:
            raise EidoRefused("broken_reference", "a dispatch names no agency component", {"refs": [ref]})
        agency = _resolve_agency(ref, known_agencies)
        if agency is None:
            unknown.append(ref)
            continue
        text = note_text(dispatch.notesReference)
        ticket_notes[agency] = "\n".join(t for t in (ticket_notes.get(agency), text) if t)
    if unknown:
        raise EidoRefused(
            "unknown_agency",
            "not an agency of the routing table in force",
            {"unknown": unknown, "known": list(known_agencies)},
        )
    status = next(
        (s for s in (incident.incidentStatusInternalText if incident else []) if s in INCIDENT_STATUSES), "open"
    )
    severity = None
    if incident is not None:
        if incident.incidentPriorityInternalText in SEVERITIES:
            severity = incident.incidentPriorityInternalText
        elif incident.incidentCommonPriorityNumber is not None:
            number = incident.incidentCommonPriorityNumber
            severity = next((s for s in SEVERITIES if number >= PRIORITY_NUMBER[s]), "low")
    callback_uris = [uri for cb in document.callbackComponent for uri in cb.callBackInformationUri]
    numbers = [uri.removeprefix("tel:") for uri in callback_uris if uri.startswith("tel:")]
    call = document.callComponent[0] if document.callComponent else None
    return ImportPlan(
        eido_id=document.id,
        issuer=document.issuingElementIdentification,
        category_candidates=tuple(
            c
            for c in ((incident.incidentTypeInternalCode, incident.incidentTypeCommonRegistryText) if incident else ())
            if c
        ),
        severity=severity,
        status=status,
        address=incident_location.locationDescriptionText if incident_location else None,
        description=note_text(incident.notesReference) if incident else None,
        incident_place=_place(incident_location),
        caller_place=_place(caller_location),
        caller_number=next((n for n in numbers if PHONE.match(n)), None),
        call_started_at=call.callStartTimestamp if call else None,
        call_answered_at=call.answerDate if call else None,
        ticket_notes=ticket_notes,
    )
