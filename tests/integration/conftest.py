"""Integration fixtures: the real local Asterisk 22, the real PostgreSQL test database, the real service.

Nothing here is skipped when a piece is missing: a missing piece is a failure (`make test` sets everything up).
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from ntpd112.access.roles import Role
from ntpd112.app import Service
from ntpd112.cli.service import migrate_database
from ntpd112.clock import utcnow
from ntpd112.config import Settings, load_local_asterisk_settings
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.paths import LOCAL_ASTERISK_LOCK
from ntpd112.pbx.ami_actions import QueueRemove
from ntpd112.store.models import Call, CallEvent
from ntpd112.store.users import user_for_operator

pytestmark = pytest.mark.integration
AML_TEST_SECRET = "aml-test-secret"


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> None:
    """Poll until `predicate()` (sync or async) is truthy; fail with its last value otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
def local_asterisk() -> Iterator[LocalAsterisk]:
    # One local Asterisk on fixed ports serves every checkout on this machine: integration sessions take turns.
    with LOCAL_ASTERISK_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        asterisk = LocalAsterisk(load_local_asterisk_settings())
        asterisk.start()
        yield asterisk


@pytest.fixture(scope="session")
def test_database_url() -> str:
    url = dotenv_values(Path(".env")).get("NTPD112_TEST_DATABASE_URL")
    assert url, "NTPD112_TEST_DATABASE_URL missing from .env: run `make setup` first"
    migrate_database(url)
    return url


@pytest.fixture
async def clean_database(test_database_url: str) -> str:
    engine = create_async_engine(test_database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "TRUNCATE calls, call_events, api_tokens, operators, users, caller_flags,"
                " routing_table_versions, incidents, location_fixes, cells, areas CASCADE"
            )
        )
    await engine.dispose()
    return test_database_url


RECONCILE_LOOKBACK_HOURS = 1 / 60


def service_settings(database_url: str, spool_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "http_port": free_tcp_port(),
        "spool_dir": spool_dir,
        "reconnect_initial_delay": 0.2,
        "reconnect_max_delay": 1.0,
        "log_format": "json",
        "asterisk_config_dir": load_local_asterisk_settings().asterisk_root / "etc/asterisk",
        "aml_hmac_secret": AML_TEST_SECRET,
        # Asterisk's CDRs are shared by every run on this machine (development, load tests, earlier tests): a
        # test service reconciles only the last minute, or it would import all of them into its fresh database.
        "reconcile_lookback_hours": RECONCILE_LOOKBACK_HOURS,
    }
    return Settings(**(values | overrides))


@pytest.fixture
async def service(local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    svc = Service(service_settings(clean_database, tmp_path / "spool"))
    await svc.start()
    try:
        await wait_until(lambda: svc.ari.connected and svc.ami.connected)
        yield svc
    finally:
        await svc.stop()


async def user_token(service: Service, username: str, role: Role) -> str:
    """A personal token of `username` (created with `role`, or given it when it exists already, e.g. an operator)."""
    async with service.database.session() as session, session.begin():
        user = await user_for_operator(session, username, username, role)
        user.must_change_password = False
    created = await service.accounts.tokens.create(user, "test", utcnow() + timedelta(days=1))
    return created.token


# Intake's part of every call's timeline, in order; queue and overflow events follow, "ended" is last.
INTAKE_EVENTS = ["offered", "answered", "prioritised", "queued"]


def assert_complete_timeline(types: list[str]) -> None:
    # Queue events come over AMI and may interleave with the last intake step; intake's own order is fixed.
    assert types[0] == "offered", types
    assert [t for t in types if t in INTAKE_EVENTS] == INTAKE_EVENTS, types
    assert types[-1] == "ended", types
    assert types.count("ended") == 1, types


async def empty_queue(service: Service) -> None:
    """Take every member out of the operators' queue (left over from other runs on this shared Asterisk)."""
    for member in await service.operators.queue_members():
        await service.ami.send(QueueRemove("ntpd112-operators", member))


def unique_mobile_number() -> str:
    """A distinct Telkomsel-style number per test, so tests find their own call."""
    return "0812" + str(uuid.uuid4().int)[:8]


async def calls_from(service: Service, e164: str) -> list[Call]:
    async with service.database.session() as session:
        return list((await session.scalars(select(Call).where(Call.caller_number == e164))).all())


async def timeline(service: Service, call_id: uuid.UUID) -> list[CallEvent]:
    async with service.database.session() as session:
        statement = select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.at, CallEvent.seq)
        return list((await session.scalars(statement)).all())
