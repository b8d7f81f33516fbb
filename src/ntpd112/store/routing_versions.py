"""Routing table versions in PostgreSQL: an append-only history whose highest version is the table in force.

Every write appends a version under a transaction-scoped advisory lock, so concurrent writers get consecutive
versions instead of a unique violation, and sends `NOTIFY ntpd112_routes, '<version>'` in the same transaction:
PostgreSQL delivers it on commit only, so no listener hears of a version it cannot read yet.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select

from ntpd112.errors import RefusedError
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import fingerprint, load_table
from ntpd112.store.db import Database
from ntpd112.store.models import RoutingTableVersion

ROUTES_CHANNEL = "ntpd112_routes"
# Any constant works; it only has to be the same for every writer of routing tables.
_WRITE_LOCK_KEY = 112_005


class VersionInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    fingerprint: str
    author: str
    comment: str
    created_at: datetime
    restored_from_version: int | None


class StoredTable(BaseModel):
    """A version and its table; `table.version` always equals `info.version`."""

    info: VersionInfo
    table: RoutingTable


class UnknownVersion(LookupError):
    def __init__(self, version: int) -> None:
        super().__init__(f"no routing table version {version}")
        self.version = version


class StaleVersion(RefusedError):
    """A change was made on a version that is no longer the newest (someone published meanwhile)."""

    def __init__(self, based_on: int, current: int | None) -> None:
        super().__init__(
            409,
            "stale_routing_version",
            f"the routing table changed since version {based_on}: reload version {current} and edit again",
            {"based_on_version": based_on, "current_version": current},
        )
        self.current = current


class NoRoutingTable(LookupError):
    """The database holds no routing table yet (the service seeds one when it starts)."""


def _stored(row: RoutingTableVersion) -> StoredTable:
    # Validated again on the way out: a stored table is data like any other input.
    return StoredTable(info=VersionInfo.model_validate(row), table=load_table(row.table))


class RoutingVersionRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def list_versions(self) -> list[VersionInfo]:
        """Newest first."""
        statement = select(RoutingTableVersion).order_by(RoutingTableVersion.version.desc())
        async with self._database.session() as session:
            rows = (await session.scalars(statement)).all()
        return [VersionInfo.model_validate(row) for row in rows]

    async def get(self, version: int) -> StoredTable:
        statement = select(RoutingTableVersion).where(RoutingTableVersion.version == version)
        async with self._database.session() as session:
            row = (await session.scalars(statement)).first()
        if row is None:
            raise UnknownVersion(version)
        return _stored(row)

    async def current(self) -> StoredTable | None:
        statement = select(RoutingTableVersion).order_by(RoutingTableVersion.version.desc()).limit(1)
        async with self._database.session() as session:
            row = (await session.scalars(statement)).first()
        return None if row is None else _stored(row)

    async def current_table(self) -> RoutingTable:
        stored = await self.current()
        if stored is None:
            raise NoRoutingTable("no routing table in the database yet; start the service once to seed it")
        return stored.table

    async def append(
        self,
        table: RoutingTable,
        author: str,
        comment: str = "",
        restored_from: int | None = None,
        *,
        based_on: int | None = None,
    ) -> StoredTable:
        """Store `table` as the next version and notify every listening service. With `based_on`, only if that
        version is still the newest (else StaleVersion): an edit made on an older table would undo others'."""
        stored = await self._append(table, author, comment, restored_from, only_if_empty=False, based_on=based_on)
        assert stored is not None  # only_if_empty=False always writes
        return stored

    async def seed(self, table: RoutingTable, author: str) -> StoredTable | None:
        """Store `table` as version 1 unless some version exists already (safe when services start together)."""
        return await self._append(table, author, "initial table", None, only_if_empty=True)

    async def restore(self, version: int, author: str, comment: str = "") -> StoredTable:
        """Append a new version with the content of `version`."""
        old = await self.get(version)
        return await self.append(old.table, author, comment or f"restore version {version}", restored_from=version)

    async def _append(
        self,
        table: RoutingTable,
        author: str,
        comment: str,
        restored_from: int | None,
        *,
        only_if_empty: bool,
        based_on: int | None = None,
    ) -> StoredTable | None:
        async with self._database.session() as session, session.begin():
            await session.execute(select(func.pg_advisory_xact_lock(_WRITE_LOCK_KEY)))
            latest = await session.scalar(select(func.max(RoutingTableVersion.version)))
            if only_if_empty and latest is not None:
                return None
            if based_on is not None and latest != based_on:  # checked under the lock: no write can slip between
                raise StaleVersion(based_on, latest)
            version = (latest or 0) + 1
            stamped = table.model_copy(update={"version": version})
            row = await session.scalar(
                insert(RoutingTableVersion)
                .values(
                    version=version,
                    table=stamped.model_dump(mode="json"),
                    fingerprint=fingerprint(stamped),
                    author=author,
                    comment=comment,
                    restored_from_version=restored_from,
                )
                .returning(RoutingTableVersion)
            )
            assert row is not None
            await session.execute(select(func.pg_notify(ROUTES_CHANNEL, str(version))))
        return StoredTable(info=VersionInfo.model_validate(row), table=stamped)
