"""SIP user agents for the tests: SIPp UAS processes standing in for operator phones, supervisors and citizens'
phones reached by callbacks. Each listens on its own loopback address."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.integration.sipp import ASTERISK_SIP, SCENARIOS


class SippAgent:
    def __init__(self, scenario: str, address: str, port: int = 5070, hold_ms: int = 300) -> None:
        self.scenario = scenario
        self.address = address
        self.port = port
        self.hold_ms = hold_ms
        self._process: asyncio.subprocess.Process | None = None

    @property
    def contact(self) -> str:
        return f"sip:{self.address}:{self.port}"

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            "sipp",
            "-sf",
            str(SCENARIOS / self.scenario),
            "-i",
            self.address,
            "-p",
            str(self.port),
            "-d",
            str(self.hold_ms),
            "-nostdin",
            "-timeout",
            "300s",
            ASTERISK_SIP,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.3)  # let it bind before Asterisk sends anything
        if self._process.returncode is not None:
            raise RuntimeError(f"sipp agent {self.scenario} on {self.address}:{self.port} did not start")

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), 5)
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()


@contextlib.asynccontextmanager
async def running(*agents: SippAgent) -> AsyncIterator[None]:
    try:
        for agent in agents:
            await agent.start()
        yield
    finally:
        for agent in agents:
            await agent.stop()
