"""EIDO export and import in PostgreSQL: reads an incident with its call and tickets for tickets/eido.py, and writes
an imported incident.

An imported incident needs a call row (every incident belongs to one). Its `uniqueid` is `eido:` and the SHA-256 of
the EIDO's incident id, and its id is derived from that as for every call (clock.call_id_for): importing the same
document twice names the same row, so the unique key on calls makes a second copy impossible without a column of
its own. The row has no `offered_at`: it was not a call this room answered, so the reports do not count it.
`handled_by` is "eido" and the import is the call's first timeline event (`eido_imported`: from which document).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ntpd112.clock import call_id_for, utcnow
from ntpd112.store.db import Database
from ntpd112.store.incidents import INCIDENT_EVENT, CallNotFound, IncidentView
from ntpd112.store.journal import EventRecord, write_records
from ntpd112.store.models import Call, Incident, Ticket, TicketEvent
from ntpd112.store.tickets import TicketRecord
from ntpd112.tickets.eido import ImportPlan, IncidentFacts, TicketEventFacts, TicketFacts
from ntpd112.tickets.pidf_lo import Place

IMPORT_EVENT = "eido_imported"
HANDLED_BY = "eido"


def import_uniqueid(eido_id: str) -> str:
    return "eido:" + hashlib.sha256(eido_id.encode()).hexdigest()


class EidoRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def facts(self, call_id: uuid.UUID) -> IncidentFacts | None:
        """The call's incident with its tickets (agency kinds and the category label left for the caller to fill);
        None when the call has no incident. Raises CallNotFound."""
        async with self._database.session() as session:
            call = await session.get(Call, call_id)
            if call is None:
                raise CallNotFound(call_id)
            incident = (await session.scalars(select(Incident).where(Incident.call_id == call_id))).first()
            if incident is None:
                return None
            tickets = (
                await session.scalars(
                    select(Ticket).where(Ticket.incident_id == incident.id).order_by(Ticket.created_at, Ticket.number)
                )
            ).all()
            events = (
                await session.scalars(
                    select(TicketEvent)
                    .where(TicketEvent.ticket_id.in_([t.id for t in tickets]))
                    .order_by(TicketEvent.id)
                )
            ).all()
        by_ticket: dict[uuid.UUID, list[TicketEventFacts]] = {}
        for e in events:
            by_ticket.setdefault(e.ticket_id, []).append(
                TicketEventFacts(e.at, e.kind, e.from_status, e.to_status, e.by, e.text)
            )
        return IncidentFacts(
            incident_id=incident.id,
            call_id=call.id,
            category=incident.category,
            category_label=None,
            severity=incident.severity,
            status=incident.status,
            address=incident.address,
            description=incident.description,
            lat=incident.lat,
            lon=incident.lon,
            area=incident.area,
            created_by=incident.created_by,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            call_started_at=call.offered_at,
            call_answered_at=call.operator_answered_at or call.answered_at,
            call_ended_at=call.ended_at,
            caller_number=call.caller_number,
            caller_place=Place(
                call.best_lat,
                call.best_lon,
                call.best_radius_m,
                call.area_kabupaten,
                call.area_kecamatan,
                call.area_kelurahan,
                call.best_source,
            ),
            tickets=[
                TicketFacts(
                    t.id, t.number, t.agency, "other", t.status, t.created_at, t.updated_at, by_ticket.get(t.id, [])
                )
                for t in tickets
            ],
        )

    async def import_incident(
        self, plan: ImportPlan, fields: dict[str, Any], author: str
    ) -> tuple[uuid.UUID, IncidentView, bool]:
        """Make the imported call and its incident (`fields`: the incident's columns, validated) unless this EIDO was
        imported before. Answers the call id, the incident and whether it was made now."""
        uniqueid = import_uniqueid(plan.eido_id)
        call_id = call_id_for(uniqueid)
        now = utcnow()
        caller = plan.caller_place
        async with self._database.session() as session, session.begin():
            made = await session.execute(
                insert(Call)
                .values(
                    id=call_id,
                    uniqueid=uniqueid,
                    handled_by=HANDLED_BY,
                    caller_number=plan.caller_number,
                    best_lat=caller.lat,
                    best_lon=caller.lon if caller.lat is not None else None,
                    best_radius_m=caller.radius_m if caller.lat is not None else None,
                    best_source=HANDLED_BY if caller.lat is not None else None,
                    best_measured_at=plan.call_started_at if caller.lat is not None else None,
                    area_kabupaten=caller.kabupaten or plan.incident_place.kabupaten,
                    area_kecamatan=caller.kecamatan or plan.incident_place.kecamatan,
                    area_kelurahan=caller.kelurahan or plan.incident_place.kelurahan,
                )
                .on_conflict_do_nothing(index_elements=[Call.uniqueid])
                .returning(Call.id)
            )
            created = made.first() is not None
            if created:
                incident = Incident(
                    call_id=call_id, created_by=author, updated_by=author, created_at=now, updated_at=now, **fields
                )
                session.add(incident)
                await session.flush()
                records = [
                    EventRecord(
                        uuid.uuid4(),
                        call_id,
                        now,
                        IMPORT_EVENT,
                        {
                            "eido_id": plan.eido_id,
                            "issuer": plan.issuer,
                            "by": author,
                            "call_started_at": plan.call_started_at.isoformat() if plan.call_started_at else None,
                            "call_answered_at": plan.call_answered_at.isoformat() if plan.call_answered_at else None,
                        },
                    ),
                    EventRecord(
                        uuid.uuid4(),
                        call_id,
                        now,
                        INCIDENT_EVENT,
                        {
                            "incident_id": str(incident.id),
                            "created": True,
                            "category": incident.category,
                            "severity": incident.severity,
                            "status": incident.status,
                            "changes": {k: [None, v] for k, v in fields.items()},
                            "by": author,
                        },
                    ),
                ]
                await write_records(await session.connection(), records)
            row = (await session.scalars(select(Incident).where(Incident.call_id == call_id))).one()
            view = IncidentView.model_validate(row)
        return call_id, view, created


def ticket_facts(record: TicketRecord, category_label: str | None, agency_kind: str) -> IncidentFacts:
    """The incident as one ticket's record shows it, with that ticket only: what an agency's webhook body carries
    as EIDO (an agency is not told of the other agencies' tickets). Without the call's times and the incident's
    status, which the record does not hold."""
    summary, place = record.summary, record.place
    from_incident = place.source == "incident"  # the operator's position, else the call's best fix
    return IncidentFacts(
        incident_id=summary.incident_id,
        call_id=summary.call_id,
        category=summary.category,
        category_label=category_label,
        severity=summary.severity,
        status=None,
        address=place.address,
        description=record.description,
        lat=place.lat if from_incident else None,
        lon=place.lon if from_incident else None,
        area=place.area,
        created_by=summary.created_by,
        created_at=summary.created_at,
        updated_at=summary.updated_at,
        call_started_at=None,
        call_answered_at=None,
        call_ended_at=None,
        caller_number=record.caller_number,
        caller_place=Place(
            None if from_incident else place.lat,
            None if from_incident else place.lon,
            None if from_incident else place.radius_m,
            place.kabupaten,
            place.kecamatan,
            place.kelurahan,
            None if from_incident else place.source,
        ),
        tickets=[
            TicketFacts(
                summary.id,
                summary.number,
                summary.agency,
                agency_kind,
                summary.status.value,
                summary.created_at,
                summary.updated_at,
                [
                    TicketEventFacts(
                        e.at,
                        e.kind,
                        e.from_status.value if e.from_status else None,
                        e.to_status.value if e.to_status else None,
                        e.by,
                        e.text,
                    )
                    for e in record.events
                ],
            )
        ],
    )
