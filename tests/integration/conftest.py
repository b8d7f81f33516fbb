"""Integration fixtures: the real local Asterisk 22, the real PostgreSQL test database, the real service.

Nothing here is skipped when a piece is missing: a missing piece is a failure (`make test` sets everything up).

The local Asterisk and the test database serve every checkout on this machine. A session holds the machine-wide lock
from its first integration fixture to its end; meanwhile Asterisk writes its CDRs into the test database, and the
session checks at its end that it left the development database (which `make run` reconciles from) as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import uuid
import wave
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from dotenv import dotenv_values
from pydantic import SecretStr
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ntpd112.access.passwords import hash_password
from ntpd112.access.roles import Role
from ntpd112.app import Service
from ntpd112.cli.service import migrate_database
from ntpd112.clock import utcnow
from ntpd112.config import Settings, load_local_asterisk_settings
from ntpd112.devtools.local_asterisk import PROMPT_SOUNDS_SUBDIR, LocalAsterisk, local_asterisk_lock
from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.heap import freeze_startup_objects
from ntpd112.logs import configure_logging
from ntpd112.pbx.ami_actions import QueueRemove
from ntpd112.pbx.asterisk_config import render_dialplan_globals
from ntpd112.room.config import RoomConfig, load_room
from ntpd112.store.db import Database
from ntpd112.store.models import Base, Call, CallEvent, User
from ntpd112.store.users import user_for_operator
from tests.integration.schema_fuzz import start_planning

pytestmark = pytest.mark.integration
AML_TEST_SECRET = "aml-test-secret"


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll until `predicate()` (sync or async) is truthy and return that value; fail otherwise. The short interval:
    a test waits on its conditions hundreds of times a session, and each wait overran by half an interval."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def started(service: Service) -> Service:
    """Start a service made by the test and wait until it is attached to Asterisk (ARI and AMI)."""
    await service.start()
    await wait_until(lambda: service.ari.connected and service.ami.connected)
    return service


def env_url(name: str) -> str:
    url = dotenv_values(Path(".env")).get(name)
    assert url, f"{name} missing from .env: run `make setup` first"
    return url


def pytest_collection_finish(session: pytest.Session) -> None:
    """Schemathesis's requests are planned in the background from the start when its test is to run
    (tests/integration/schema_fuzz.py)."""
    if any(item.get_closest_marker("schema_fuzz") for item in session.items):
        start_planning()


@pytest.fixture(scope="session")
def exclusive_local_asterisk() -> Iterator[None]:
    # The services under test log as `ntpd112 run` does; structlog's unconfigured default renders every logged
    # exception as a rich traceback with locals, which stalls the event loop for about a second under load.
    configure_logging("json", "debug")
    # As `ntpd112 run` does once started: the session's imports (pytest, schemathesis, playwright, the service's
    # modules: some 290,000 objects) stay out of the full collections that land inside the services' requests.
    freeze_startup_objects()
    try:
        with local_asterisk_lock():
            yield
    finally:
        structlog.reset_defaults()


async def _row_counts(database_url: str) -> dict[str, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            # The development database is shared by every checkout and may lack this branch's newest tables.
            present = set(
                (
                    await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
                ).scalars()
            )
            return {
                table.name: await connection.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
                if table.name in present
            }
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def development_database_untouched(exclusive_local_asterisk: None) -> AsyncIterator[None]:
    """Fails the session when it wrote into the development database: its CDRs, its calls or anything else."""
    url = env_url("NTPD112_DATABASE_URL")
    before = await _row_counts(url)
    yield
    after = await _row_counts(url)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, (
        f"the test session changed the development database's row counts (before, after): {changed}"
        " (or a `make run` of this machine ran meanwhile: stop it before `make test`)"
    )


async def _empty_schema(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def test_database_url(development_database_untouched: None) -> str:
    url = env_url("NTPD112_TEST_DATABASE_URL")
    # Every checkout on this machine shares the test database, and one on another branch may have migrated it to
    # revisions this one does not know: each session builds it afresh from this checkout's migrations.
    asyncio.run(_empty_schema(url))
    migrate_database(url)
    return url


def session_room() -> RoomConfig:
    """room.toml with a 1 s wrap-up instead of its 5 s: tests that give one operator call after call wait out the
    wrap-up each time, and what they check does not depend on its length. Everything else is the room's own."""
    room = load_room()
    return room.model_copy(update={"queue": room.queue.model_copy(update={"wrapup_seconds": 1})})


