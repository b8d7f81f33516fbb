"""Queue priority of a 112 call (pure). app_queue answers higher numbers first; nobody is ever refused."""

from __future__ import annotations

from ntpd112.room.config import PrioritySettings


def queue_priority(settings: PrioritySettings, *, has_location: bool, repeat_caller: bool, prankster: bool) -> int:
    # A flagged prankster waits behind everyone else but is still answered: a prank line today can be a real
    # emergency tomorrow, and 112 must never be blocked for a number.
    if prankster:
        return settings.prankster
    priority = settings.base
    if has_location:
        priority = max(priority, settings.with_location)
    if repeat_caller:
        priority = max(priority, settings.repeat_caller)
    return priority
