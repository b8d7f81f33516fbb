"""Run SIPp scenarios from sipp-scenarios/ against the local Asterisk, as the tests' callers and trunks."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "sipp-scenarios"
ASTERISK_SIP = "127.0.0.1:5060"
TRUNK_ADDRESSES = {
    "telkomsel": "127.0.0.11",
    "indosat": "127.0.0.12",
    "xl": "127.0.0.13",
    "smartfren": "127.0.0.14",
    "telkom": "127.0.0.15",
}


@dataclass(frozen=True)
class SippResult:
    returncode: int
    output: str

    @property
    def succeeded(self) -> bool:
        # SIPp exits 0 when every call passed the scenario, 1 when at least one failed.
        return self.returncode == 0


def free_udp_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


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
    args = [
        "sipp",
        "-sf",
        str(SCENARIOS / scenario),
        "-i",
        source,
        "-p",
        str(free_udp_port(source)),
        "-s",
        service,
        "-m",
        str(calls),
        "-d",
        str(hold_ms),
        "-nostdin",
        "-timeout",
        f"{timeout_s}s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        "/dev/stderr",
    ]
    if rate is not None:
        args += ["-r", str(rate)]
    for key, value in (keys or {}).items():
        args += ["-key", key, value]
    args += [*(extra or []), ASTERISK_SIP]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout_s + 10)
    return SippResult(process.returncode or 0, stderr.decode(errors="replace"))