@pytest.fixture(scope="session")
def local_asterisk(test_database_url: str) -> Iterator[LocalAsterisk]:
    development = load_local_asterisk_settings()
    # The session's calls leave their CDRs in the test database; the development one is `make run`'s to reconcile.
    # Only cdr_pgsql.conf and the queue's timings differ from the development configuration: start() reloads
    # them, no restart.
    asterisk = LocalAsterisk(
        development.model_copy(update={"cdr_database_url": SecretStr(test_database_url)}), room=session_room()
    )
    asterisk.start()
    try:
        yield asterisk
    finally:
        LocalAsterisk(development).start()


# The least media timeout Asterisk can tell from a phone sending packets every 20 ms: it counts whole seconds.
SHORT_MEDIA_TIMEOUT = 2


@pytest.fixture
def short_media_timeout(local_asterisk: LocalAsterisk) -> Iterator[LocalAsterisk]:
    """The session's Asterisk with a 2 s media timeout on the trunks (a PJSIP reload, no restart), for one test."""
    room = session_room()
    callers = room.callers.model_copy(update={"media_timeout_seconds": SHORT_MEDIA_TIMEOUT})
    short = local_asterisk.with_room(room.model_copy(update={"callers": callers}))
    short.start()
    try:
        yield short
    finally:
        local_asterisk.start()


# Every table of the models; tests/integration/test_test_database.py checks the test database has no other one.
TABLES = [table.name for table in Base.metadata.sorted_tables]


async def _empty_tables(database_url: str) -> None:
    # DELETE, children before parents, not TRUNCATE: a test leaves a few rows, and TRUNCATE gives each of the tables
    # new files (0.1-0.2 s before every test on this machine) where these DELETEs take about 15 ms.
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        # The audit trail refuses DELETE by trigger; the tables' owner may lift that inside this transaction.
        await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for table in reversed(TABLES):
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - the models' own table names
        await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    await engine.dispose()


@pytest.fixture
async def clean_database(test_database_url: str) -> str:
    await _empty_tables(test_database_url)
    return test_database_url


@pytest.fixture
async def database(clean_database: str) -> AsyncIterator[Database]:
    """The emptied test database, its adapter started (for tests of the store without a service)."""
    database = Database(clean_database)
    await database.start()
    try:
        yield database
    finally:
        await database.stop()


TEST_RECONCILE_LOOKBACK_HOURS = 0.25


