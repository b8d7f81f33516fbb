"""The database adapter's pool against the real PostgreSQL: a connection that died while idle is never handed out,
and autocommit sessions commit each statement on their own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, text

from ntpd112.store.db import PING_AFTER_IDLE_SECONDS, Database
from ntpd112.store.models import AuditEntry

pytestmark = pytest.mark.integration


async def backend_pid(database: Database) -> int:
    async with database.session() as session:
        pid: int = await session.scalar(text("SELECT pg_backend_pid()"))
    return pid


async def test_a_connection_ended_while_idle_is_replaced_before_use(database: Database, clean_database: str) -> None:
    pid = await backend_pid(database)
    # Ended from another connection, as a PostgreSQL restart or an administrator would end it.
    other = Database(clean_database)
    await other.start()
    try:
        async with other.session() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.stop()
    await asyncio.sleep(PING_AFTER_IDLE_SECONDS + 0.2)

    assert await backend_pid(database) != pid  # no error: the idle connection was pinged, found dead and replaced


async def test_an_autocommit_connection_keeps_each_statement_even_when_the_work_fails(database: Database) -> None:
    entry = {"username": "dewi", "roles": [], "action": "POST /api/x", "status": 200, "outcome": "ok"}
    with pytest.raises(ZeroDivisionError):
        async with database.session() as session:
            await session.execute(insert(AuditEntry), entry)
            _ = 1 / 0  # the usual session rolls its transaction back
    with pytest.raises(ZeroDivisionError):
        async with database.autocommit_connection() as connection:
            await connection.execute(insert(AuditEntry), {**entry, "username": "rina"})
            _ = 1 / 0  # the statement has already committed
    async with database.session() as session:
        kept = (await session.scalars(select(AuditEntry.username))).all()
        assert kept == ["rina"]
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1
