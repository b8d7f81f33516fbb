"""The routing table in force on this service, kept current on every running service without a restart.

PostgreSQL holds the versions (store/routing_versions.py). Each service LISTENs on `ntpd112_routes` on a
dedicated connection; a writer NOTIFYs on commit, and each listener then loads the highest version and swaps its
in-memory table in one assignment, so a reader sees the old table or the new one, never a mix. After every
(re)connect the listener loads the current version anyway: notifications sent while it was away are lost.

The fail-safe dialplan follows the table: on start and after every change the service writes
`render_dialplan(table)` into Asterisk's configuration directory and asks Asterisk to reload its dialplan, so a
call that Asterisk must route alone (service down) uses the same chains. Publishing the dialplan runs in its own
task with its own retries, so a slow or absent Asterisk never holds up the table swap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy.engine import make_url

from ntpd112.backoff import Backoff
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import Reload
from ntpd112.pbx.routes_dialplan import render_dialplan
from ntpd112.routing.defaults import default_table
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.routing_versions import ROUTES_CHANNEL, RoutingVersionRepository, StoredTable
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

ROUTES_INCLUDE_FILE = "extensions_ntpd112_routes.conf"
SEED_AUTHOR = "ntpd112"
# A quiet LISTEN connection can be half-open for a long time; a cheap query every so often finds out.
KEEPALIVE_SECONDS = 30.0
KEEPALIVE_TIMEOUT = 5.0
INITIAL_LOAD_TIMEOUT = 3.0


class RoutingUnavailable(RuntimeError):
    """No routing table loaded yet (the database has been unreachable since the service started)."""


def write_dialplan_include(config_dir: Path, table: RoutingTable) -> Path:
    """Write the fail-safe routes include atomically: Asterisk reading it meanwhile sees the old or the new file."""
    path = config_dir / ROUTES_INCLUDE_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render_dialplan(table), encoding="utf-8")
    partial.chmod(0o640)
    partial.replace(path)
    return path


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:200]


class RoutingService:
    def __init__(
        self,
        versions: RoutingVersionRepository,
        database_url: str,
        ami: AmiClient,
        asterisk_config_dir: Path | None,
        backoff: Callable[[], Backoff],
    ) -> None:
        self.versions = versions
        self._dsn = asyncpg_dsn(database_url)
        self._ami = ami
        self._config_dir = asterisk_config_dir
        self._listen_backoff = backoff()
        self._dialplan_backoff = backoff()
        self._tasks = TaskSet("routing")
        self._current: StoredTable | None = None
        self._refresh_lock = asyncio.Lock()
        self._loaded = asyncio.Event()
        self._wakeup = asyncio.Event()  # a notification arrived or the listening connection ended
        self._dialplan_due = asyncio.Event()
        self.listening = False
        self.listener_connects = 0
        self.dialplan_version: int | None = None
        self.last_error: str | None = None
        self.dialplan_write_error: str | None = None
        self.dialplan_reload_error: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks.spawn(self._listen_forever(), name="routing-listener")
        if self._config_dir is not None:
            self._tasks.spawn(self._publish_dialplan_forever(), name="routing-dialplan")
        # Wait briefly so the first calls find a table; with the database down the service starts anyway and the
        # listener keeps trying (Asterisk still has the last fail-safe routes written).
        try:
            async with asyncio.timeout(INITIAL_LOAD_TIMEOUT):
                await self._loaded.wait()
        except TimeoutError:
            log.warning("no routing table loaded yet; still trying", error=self.last_error)

    async def stop(self) -> None:
        await self._tasks.aclose()

    def health(self) -> dict[str, Any]:
        current = self._current
        return {
            # The table in memory keeps routing while the database or the listener is away; those are reported
            # by the database component and by `listening`.
            "ok": current is not None and self.dialplan_write_error is None,
            "version": current.info.version if current else None,
            "fingerprint": current.info.fingerprint if current else None,
            "listening": self.listening,
            "listener_connects": self.listener_connects,
            "dialplan_version": self.dialplan_version,
            "dialplan_write_error": self.dialplan_write_error,
            "dialplan_reload_error": self.dialplan_reload_error,
            "last_error": self.last_error,
        }

    # -- the table in force ------------------------------------------------------------------------------

    @property
    def current(self) -> StoredTable:
        if self._current is None:
            raise RoutingUnavailable("no routing table loaded yet")
        return self._current

    async def current_table(self) -> RoutingTable:
        return self.current.table

    def table_or_none(self) -> RoutingTable | None:
        """The table in force, or None before one is loaded (the reports then name categories by the defaults)."""
        return self._current.table if self._current is not None else None

    async def publish(
        self, table: RoutingTable, author: str, comment: str = "", *, based_on: int | None = None
    ) -> StoredTable:
        """Store `table` as the next version (only if `based_on` is still the newest, when given). Every service
        (this one included) switches on the notification; this one also switches right away so its caller reads
        its own write."""
        stored = await self.versions.append(table, author, comment, based_on=based_on)
        await self.refresh()
        return stored

    async def restore(self, version: int, author: str, comment: str = "") -> StoredTable:
        stored = await self.versions.restore(version, author, comment)
        await self.refresh()
        return stored

    async def refresh(self) -> None:
        """Load the highest version (seeding the default table into an empty database) and switch to it."""
        async with self._refresh_lock:  # one at a time, so an older read never replaces a newer one
            stored = await self.versions.current()
            if stored is None:
                await self.versions.seed(default_table(), SEED_AUTHOR)
                stored = await self.versions.current()
                assert stored is not None
            previous = self._current
            if previous is not None and previous.info.fingerprint == stored.info.fingerprint:
                return
            self._current = stored
            self._loaded.set()
            self._dialplan_due.set()
            log.info(
                "routing table in force",
                version=stored.info.version,
                previous=previous.info.version if previous else None,
                author=stored.info.author,
            )

    # -- listening ---------------------------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = _describe(error)
                log.warning("routing listener lost; reconnecting", error=self.last_error)
            self.listening = False
            await asyncio.sleep(self._listen_backoff.next_delay())

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(
            self._dsn, timeout=5, server_settings={"application_name": "ntpd112-routes-listener"}
        )
        try:
            connection.add_termination_listener(lambda _: self._wakeup.set())
            await connection.add_listener(ROUTES_CHANNEL, lambda *_: self._wakeup.set())
            self.listener_connects += 1
            self.listening = True
            self._wakeup.clear()
            await self.refresh()  # whatever changed while nobody listened
            self.last_error = None
            self._listen_backoff.reset()
            while not connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await self._wakeup.wait()
                if connection.is_closed():
                    break
                if self._wakeup.is_set():
                    self._wakeup.clear()
                    await self.refresh()
                else:
                    async with asyncio.timeout(KEEPALIVE_TIMEOUT):
                        await connection.execute("SELECT 1")
            raise ConnectionError("listening connection closed")
        finally:
            connection.terminate()

    # -- the fail-safe dialplan --------------------------------------------------------------------------

    async def _publish_dialplan_forever(self) -> None:
        assert self._config_dir is not None
        while True:
            await self._dialplan_due.wait()
            self._dialplan_due.clear()
            table = self.current.table
            try:
                path = write_dialplan_include(self._config_dir, table)
            except OSError as error:
                self.dialplan_write_error = _describe(error)
                log.exception("cannot write the fail-safe routes", error=self.dialplan_write_error)
                await self._retry_dialplan_later()
                continue
            try:
                await self._ami.require(Reload("pbx_config.so"))
            except AmiError as error:
                # The file is right, and Asterisk reads it whenever it starts: retrying the reload is enough.
                self.dialplan_write_error = None
                self.dialplan_reload_error = _describe(error)
                log.warning("fail-safe routes written; dialplan reload failed, will retry", error=str(error))
                await self._retry_dialplan_later()
                continue
            self.dialplan_write_error = self.dialplan_reload_error = None
            self.dialplan_version = table.version
            self._dialplan_backoff.reset()
            log.info("fail-safe routes reloaded in asterisk", version=table.version, path=str(path))

    async def _retry_dialplan_later(self) -> None:
        await asyncio.sleep(self._dialplan_backoff.next_delay())
        self._dialplan_due.set()