def service_settings(database_url: str, spool_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "http_port": free_tcp_port(),
        "spool_dir": spool_dir,
        # Each service its own photo store, beside its spool (never the developer's ~/.cache one).
        "ticket_attachments_dir": spool_dir.with_name(spool_dir.name + "-attachments"),
        "reconnect_initial_delay": 0.2,
        "reconnect_max_delay": 1.0,
        "log_format": "json",
        "asterisk_config_dir": load_local_asterisk_settings().asterisk_root / "etc/asterisk",
        "recordings_dir": load_local_asterisk_settings().asterisk_root / "var/spool/asterisk/monitor",
        "queue_log_path": load_local_asterisk_settings().asterisk_root / "var/log/asterisk/queue_log",
        "asterisk_sounds_dir": load_local_asterisk_settings().asterisk_root / PROMPT_SOUNDS_SUBDIR,
        "aml_hmac_secret": AML_TEST_SECRET,
        # A test's service reconciles the test's own calls, minutes old at most. The shared local Asterisk's queue
        # log holds the whole day's calls (development, load runs): with a day's lookback every test's service read
        # and folded all of them when it started (106,000 lines after a day of load runs: the suite took 10 % longer).
        "reconcile_lookback_hours": TEST_RECONCILE_LOOKBACK_HOURS,
        # Where the session's Asterisk writes its CDRs (see `local_asterisk`), straight, also when a test routes
        # `database_url` through a proxy it cuts. The CDRs are deleted with everything else before each test.
        "cdr_database_url": env_url("NTPD112_TEST_DATABASE_URL"),
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


@pytest.fixture
async def http(service: Service) -> AsyncIterator[aiohttp.ClientSession]:
    """A client of the service's HTTP API (of the module's `service`, where a module overrides it)."""
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{service.settings.http_port}") as session:
        yield session


@functools.cache
def password_hash(password: str) -> str:
    """`hash_password(password)`, made once a session: argon2 takes a good part of a second a hash on a busy machine
    by design, and the tests' users who share a password need no salt of their own."""
    return hash_password(password)


async def user_token(service: Service, username: str, role: Role) -> str:
    """A personal token of `username` (created with `role`, or given it when it exists already, e.g. an operator)."""
    async with service.database.session() as session, session.begin():
        user = await user_for_operator(session, username, username, role)
        user.must_change_password = False
    created = await service.accounts.tokens.create(user, "test", utcnow() + timedelta(days=1))
    return created.token


async def agency_user(service: Service, username: str, agency: str, password_hash: str | None = None) -> User:
    """A user of the agency role bound to `agency` (with a password when a hash is given)."""
    async with service.database.session() as session, session.begin():
        user = User(
            username=username,
            full_name=f"Petugas {agency}",
            roles=["agency"],
            agency=agency,
            password_hash=password_hash,
            must_change_password=False,
            active=True,
        )
        session.add(user)
    return user


async def agency_token(service: Service, username: str, agency: str) -> str:
    created = await service.accounts.tokens.create(
        await agency_user(service, username, agency), "test", utcnow() + timedelta(days=1)
    )
    return created.token


async def classified_call(service: Service, category: str | None = "fire", kecamatan: str = "Pagedangan") -> uuid.UUID:
    """A call as the service records it (through the journal), with a caller number, a best location fix and its
    kecamatan, classified by operator `ani` (unless `category` is None)."""
    call_id = service.journal.record_call(f"test-{uuid.uuid4()}", trunk="telkomsel", offered_at=utcnow())
    await service.journal.flushed()
    async with service.database.session() as session, session.begin():
        await session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(
                caller_number="+6281234567890",
                best_fix_id=uuid.uuid4(),
                best_lat=-6.2345678,
                best_lon=106.631234,
                best_radius_m=25.0,
                best_source="aml",
                area_id=1,
                area_kecamatan=kecamatan,
                area_kabupaten="Kabupaten Tangerang",
            )
        )
    if category is not None:
        change = IncidentChange(category=category, description="gudang terbakar")
        await service.incidents.set(call_id, change, "ani")
    return call_id


