"""The test session's own database: every table is emptied before each test, and Asterisk's CDRs of the session's
calls land there, never in the development database that `make run` reconciles from (conftest.local_asterisk; the
session also checks at its end that the development database's row counts did not change)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.app import Service
from ntpd112.store.models import AsteriskCdr
from tests.integration.conftest import TABLES, env_url, unique_mobile_number, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


async def _scalar(database_url: str, statement: Executable) -> Any:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(statement)
    finally:
        await engine.dispose()


async def test_every_table_of_the_schema_is_emptied_before_each_test(clean_database: str) -> None:
    names = await _scalar(
        clean_database,
        text("SELECT array_agg(tablename::text) FROM pg_tables WHERE schemaname = 'public'"),
    )
    assert set(names) - {"alembic_version"} == set(TABLES)
    counts = " UNION ALL ".join(f"SELECT '{table}' AS name, count(*) AS n FROM {table}" for table in TABLES)  # noqa: S608
    left = await _scalar(clean_database, text(f"SELECT array_agg(name) FROM ({counts}) AS c WHERE n > 0"))  # noqa: S608
    assert left is None, f"rows left over from an earlier test in {left}"


async def test_a_test_calls_cdr_lands_in_the_test_database_not_the_development_one(service: Service) -> None:
    number = unique_mobile_number()
    result = await run_sipp(
        "caller.xml", source=TRUNK_ADDRESSES["telkomsel"], keys={"caller": number, "caller_name": "CDR"}, hold_ms=300
    )
    assert result.succeeded, result.output
    cdrs_of_the_call = select(func.count()).select_from(AsteriskCdr).where(AsteriskCdr.src == number)

    async def in_the_test_database() -> bool:
        return bool(await _scalar(service.settings.database_url.get_secret_value(), cdrs_of_the_call))

    # cdr_pgsql writes when the call has ended.
    await wait_until(in_the_test_database)
    assert await _scalar(env_url("NTPD112_DATABASE_URL"), cdrs_of_the_call) == 0
