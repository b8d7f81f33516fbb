"""The fault harness: one fault injected under a steady load (profile fields `fault`, `fault_at_seconds`,
`fault_down_seconds`), and its verdict. docs/RELIABILITY.md says what each fault means for the room.

service-kill / service-term  SIGKILL / SIGTERM to `ntpd112 run`, restarted on the same spool after the down time
postgresql-restart           `pg_ctlcluster VERSION NAME restart` of the cluster serving the run's database
asterisk-restart             LocalAsterisk stop (`core stop now`: every call in progress dropped), then start
ari-cut / ami-cut            the service reaches ARI / AMI through a TCP proxy (devtools/tcp_proxy.py); the proxy
                             breaks every connection and refuses new ones for the down time, as a network outage
                             would. Asterisk 22's CLI can close one session too (`ari shutdown websocket session ID`
                             from `ari show websocket sessions`, `manager kick session FD` from `manager show
                             connected`), but the service reconnects at once: no outage, and no REST failures.
caller-vanish                the callers' SIPp process is killed (SIGKILL): every caller in a call vanishes without a
                             BYE, as a dead phone or a lost coverage does; the trunks' media timeout must release them

PostgreSQL and Asterisk are shared by every checkout of this machine: their restarts hold the machine-wide
local-Asterisk lock (re-entrant: the test session or `ntpd112 loadtest` already holds it), and whatever happens
both are started again before the run goes on.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ntpd112.devtools.loadtest.profiles import Fault
from ntpd112.devtools.loadtest.report import CallRow, FaultOutcome, RecordFields
from ntpd112.devtools.local_asterisk import LocalAsterisk, local_asterisk_lock
from ntpd112.devtools.tcp_proxy import TcpProxy
from ntpd112.logs import get_logger

log = get_logger(__name__)

# SIPp logs and this process read the same clock; a refused INVITE may be logged this long before the stop began
# (the CLI status call before it).
REFUSED_SLACK_SECONDS = 0.5


class Restartable(Protocol):
    async def signal(self, sig: signal.Signals) -> None: ...
    async def start(self) -> None: ...


@dataclass
class FaultWindow:
    fault: Fault
    injected_at: float  # epoch seconds
    restored_at: float | None  # None: nothing to restore (caller-vanish)
    detail: str
    stopping_at: float | None = None  # asterisk-restart: when `core stop now` was sent
    stopped_at: float | None = None  # asterisk-restart: when it returned (no channel left)


def postgresql_cluster(port: int) -> tuple[str, str]:
    """(version, name) of the local cluster listening on `port`, from Debian's `pg_lsclusters`."""
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        words = line.split()
        if len(words) >= 3 and words[2] == str(port):
            return words[0], words[1]
    raise RuntimeError(f"no local PostgreSQL cluster listens on port {port} (pg_lsclusters: {listing.strip()!r})")


def restart_postgresql(port: int) -> str:
    version, name = postgresql_cluster(port)
    with local_asterisk_lock():
        subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, capture_output=True, timeout=120)
    return f"pg_ctlcluster {version} {name} restart"


def restart_asterisk(asterisk: LocalAsterisk, down_seconds: float) -> tuple[str, float, float]:
    """(what happened, when the stop began, when it returned)."""
    before = asterisk.status().pid
    with local_asterisk_lock():
        try:
            stopping = time.time()
            asterisk.stop()
            stopped = time.time()
            time.sleep(down_seconds)
        finally:
            asterisk.start()  # also when the stop failed: the run must end with Asterisk up
    return f"asterisk pid {before} -> {asterisk.status().pid}", stopping, stopped


def ensure_up(asterisk: LocalAsterisk, database_port: int) -> None:
    """After a fault run, whatever happened: the shared PostgreSQL cluster and Asterisk are running."""
    version, name = postgresql_cluster(database_port)
    with local_asterisk_lock():
        # pg_ctlcluster start fails on a running cluster: ask first.
        if subprocess.run(["pg_ctlcluster", version, name, "status"], capture_output=True, check=False).returncode:
            log.warning("postgresql was down after the fault run: starting it", cluster=f"{version}/{name}")
            subprocess.run(["pg_ctlcluster", version, name, "start"], check=True, capture_output=True, timeout=120)
        if not asterisk.status().running:
            log.warning("asterisk was down after the fault run: starting it")
            asterisk.start()


class Injector:
    """Injects one fault `at` seconds after the load began; `run()` returns when what it took away is back."""

    def __init__(
        self,
        fault: Fault,
        down_seconds: float,
        *,
        service: Restartable,
        asterisk: LocalAsterisk,
        database_port: int,
        proxies: dict[str, TcpProxy],
        kill_callers: Callable[[], Awaitable[None]],
    ) -> None:
        self.fault = fault
        self._down = down_seconds
        self._service = service
        self._asterisk = asterisk
        self._database_port = database_port
        self._proxies = proxies
        self._kill_callers = kill_callers

    async def run(self, at: float) -> FaultWindow:
        await asyncio.sleep(at)
        injected = time.time()
        log.warning("fault injection", fault=self.fault)
        stopping = stopped = None
        if self.fault == "asterisk-restart":
            detail, stopping, stopped = await asyncio.to_thread(restart_asterisk, self._asterisk, self._down)
        else:
            detail = await self._inject()
        restored = None if self.fault == "caller-vanish" else time.time()
        log.warning("fault over", fault=self.fault, detail=detail)
        return FaultWindow(self.fault, injected, restored, detail, stopping, stopped)

    async def _inject(self) -> str:
        fault = self.fault
        if fault in ("service-kill", "service-term"):
            sig = signal.SIGKILL if fault == "service-kill" else signal.SIGTERM
            await self._service.signal(sig)
            await asyncio.sleep(self._down)
            await self._service.start()
            return f"{sig.name}, restarted after {self._down:g} s"
        if fault == "postgresql-restart":
            return await asyncio.to_thread(restart_postgresql, self._database_port)
        if fault in ("ari-cut", "ami-cut"):
            proxy = self._proxies[fault.removesuffix("-cut")]
            await proxy.cut()
            try:
                await asyncio.sleep(self._down)
            finally:
                await proxy.open()
            return f"{fault.removesuffix('-cut').upper()} connections cut for {self._down:g} s"
        await self._kill_callers()
        return "callers' SIPp killed (SIGKILL): no BYE"