@pytest.fixture(scope="module")
async def module_service(
    local_asterisk: LocalAsterisk, test_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    await _empty_tables(test_database_url)
    svc = Service(service_settings(test_database_url, tmp_path_factory.mktemp("spool")))
    await svc.start()
    try:
        await wait_until(lambda: svc.ari.connected and svc.ami.connected)
        yield svc
    finally:
        await svc.stop()


@pytest.fixture
async def shared_service(module_service: Service, clean_database: str) -> AsyncIterator[Service]:
    """One running service for a whole module, every table emptied before each test (the rows the service wrote
    at its start too): for modules whose tests need no fresh service, only a running one and empty tables.

    Each test finds it as a service started on an empty database would be: the default routing table seeded as
    version 1 and in force (whatever the last test published). After each test, the service's calls have ended and
    its records are written before the next test empties the tables, so no late record of one test lands in the
    next one's."""
    await module_service.routing.refresh()
    yield module_service
    await wait_until(lambda: not module_service.calls.active, timeout=30)
    await module_service.journal.flushed()


@contextlib.asynccontextmanager
async def room_global(asterisk: LocalAsterisk, name: str, value: int) -> AsyncIterator[None]:
    """A room setting the dialplan reads as a global (rendered from room.toml), changed live for one test as an
    admin can (`dialplan set global`), then the room's value again: tests shorten the room's designed waits."""
    room = render_dialplan_globals(asterisk.room)
    [rendered] = [line for line in room.splitlines() if line.startswith(f"{name}=")]
    await asyncio.to_thread(asterisk.cli, f"dialplan set global {name} {value}")
    try:
        yield
    finally:
        await asyncio.to_thread(asterisk.cli, f"dialplan set global {name} {rendered.split('=', 1)[1]}")


# Intake's part of every call's timeline, in order; queue and overflow events follow, "ended" is last.
INTAKE_EVENTS = ["offered", "answered", "prioritised", "queued"]


# Queue events come over AMI, the call's end over ARI: two connections, so an event Asterisk emitted as the caller
# hung up can be recorded just after the end (seen: overflow_backup, the supervisors' Dial failing in the same
# milliseconds as the intake test's caller hung up). Nothing else may follow the end of a call that only went through
# intake and the queue.
LATE_QUEUE_EVENTS = frozenset({"queue_joined", "queue_left", "overflow", "overflow_backup", "abandoned"})


def assert_ended_last(types: list[str]) -> None:
    assert types.count("ended") == 1, types
    assert set(types[types.index("ended") + 1 :]) <= LATE_QUEUE_EVENTS, types


def assert_complete_timeline(types: list[str]) -> None:
    # Queue events come over AMI and may interleave with the last intake step; intake's own order is fixed.
    assert types[0] == "offered", types
    assert [t for t in types if t in INTAKE_EVENTS] == INTAKE_EVENTS, types
    assert_ended_last(types)


async def empty_queue(service: Service) -> None:
    """Take every member out of the operators' queue (left over from other runs on this shared Asterisk)."""
    for member in await service.operators.queue_members():
        await service.ami.send(QueueRemove("ntpd112-operators", member))


async def empty_queue_and_stop_the_service(settings: Settings) -> None:
    """Start a service only to empty the queue, then stop it: the calls that follow find nobody to answer and, with
    the service down, take the dialplan's fail-safe path."""
    service = Service(settings)
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        await empty_queue(service)
    finally:
        await service.stop()


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


WAV_HEADER_BYTES = 44  # MixMonitor's WAV: a 44-byte header, then 8 kHz 16-bit mono samples


async def recorded_seconds(asterisk: LocalAsterisk, call: Call, at_least: float, timeout: float = 15.0) -> float:
    """Seconds of audio in the call's recording once it holds at least `at_least` and MixMonitor has closed it: its
    header then counts every byte in the file (MixMonitor rewrites the header when it closes the file, appended
    parts included), and the sample rate is 8 kHz mono."""
    assert call.recording_path is not None
    path = asterisk.root / "var/spool/asterisk/monitor" / call.recording_path
    seconds = 0.0

    def closed_with_enough() -> bool:
        nonlocal seconds
        try:
            with wave.open(str(path), "rb") as recording:
                params = recording.getparams()
                size = path.stat().st_size
        except (OSError, EOFError, wave.Error):
            return False  # not there yet, or its header not yet written
        assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000), params
        seconds = params.nframes / params.framerate
        return size == WAV_HEADER_BYTES + params.nframes * 2 and seconds >= at_least

    try:
        await wait_until(closed_with_enough, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{path} holds {seconds:.2f} s, not {at_least:.2f} s, or was not closed") from None
    return seconds
