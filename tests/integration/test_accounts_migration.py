"""Migration 0007 keeps what came before accounts: every role token keeps working as a personal token of a user
named after it (with the token's role), and every operator gets a user of the same username."""

from __future__ import annotations

import asyncio
import hashlib

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.paths import PROJECT_DIR
from ntpd112.store.db import Database
from ntpd112.store.tokens import Tokens

HEADS_BEFORE_ACCOUNTS = ("0002", "0003", "0004", "0005", "0006")
OPERATOR_TOKEN = "ntpd112_operator-token-from-before-accounts"
SCRIPT_TOKEN = "ntpd112_script-token-from-before-accounts"


async def _recreate(server_url: str, name: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


async def _insert_rows_from_before_accounts(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO operators (id, username, name, role, sip_md5_cred, logged_in, paused)"
                " VALUES (gen_random_uuid(), 'op1', 'Ani', 'operator', 'x', false, false)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO api_tokens (id, name, role, token_sha256) VALUES"
                " (gen_random_uuid(), 'op1', 'operator', :operator),"
                " (gen_random_uuid(), 'Skrip Laporan', 'admin', :script)"
            ),
            {"operator": _sha256(OPERATOR_TOKEN), "script": _sha256(SCRIPT_TOKEN)},
        )
    await engine.dispose()


async def _identities(url: str) -> dict[str, tuple[str, list[str]]]:
    database = Database(url)
    await database.start()
    try:
        found = {}
        for token in (OPERATOR_TOKEN, SCRIPT_TOKEN):
            identified = await Tokens(database).identify(token)
            assert identified is not None, token
            found[token] = (identified.user.username, list(identified.user.roles))
        async with database.session() as session:
            linked = await session.scalar(
                text("SELECT u.username FROM operators o JOIN users u ON u.id = o.user_id WHERE o.username = 'op1'")
            )
        assert linked == "op1"
        return found
    finally:
        await database.stop()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_tokens_and_operators_from_before_accounts_are_kept(test_database_url: str) -> None:
    test_url = make_url(test_database_url)
    name = f"{test_url.database}_migration"
    url = test_url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_recreate(test_database_url, name))
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    for head in HEADS_BEFORE_ACCOUNTS:
        command.upgrade(config, head)
    asyncio.run(_insert_rows_from_before_accounts(url))

    command.upgrade(config, "heads")

    assert asyncio.run(_identities(url)) == {
        OPERATOR_TOKEN: ("op1", ["operator"]),  # joined the operator's user: same name, same role
        SCRIPT_TOKEN: ("skrip-laporan", ["admin"]),
    }