def dropped_by_asterisk(window: FaultWindow, rows: Sequence[CallRow]) -> list[str]:
    """The calls in progress when Asterisk stopped: placed before the stop returned (a call placed while it ran may
    still have been taken in, then dropped), not ended before the stop began, not refused, and not answered only
    after the stop. (A slack here counted a call an operator ended 0.4 s before the stop as dropped. And an INVITE
    sent as the stop began, left unanswered, is retransmitted by the caller (SIP timer A: 0.5, 1, 2 s) until the
    restarted Asterisk answers it: that call was never dropped, it was taken in afterwards like any other; counted
    as dropped, it was "off the callback list" in about 1 chaos run of 5.)"""
    stopping = window.stopping_at or window.injected_at
    stopped = window.stopped_at or stopping
    return [
        row.tag
        for row in rows
        if row.invite_at is not None
        and row.invite_at < stopped
        and row.outcome != "failed"
        and (row.ended_at is None or row.ended_at >= stopping)
        and not _answered_after(row, stopped)
    ]


def _answered_after(row: CallRow, moment: float) -> bool:
    if row.invite_at is None or row.invite_to_answer_ms is None:
        return False
    return row.invite_at + row.invite_to_answer_ms / 1000 >= moment


def refused_while_down(window: FaultWindow, rows: Sequence[CallRow]) -> list[str]:
    """asterisk-restart: the calls placed while Asterisk was stopping or down that it refused with a SIP error (503
    while shutting down). No Asterisk record, no channel: the room cannot know them; the carrier must route 112 to
    another PBX meanwhile (docs/RELIABILITY.md)."""
    if window.fault != "asterisk-restart":
        return []
    until = (window.restored_at or window.injected_at) + REFUSED_SLACK_SECONDS
    return [
        row.tag
        for row in rows
        if row.outcome == "failed"
        and row.invite_at is not None
        and window.injected_at - REFUSED_SLACK_SECONDS <= row.invite_at <= until
    ]


def vanished_calls(rows: Sequence[CallRow]) -> list[str]:
    """After the callers' process was killed: the calls that never ended from the caller's side (no BYE either way,
    no failure), i.e. those in progress at the kill."""
    return [row.tag for row in rows if row.invite_at is not None and row.ended_at is None]


def mark_vanished(rows: Sequence[CallRow], vanished: Sequence[str]) -> list[CallRow]:
    """A vanished caller nobody answered is not lost by the room: the harness killed the phone."""
    gone = set(vanished)
    return [
        row.model_copy(update={"outcome": "vanished"}) if row.tag in gone and row.outcome == "lost" else row
        for row in rows
    ]


def _off_callback_list(tags: Sequence[str], fields: dict[str, list[RecordFields]]) -> list[str]:
    """Of `tags`, the calls not on the callback list with a number to call (every record of the call counts)."""
    return [
        tag
        for tag in tags
        if not any(r.callback_status in ("pending", "calling", "done") and r.caller_number for r in fields.get(tag, []))
    ]


def judge(window: FaultWindow, rows: Sequence[CallRow], fields: dict[str, list[RecordFields]]) -> FaultOutcome:
    """Targets: no call lost except those the restarted Asterisk dropped, every one of those on the callback list
    with its number; every vanished caller's record closed, and every one nobody had answered on the callback list
    (one an operator was talking to may have been ended by the operator before the media timeout: the operator
    knows). Records' completeness is judged with the other records."""
    dropped = dropped_by_asterisk(window, rows) if window.fault == "asterisk-restart" else []
    vanished = vanished_calls(rows) if window.fault == "caller-vanish" else []
    lost = [row.tag for row in rows if row.outcome == "lost" and row.tag not in set(dropped)]
    dropped_off = _off_callback_list(dropped, fields)
    unanswered = {row.tag for row in rows if row.outcome == "vanished"}
    vanished_off = _off_callback_list([tag for tag in vanished if tag in unanswered], fields)
    open_records = [tag for tag in vanished if not all(r.ended for r in fields.get(tag, []))]
    return FaultOutcome(
        refused=refused_while_down(window, rows),
        fault=window.fault,
        injected_at=window.injected_at,
        restored_at=window.restored_at,
        detail=window.detail,
        dropped=dropped,
        dropped_off_callback_list=dropped_off,
        vanished=vanished,
        vanished_off_callback_list=vanished_off,
        vanished_on_callback_list=len(vanished) - len(_off_callback_list(vanished, fields)),
        vanished_not_released=open_records,
        unexpected_lost=lost,
        met=not lost and not dropped_off and not vanished_off and not open_records,
    )
