"""Tracked background tasks and per-key ordered execution. No fire-and-forget: every task is kept, errors are
logged, and `aclose` cancels and awaits what is left."""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, Generic, TypeVar

from ntpd112.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")


class TaskSet:
    """`log_failures=False`: the owner reports its tasks' failures itself (each is still taken, so asyncio never
    warns that one went unretrieved)."""

    def __init__(self, name: str, *, log_failures: bool = True) -> None:
        self._name = name
        self._log_failures = log_failures
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Awaitable[Any], *, name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        if name:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self._log_failures:
            log.error("background task failed", owner=self._name, task=task.get_name(), exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        await cancel_and_wait(self._tasks)


# A cancellation can be lost: aiohttp turns a cancel that races its own request timeout into a TimeoutError
# (aio-libs/aiohttp#5979), and a loop that goes on after a timed-out request then never ends. A load test's watcher
# of the service's metrics did exactly that under a saturated Asterisk and held the harness for good.
CANCEL_AGAIN_SECONDS = 1.0


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks and wait until every one has ended, cancelling again any still running each second. What
    they raised is taken and dropped, as `gather(..., return_exceptions=True)` would."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_SECONDS)
    for task in tasks:
        if not task.cancelled():
            task.exception()


class Overloaded(Exception):
    """Refused at once: too many of the same work still run past their limit."""


class BoundedWork:
    """Work waited for at most `seconds` each. Work that overruns is not cancelled: it goes on to its own end in the
    background (a database round trip cancelled mid-flight costs far more than it saves: asyncpg cancels the query
    over a new connection and the pool replaces the connection; in a surge, intake's lookups cancelled at their
    250 ms limit took up to 15 s to give their connection back, and intake waited for them). While `max_overrunning`
    still run past their limit, new work is refused at once (Overloaded): with 1,000 calls in progress on a saturated
    machine, overrunning lookups piled up behind each other and held the pooled database connections the journal
    needs (docs/BENCHMARKS.md).

    A failure within the limit is the caller's, raised to it; one that no caller waits for any more (after the limit,
    or after the caller was cancelled) is a warning with its type (a saturated machine's timeouts, not a fault of the
    code)."""

    def __init__(self, name: str, seconds: float, max_overrunning: int) -> None:
        self._name = name
        self._tasks = TaskSet(name, log_failures=False)
        self._seconds = seconds
        self._max_overrunning = max_overrunning
        self._overrunning = 0

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        if self._overrunning >= self._max_overrunning:
            work.close()  # never started: nothing to clean up
            raise Overloaded(f"{self._overrunning} still run past their limit")
        task = self._tasks.spawn(work)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._seconds)
        except TimeoutError:
            self._overrunning += 1
            task.add_done_callback(self._overrun_ended)
            raise
        except asyncio.CancelledError:
            # The caller stopped waiting (its intake failed): the work goes on, and so does telling its failure.
            task.add_done_callback(functools.partial(self._report_failure, "work failed after its caller left"))
            raise

    def _overrun_ended(self, task: asyncio.Task[Any]) -> None:
        self._overrunning -= 1
        self._report_failure("work failed after its limit", task)

    def _report_failure(self, event: str, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning(event, owner=self._name, error=type(error).__name__)

    async def aclose(self) -> None:
        await self._tasks.aclose()


class KeyedSerialExecutor(Generic[T]):
    """Runs `handler(item)` for items of the same key strictly in submission order, keys in parallel.

    Used for ARI events: the events of one channel must be handled in order, while different calls must not wait
    for each other.
    """

    def __init__(self, handler: Callable[[T], Awaitable[None]], tasks: TaskSet) -> None:
        self._handler = handler
        self._tasks = tasks
        self._pending: dict[str, deque[T]] = {}

    def submit(self, key: str, item: T) -> None:
        queue = self._pending.get(key)
        if queue is None:
            queue = self._pending[key] = deque()
            self._tasks.spawn(self._drain(key, queue), name=f"serial:{key}")
        queue.append(item)

    @property
    def busy_keys(self) -> int:
        return len(self._pending)

    async def _drain(self, key: str, queue: deque[T]) -> None:
        try:
            while queue:
                item = queue.popleft()
                try:
                    await self._handler(item)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("handler failed", key=key)
        finally:
            # No await between the last emptiness check and this line, so no item can slip in unseen.
            del self._pending[key]
