"""The PostgreSQL adapter: one async engine, explicit start/stop, a health probe."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from ntpd112.tasks import BoundedWork

HEALTH_TIMEOUT_SECONDS = 2.0
POOL_SIZE, POOL_OVERFLOW = 5, 5
# Intake's lookups (caller history, location) must stay fast even when PostgreSQL is slow or down: past this the call
# goes on without them. While this many still run past the limit, intake skips them: that leaves connections of the
# pool to the journal and the API.
INTAKE_LOOKUP_SECONDS = 0.25
INTAKE_LOOKUPS_OVERRUNNING = 4
# A connection back in the pool for longer than this is pinged before use (PostgreSQL may have restarted meanwhile);
# one used this recently is not. SQLAlchemy's pool_pre_ping pings at every checkout, and its asyncpg ping is three
# round trips (BEGIN, ";", ROLLBACK): about a fifth of the service's time per API request went there.
PING_AFTER_IDLE_SECONDS = 1.0
_LAST_USED = "ntpd112_last_used"


def intake_lookups(name: str) -> BoundedWork:
    return BoundedWork(name, INTAKE_LOOKUP_SECONDS, INTAKE_LOOKUPS_OVERRUNNING)


class Database:
    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._autocommit_engine: AsyncEngine | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        # Nothing connects here: the pool opens connections on first use, so an unreachable database does not
        # stop the service from starting (calls are journaled and spooled until it returns).
        self._engine = create_async_engine(
            self._url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
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
        self._ping_idle_connections(self._engine)
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        self._autocommit_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")

    @staticmethod
    def _ping_idle_connections(engine: AsyncEngine) -> None:
        pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

        def used_now(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
            record.info[_LAST_USED] = time.monotonic()

        def ping_when_idle(
            dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
        ) -> None:
            if time.monotonic() - record.info.get(_LAST_USED, 0.0) < PING_AFTER_IDLE_SECONDS:
                return
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as error:
                # The pool drops this connection and checks out another (a fresh one if need be).
                raise exc.DisconnectionError(f"connection lost while idle: {type(error).__name__}") from error

        event.listen(pool, "connect", used_now)
        event.listen(pool, "checkin", used_now)
        event.listen(pool, "checkout", ping_when_idle)

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

    def autocommit_connection(self) -> AsyncConnection:
        """A Core connection in autocommit (use it as `async with`), each statement committed on its own: for the
        lookups on the call path and those of every API request (its token or session, its audit entry), where the
        ORM's identity map and a transaction's BEGIN and COMMIT were most of what they cost (py-spy, BENCHMARKS.md)."""
        if self._autocommit_engine is None:
            raise RuntimeError("database not started")
        return self._autocommit_engine.connect()

    async def health(self) -> dict[str, Any]:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            self.last_error = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            return {"ok": False, "error": self.last_error}
        self.last_error = None
        return {"ok": True}
