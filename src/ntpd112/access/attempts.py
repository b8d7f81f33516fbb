"""Failed attempts per key (a username, a source address) in a sliding window: after `limit` failures within
`window` seconds the key is refused until the oldest of them leaves the window.

Kept in memory: right for one service process (a restart forgets the counts, which only shortens a lock-out).
Several processes behind one address would each count on their own.
"""

from __future__ import annotations

from collections import deque

# A flood of distinct keys (addresses, made-up usernames) must not grow memory without bound: past this many keys
# the ones whose failures have all left the window are dropped, then the oldest.
MAX_KEYS = 20_000


class AttemptLimiter:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds until `key` may try again, or None when it may try now."""
        failures = self._recent(key, now)
        if len(failures) < self.limit:
            return None
        return max(failures[-self.limit] + self.window - now, 0.001)

    def failed(self, key: str, now: float) -> None:
        if key not in self._failures and len(self._failures) >= MAX_KEYS:
            self._forget_old(now)
        failures = self._failures.setdefault(key, deque())
        failures.append(now)
        while len(failures) > self.limit:
            failures.popleft()

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def _forget_old(self, now: float) -> None:
        for key in [k for k, failures in self._failures.items() if not failures or failures[-1] <= now - self.window]:
            del self._failures[key]
        while len(self._failures) >= MAX_KEYS:
            del self._failures[next(iter(self._failures))]
