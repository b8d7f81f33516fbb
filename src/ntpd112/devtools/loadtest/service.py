"""`ntpd112 run` as the load test's child process (see runner.py for why a process), which the fault harness also
kills and starts again on the same spool."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from ntpd112.devtools.loadtest.collect import SCRAPE_ERRORS, scrape_metrics


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def poll(check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:.0f} s")
        await asyncio.sleep(interval)


class ServiceProcess:
    """`ntpd112 run` as a child process on a free HTTP port, with the run's database and CDR database."""

    def __init__(
        self,
        database_url: str,
        cdr_database_url: str | None,
        work_dir: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self._extra_env = dict(extra_env or {})
        self._database_url = database_url
        self._cdr_database_url = cdr_database_url
        self._work_dir = work_dir
        self.port = free_tcp_port()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.returncode is None else None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    async def start(self) -> None:
        env = os.environ | {
            "NTPD112_DATABASE_URL": self._database_url,
            "NTPD112_HTTP_HOST": "127.0.0.1",
            "NTPD112_HTTP_PORT": str(self.port),
            "NTPD112_SPOOL_DIR": str(self._work_dir / "spool"),
            "NTPD112_LOG_FORMAT": "json",
            **self._extra_env,
        }
        if self._cdr_database_url is not None:
            env["NTPD112_CDR_DATABASE_URL"] = self._cdr_database_url
        with (self._work_dir / "service.log").open("ab") as output:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ntpd112", "run", env=env, stdout=output, stderr=output
            )
        await poll(self._healthy, 30, "the service did not become healthy (see service.log)")

    async def _healthy(self) -> bool:
        if self._process is None or self._process.returncode is not None:
            raise RuntimeError(f"the service exited ({self._work_dir / 'service.log'})")
        health = await self._health()
        return health is not None and health.get("status") == "up"

    async def settled(self, timeout: float = 120) -> None:
        """Wait until the service's first reconciliation has run and the journal has written what it found (nothing
        queued, and the count of written records the same a second apart). Coming up after the baseline's path, the
        service finds the baseline's calls in Asterisk's records and records them (as it would calls taken while it
        was down): work of the start, which spilled into the first step (BENCHMARKS.md, sixth slice)."""
        last_written: int | None = None

        async def idle() -> bool:
            nonlocal last_written
            health = await self._health()
            components = health.get("components") if health is not None else None
            if health is not None and components is None:
                return True  # this service shows no details to loopback: nothing to wait for
            written = None
            if components is not None and components["reconciliation"]["runs"] >= 1:
                journal = components["journal"]
                written = None if journal["queued"] or journal["spooling"] else journal["written"]
            unchanged = written is not None and written == last_written
            last_written = written
            return unchanged

        await poll(idle, timeout, "the service did not settle after its first reconciliation", interval=1.0)

    async def drained(self, timeout: float = 60) -> None:
        """Wait until the service has seen every call of a step end and written every record (TimeoutError past
        `timeout`). A service too busy to answer its metrics has not settled: asked again (the first timed-out scrape
        used to end the wait, and a saturated run then read the records while 9,944 were still queued in the
        service)."""

        async def idle() -> bool:
            try:
                metrics = await self.metrics()
            except SCRAPE_ERRORS:
                return False
            return not metrics.get("ntpd112_calls_active") and not metrics.get("ntpd112_journal_backlog")

        await poll(idle, timeout, "the service did not drain its calls and records")

    async def _health(self) -> dict[str, Any] | None:
        """The service's /health document (with each component's state: the harness asks over loopback), or None
        while it does not answer."""
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{self.port}/health", timeout=aiohttp.ClientTimeout(total=2)) as reply,
            ):
                health: dict[str, Any] = await reply.json()
        except (*SCRAPE_ERRORS, ValueError):  # ValueError: not JSON
            return None
        return health

    async def metrics(self) -> dict[str, float]:
        return await scrape_metrics(self.metrics_url)

    async def signal(self, sig: signal.Signals) -> None:
        """Send `sig` and wait for the process to exit (killed if it has not within 20 s)."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(sig)
        try:
            await asyncio.wait_for(self._process.wait(), 20)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def stop(self) -> None:
        await self.signal(signal.SIGTERM)
