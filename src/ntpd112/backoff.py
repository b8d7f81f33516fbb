"""Capped exponential backoff with jitter, shared by every reconnect loop."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float, maximum: float, factor: float = 2.0) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self._current = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; grows until the cap. Jitter keeps many clients from syncing up."""
        delay = self._current
        self._current = min(self._current * self._factor, self._maximum)
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not cryptography

    def delay_after(self, failures: int) -> float:
        """The delay after `failures` failures in a row (1: the initial delay), for retries counted outside this
        object (a delivery's attempts kept in the database outlive it and the service)."""
        delay = min(self._initial * self._factor ** min(failures - 1, 64), self._maximum)
        return delay * random.uniform(0.8, 1.0)  # noqa: S311 - jitter, not cryptography

    def retry_in(self, attempt: int, max_attempts: int) -> float | None:
        """After failed attempt number `attempt` of at most `max_attempts`: the delay before the next one, or None
        when that was the last (shared by the agency webhooks and the phone notifications of tickets)."""
        return None if attempt >= max_attempts else self.delay_after(attempt)

    def reset(self) -> None:
        self._current = self._initial
