"""Queue priority of a 112 call (pure). app_queue answers higher numbers first; nobody is ever refused."""

from __future__ import annotations

from enum import StrEnum

from ntpd112.room.config import PrioritySettings


class PriorityReason(StrEnum):
    """Why a call has the priority it has (the wallboard shows these beside the number)."""

    PRANKSTER = "prankster"
    LOCATION = "location"
    REPEAT_CALLER = "repeat_caller"
    # A supervisor raised it on the wallboard (queue/controls.py): the call's timeline has a `priority_raised`.
    SUPERVISOR = "supervisor"


def priority_reasons(*, has_location: bool, repeat_caller: bool, prankster: bool) -> list[PriorityReason]:
    # A flagged prankster waits behind everyone else but is still answered: a prank line today can be a real
    # emergency tomorrow, and 112 must never be blocked for a number. Nothing else then counts.
    if prankster:
        return [PriorityReason.PRANKSTER]
    reasons = [PriorityReason.LOCATION] if has_location else []
    return reasons + ([PriorityReason.REPEAT_CALLER] if repeat_caller else [])


def queue_priority(settings: PrioritySettings, *, has_location: bool, repeat_caller: bool, prankster: bool) -> int:
    reasons = priority_reasons(has_location=has_location, repeat_caller=repeat_caller, prankster=prankster)
    if PriorityReason.PRANKSTER in reasons:
        return settings.prankster
    raised = {PriorityReason.LOCATION: settings.with_location, PriorityReason.REPEAT_CALLER: settings.repeat_caller}
    return max([settings.base, *(raised[reason] for reason in reasons)])
