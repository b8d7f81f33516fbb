"""The PostgreSQL adapter: one async engine, explicit start/stop, a health probe."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from ntpd112.tasks import BoundedWork

HEALTH_TIMEOUT_SECONDS = 2.0
POOL_SIZE, POOL_OVERFLOW = 5, 5
# Intake's lookups (caller history, location) must stay fast even when PostgreSQL is slow or down: past this the call
# goes on without them. While this many of one kind still run past the limit, intake skips that kind: both kinds
# together then leave connections of the pool to the journal and the API.
INTAKE_LOOKUP_SECONDS = 0.25
INTAKE_LOOKUPS_OVERRUNNING = 4


def intake_lookups(name: str) -> BoundedWork:
    return BoundedWork(name, INTAKE_LOOKUP_SECONDS, INTAKE_LOOKUPS_OVERRUNNING)


class Database:
    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        # Nothing connects here: the pool opens connections on first use, so an unreachable database does not
        # stop the service from starting (calls are journaled and spooled until it returns).
        self._engine = create_async_engine(
            self._url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_pre_ping=True,
            # Statement parameters stay out of error messages (and so out of logs): they are caller numbers,
            # AML text, locations.
            hide_parameters=True,
            pool_timeout=5,
            connect_args={
                "timeout": 5,
                "command_timeout": 30,
                "server_settings": {"application_name": "ntpd112"},
            },
        )
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)

    async def stop(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database not started")
        return self._engine

    def session(self) -> AsyncSession:
        if self._sessions is None:
            raise RuntimeError("database not started")
        return self._sessions()

    async def health(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            return {"ok": False, "error": self.last_error}
        self.last_error = None
        return {"ok": True}
