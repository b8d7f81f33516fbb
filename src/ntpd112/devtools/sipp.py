"""SIPp processes running the scenarios in sipp-scenarios/ against the local Asterisk: one-shot callers, long-lived
user agents (operator, agency and citizen phones at static contacts). Shared by the integration tests and
`ntpd112 loadtest`. Every process binds a loopback address of its own, so Asterisk tells trunks and phones apart."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ntpd112.paths import SIPP_DIR

ASTERISK_SIP = "127.0.0.1:5060"


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def udp_port_taken(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return True
        return False


@dataclass(frozen=True)
class SippResult:
    returncode: int
    output: str

    @property
    def succeeded(self) -> bool:
        # SIPp exits 0 when every call passed the scenario, 1 when at least one failed.
        return self.returncode == 0


@dataclass
class Sipp:
    """One SIPp process: `scenario` (a file name in sipp-scenarios/ or a path) from `address`:`port`."""

    scenario: str
    address: str
    port: int | None = None  # None: a free port
    options: Sequence[str] = ()
    keys: Mapping[str, str] = field(default_factory=dict)
    target: str = ASTERISK_SIP
    stderr: Path | None = None  # None: discarded
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)

    def command(self) -> list[str]:
        args = ["sipp", "-sf", str(SIPP_DIR / self.scenario), "-i", self.address]
        args += ["-p", str(self.port or free_udp_port(self.address)), "-nostdin", *self.options]
        for key, value in self.keys.items():
            args += ["-key", key, value]
        return [*args, self.target]

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self, *, pipe_stderr: bool = False) -> None:
        if pipe_stderr:
            stderr: int | object = asyncio.subprocess.PIPE
        elif self.stderr is not None:
            stderr = self.stderr.open("ab")
        else:
            stderr = asyncio.subprocess.DEVNULL
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,  # type: ignore[arg-type]
                stdin=asyncio.subprocess.DEVNULL,
                # Scenarios name their audio files (rtp_stream) relative to their own directory.
                cwd=SIPP_DIR,
            )
        finally:
            if hasattr(stderr, "close"):
                stderr.close()

    async def wait(self, timeout: float) -> SippResult:
        """Wait for the process to end; kill it when it overruns `timeout`."""
        assert self._process is not None
        try:
            _, err = await asyncio.wait_for(self._process.communicate(), timeout)
        except TimeoutError:
            await self.stop()
            err = b"ntpd112: sipp overran its time limit and was stopped"
        return SippResult(self._process.returncode or 0, (err or b"").decode(errors="replace"))

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), 5)
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()


class SippAgent:
    """A phone at a static contact: a SIPp UAS that answers every call until stopped."""

    def __init__(
        self,
        scenario: str,
        address: str,
        port: int = 5070,
        hold_ms: int = 300,
        *,
        options: Sequence[str] = (),
        keys: Mapping[str, str] | None = None,
    ) -> None:
        self.address = address
        self.port = port
        self._sipp = Sipp(scenario, address, port, ["-d", str(hold_ms), "-timeout", "3600s", *options], keys or {})

    @property
    def contact(self) -> str:
        return f"sip:{self.address}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._sipp.pid

    async def start(self, timeout: float = 5) -> None:
        await self._sipp.start()
        # Asterisk must not send anything before SIPp listens: wait until its port is taken.
        deadline = asyncio.get_running_loop().time() + timeout
        while self._sipp.running and not udp_port_taken(self.address, self.port):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.02)
        if not self._sipp.running or not udp_port_taken(self.address, self.port):
            raise RuntimeError(f"sipp agent {self._sipp.scenario} on {self.contact} did not start")

    async def stop(self) -> None:
        await self._sipp.stop()


async def run_sipp(
    scenario: str,
    *,
    source: str,
    service: str = "112",
    keys: dict[str, str] | None = None,
    calls: int = 1,
    hold_ms: int = 1000,
    rate: float | None = None,
    timeout_s: int = 30,
    extra: list[str] | None = None,
) -> SippResult:
    """Place `calls` calls and wait for them; SIPp's errors come back in the result's output."""
    options = ["-s", service, "-m", str(calls), "-d", str(hold_ms), "-timeout", f"{timeout_s}s", "-timeout_error"]
    options += ["-trace_err", "-error_file", "/dev/stderr"]
    if rate is not None:
        options += ["-r", str(rate)]
    sipp = Sipp(scenario, source, options=[*options, *(extra or [])], keys=keys or {})
    await sipp.start(pipe_stderr=True)
    return await sipp.wait(timeout_s + 10)
