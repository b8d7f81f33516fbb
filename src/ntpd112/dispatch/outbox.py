"""The loop that sends what waits in an outbox table (store/outbox.py): agency webhook deliveries and phone
notifications of tickets. It claims due rows (each leased for one attempt), runs each attempt as a tracked task,
and sleeps until the next row is due or it is woken (a row just queued).

At most `concurrency` attempts run at once: a phone notification takes minutes, and the loop keeps claiming new
rows meanwhile instead of waiting for a whole batch. An attempt that raises is logged; its row's lease ends and it
is claimed again, so no attempt is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

from ntpd112.clock import utcnow
from ntpd112.logs import get_logger
from ntpd112.tasks import TaskSet

log = get_logger(__name__)
T = TypeVar("T")
# Without a wake-up the loop looks at the table this often (a row queued by another service, a lease ended).
IDLE_POLL_SECONDS = 30.0


class OutboxLoop(Generic[T]):
    def __init__(
        self,
        name: str,
        claim: Callable[[int], Awaitable[list[T]]],
        next_due_at: Callable[[], Awaitable[datetime | None]],
        attempt: Callable[[T], Awaitable[None]],
        *,
        concurrency: int = 20,
    ) -> None:
        self._name = name
        self._claim = claim
        self._next_due_at = next_due_at
        self._attempt = attempt
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._loop_tasks = TaskSet(name)
        self._attempts = TaskSet(f"{name}-attempts")

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._loop_tasks.spawn(self._run(), name=self._name)

    async def stop(self) -> None:
        await self._loop_tasks.aclose()
        await self._attempts.aclose()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = IDLE_POLL_SECONDS
            try:
                room = self._concurrency - len(self._attempts)
                due = await self._claim(room) if room > 0 else []
                for row in due:
                    self._attempts.spawn(self._guarded(row), name=f"{self._name}-attempt")
                if due:
                    continue
                next_at = await self._next_due_at()
                if next_at is not None:
                    wait = min(max((next_at - utcnow()).total_seconds(), 0.0), IDLE_POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: the table could not be read; retrying", outbox=self._name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _guarded(self, row: T) -> None:
        try:
            await self._attempt(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox attempt not recorded; retried when its lease ends", outbox=self._name)
        finally:
            self._wake.set()  # room for one more
