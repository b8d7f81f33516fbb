"""SIPp processes running the scenarios in sipp-scenarios/ against the local Asterisk: one-shot callers, long-lived
user agents (operator, agency and citizen phones at static contacts). Shared by the integration tests and
`ntpd112 loadtest`. Every process binds a loopback address of its own, so Asterisk tells trunks and phones apart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import tempfile
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


def udp_port_bound_by(pid: int, address: str, port: int) -> bool:
    """Whether process `pid` holds a UDP socket bound to `address`:`port`, read from the kernel's tables. Probing by
    binding the port raced the agent's own bind (a SIPp starting during the probe's instant found its address in
    use), and a port merely taken may be held by another process, not by the agent that should listen there."""
    # /proc/net/udp writes the address as the 32-bit number in the machine's byte order, in hex; field 9 is the
    # socket's inode, which /proc/PID/fd links name as socket:[INODE].
    wanted = f"{struct.unpack('=I', socket.inet_aton(address))[0]:08X}:{port:04X}"
    inodes = {
        fields[9]
        for fields in (line.split() for line in Path("/proc/net/udp").read_text().splitlines()[1:])
        if fields[1] == wanted
    }
    if not inodes:
        return False
    with contextlib.suppress(FileNotFoundError):  # the process has ended
        return any(
            str(fd.readlink()).removeprefix("socket:[").removesuffix("]") in inodes
            for fd in Path(f"/proc/{pid}/fd").iterdir()
        )
    return False


def last_words(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:].strip() or "no output"


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
        # SIPp's own words go to a file of the agent's, read back when it fails to start.
        handle, name = tempfile.mkstemp(prefix="sipp-agent-", suffix=".log")
        os.close(handle)
        self._sipp.stderr = Path(name)
        await self._sipp.start()
        # Asterisk must not send anything before SIPp listens: wait until its port is taken.
        deadline = asyncio.get_running_loop().time() + timeout
        while self._sipp.running and not self._listening():
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.02)
        if not self._sipp.running or not self._listening():
            said = last_words(Path(name))
            await self.stop()
            raise RuntimeError(f"sipp agent {self._sipp.scenario} on {self.contact} did not start: {said}")

    def _listening(self) -> bool:
        pid = self._sipp.pid
        return pid is not None and udp_port_bound_by(pid, self.address, self.port)

    async def stop(self) -> None:
        await self._sipp.stop()
        if self._sipp.stderr is not None:
            self._sipp.stderr.unlink(missing_ok=True)
            self._sipp.stderr = None


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
