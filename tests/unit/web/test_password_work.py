"""Password checks run off the event loop one at a time: a burst of sign-ins takes at most one core."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ntpd112.web import common


async def test_checks_and_hashes_asked_at_once_run_one_after_another(monkeypatch: pytest.MonkeyPatch) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow(*_: object) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)  # argon2 would be computing here, in the worker thread
        with lock:
            running -= 1
        return True

    monkeypatch.setattr(common, "verify_password", slow)
    monkeypatch.setattr(common, "hash_password", slow)
    work = common.PasswordWork()
    results = await asyncio.gather(*(work.verify("h", "p") for _ in range(4)), work.hash("p"))
    assert results == [True] * 5
    assert most == 1
