"""SIP user agents for the tests: SIPp UAS processes (ntpd112.devtools.sipp.SippAgent) standing in for operator phones,
supervisors and citizens' phones reached by callbacks. Each listens on its own loopback address."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ntpd112.devtools.sipp import SippAgent

__all__ = ["SippAgent", "running"]


@contextlib.asynccontextmanager
async def running(*agents: SippAgent) -> AsyncIterator[None]:
    try:
        for agent in agents:
            await agent.start()
        yield
    finally:
        for agent in agents:
            await agent.stop()
