"""Incidents in PostgreSQL: one per call, and every change of one is an event on the call's timeline.

Unlike call handling, an incident is written while an operator waits for the answer, so it is written directly
(not through the journal's queue): the operator learns at once whether it was saved. The timeline event is
written by the journal's own idempotent writer inside the same transaction, so an incident never changes without
its event.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from ntpd112.clock import utcnow
from ntpd112.live import CallActivity, Hub
from ntpd112.store.db import Database
from ntpd112.store.journal import EventRecord, write_records
from ntpd112.store.models import Call, Incident

INCIDENT_EVENT = "incident_classified"


class IncidentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    call_id: uuid.UUID
    category: str
    severity: str | None
    address: str | None
    description: str | None
    lat: float | None
    lon: float | None
    area: str | None
    status: str
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class CallNotFound(LookupError):
    def __init__(self, call_id: uuid.UUID) -> None:
        super().__init__(f"no call with id {call_id}")
        self.call_id = call_id


class IncidentRepository:
    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self._database = database
        self._hub = hub

    async def get(self, call_id: uuid.UUID) -> IncidentView | None:
        """None when the call has no incident yet. Raises CallNotFound."""
        async with self._database.session() as session:
            if await session.get(Call, call_id) is None:
                raise CallNotFound(call_id)
            row = (await session.scalars(select(Incident).where(Incident.call_id == call_id))).first()
        return None if row is None else IncidentView.model_validate(row)

    async def save(
        self, call_id: uuid.UUID, fields: dict[str, Any], author: str, defaults: dict[str, Any] | None = None
    ) -> IncidentView:
        """Create the call's incident or change the given fields of it; other fields keep their value.

        `fields` must hold `category` when the incident does not exist yet; `defaults` fill the fields it leaves
        out, on creation only. Raises CallNotFound.
        """
        fields_on_create = (defaults or {}) | fields
        now = utcnow()
        async with self._database.session() as session, session.begin():
            if await session.get(Call, call_id) is None:
                raise CallNotFound(call_id)
            # Insert-or-ignore then lock: two operators classifying the same call at once serialize here.
            created = await session.execute(
                insert(Incident)
                .values(
                    {"call_id": call_id, "status": "open", "created_by": author, "updated_by": author}
                    | fields_on_create
                )
                .on_conflict_do_nothing(index_elements=[Incident.call_id])
                .returning(Incident.id)
            )
            is_new = created.first() is not None
            incident = (
                await session.scalars(select(Incident).where(Incident.call_id == call_id).with_for_update())
            ).one()
            if is_new:
                changes = {name: [None, value] for name, value in fields_on_create.items()}
            else:
                changes = {
                    name: [getattr(incident, name), value]
                    for name, value in fields.items()
                    if getattr(incident, name) != value
                }
                for name, value in fields.items():
                    setattr(incident, name, value)
                incident.updated_by = author
                incident.updated_at = now
            await session.flush()
            event = EventRecord(
                uuid.uuid4(),
                call_id,
                now,
                INCIDENT_EVENT,
                {
                    "incident_id": str(incident.id),
                    "created": is_new,
                    "category": incident.category,
                    "severity": incident.severity,
                    "status": incident.status,
                    "changes": changes,
                    "by": author,
                },
            )
            await write_records(await session.connection(), [event])
            await session.refresh(incident)
            view = IncidentView.model_validate(incident)
        if self._hub is not None:
            self._hub.publish(CallActivity(call_id, frozenset({INCIDENT_EVENT})))
        return view
