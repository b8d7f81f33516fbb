"""The in-process event hub: what changed, for whoever listens live (the console's and the agency screen's websocket,
web/stream_routes.py).

Publishers (the journal after a commit, the direct writers, the queue's AMI presence) call `Hub.publish`, which
never waits: every subscriber has a bounded queue of its own. A subscriber that falls behind (a slow browser) is
marked `overflowed` and its pending events are dropped: it must resynchronise from the REST API, which it also does
after every reconnect. Events say only *what* changed (a call, an operator, the queue's size, a ticket), never the
data: the client re-reads that, so nothing personal travels through here and a lost event costs only a refetch.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_QUEUE_SIZE = 256


@dataclass(frozen=True)
class CallActivity:
    """Something about a call was committed: its events (types), the operators named in them, and among those the
    operators rung (`operator_ringing`) and the one who answered (`operator_answered`)."""

    call_id: uuid.UUID
    event_types: frozenset[str]
    operators: frozenset[str] = frozenset()
    rung: frozenset[str] = frozenset()
    answered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OperatorChanged:
    """An operator's queue membership, pause or phone changed (re-read GET /api/operators)."""

    username: str


@dataclass(frozen=True)
class QueueWaiting:
    """The number of callers now waiting in the operators' queue."""

    count: int


@dataclass(frozen=True)
class TicketChanged:
    """A ticket was created, moved along its flow or commented on (re-read GET /api/tickets)."""

    ticket_id: uuid.UUID
    agency: str


Event = CallActivity | OperatorChanged | QueueWaiting | TicketChanged


class Overflowed(Exception):
    """The subscriber fell behind and lost events: it must resynchronise."""


class Subscription:
    def __init__(self, hub: Hub, maxsize: int) -> None:
        self._hub = hub
        self._events: deque[Event] = deque()
        self._maxsize = maxsize
        self._ready = asyncio.Event()
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        if len(self._events) >= self._maxsize:
            # Dropping only the oldest would leave the client silently wrong; it resyncs instead.
            self.overflowed = True
            self._events.clear()
        else:
            self._events.append(event)
        self._ready.set()

    async def get(self) -> Event:
        """The next event; raises Overflowed once the subscriber has lost events."""
        while not self._events:
            if self.overflowed:
                raise Overflowed
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()

    @property
    def pending(self) -> int:
        return len(self._events)

    def close(self) -> None:
        self._hub.unsubscribe(self)


class Hub:
    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        # The last count the queue reported, for a subscriber that just arrived (0 until app_queue says otherwise).
        self.queue_waiting = 0

    def publish(self, event: Event) -> None:
        if isinstance(event, QueueWaiting):
            self.queue_waiting = event.count
        for subscriber in list(self._subscribers):
            subscriber.offer(event)

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription(self, self._queue_size)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            subscription.close()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
