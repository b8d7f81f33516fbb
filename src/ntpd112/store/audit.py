"""The audit trail: who did what, from where, with which outcome. Append-only in PostgreSQL (a trigger refuses
UPDATE, DELETE and TRUNCATE); this module only inserts and reads. Nothing here ever takes a password or a token:
entries are built from the identity, the route and the status, never from a request's body or headers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, insert, select

from ntpd112.store.db import Database
from ntpd112.store.models import AuditEntry


class AuditRecord(BaseModel):
    username: str | None
    roles: list[str] = []
    via: str | None = None  # session, token, or None: not signed in
    action: str
    target: str | None = None
    status: int
    outcome: str  # "ok" or the refusal's error id
    source_address: str | None = None


class AuditView(AuditRecord):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime


class AuditQuery(BaseModel):
    """Filters and paging: newest first; `before` (an entry id) gives the page after the last entry seen."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    user: Annotated[str | None, Field(max_length=80)] = None
    action: Annotated[str | None, Field(max_length=160)] = None
    before: Annotated[int | None, Field(ge=1, le=2**63 - 1)] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


# Every refused API request writes one: one statement, built once, for all of them.
_AUDIT_INSERT = insert(cast(Table, AuditEntry.__table__))


class AuditTrail:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, entry: AuditRecord) -> None:
        values = entry.model_dump()
        values["action"] = values["action"][:160]
        values["target"] = values["target"][:300] if values["target"] else None
        values["username"] = values["username"][:80] if values["username"] else None
        async with self._database.autocommit_connection() as connection:
            await connection.execute(_AUDIT_INSERT, values)

    async def query(self, query: AuditQuery) -> list[AuditView]:
        statement = select(AuditEntry)
        if query.since is not None:
            statement = statement.where(AuditEntry.at >= query.since)
        if query.until is not None:
            statement = statement.where(AuditEntry.at < query.until)
        if query.user is not None:
            statement = statement.where(AuditEntry.username == query.user)
        if query.action is not None:
            statement = statement.where(AuditEntry.action == query.action)
        if query.before is not None:
            statement = statement.where(AuditEntry.id < query.before)
        async with self._database.session() as session:
            rows = (await session.scalars(statement.order_by(AuditEntry.id.desc()).limit(query.limit))).all()
        return [AuditView.model_validate(row) for row in rows]
