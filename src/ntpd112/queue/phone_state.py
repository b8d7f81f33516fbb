"""What an operator's phone is doing right now, from app_queue's view of its member (QueueStatus).

The console's queue badge shows this, not just "logged in and not paused": an operator on a call is not ready,
and a phone that dropped its registration must be seen at once. Wrap-up is app_queue's own rule: no queue call
rings the member until `wrapuptime` seconds after its last call ended.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from ntpd112.pbx.ami_actions import QueueMember

PhoneState = Literal["idle", "ringing", "on_call", "wrap_up", "unavailable", "unknown"]

# Asterisk's device states (include/asterisk/devicestate.h, AST_DEVICE_*).
_RINGING = frozenset({6, 7})  # RINGING, RINGINUSE
_ON_CALL = frozenset({2, 3, 8})  # INUSE, BUSY, ONHOLD
_UNAVAILABLE = frozenset({4, 5})  # INVALID, UNAVAILABLE (not registered)
_NOT_IN_USE = 1


def phone_state(
    member: QueueMember | None, now: datetime, queue_wrapup_seconds: int
) -> tuple[PhoneState, datetime | None]:
    """The member's state and, in wrap-up, when it ends. No member (not in the queue, or Asterisk did not
    answer): unknown."""
    if member is None:
        return "unknown", None
    if member.device_state in _RINGING:
        return "ringing", None
    if member.in_call or member.device_state in _ON_CALL:
        return "on_call", None
    if member.device_state in _UNAVAILABLE:
        return "unavailable", None
    wrapup = member.wrapup_seconds or queue_wrapup_seconds
    if member.last_call > 0 and wrapup > 0:
        until = datetime.fromtimestamp(member.last_call, UTC) + timedelta(seconds=wrapup)
        if now < until:
            return "wrap_up", until
    return ("idle", None) if member.device_state == _NOT_IN_USE else ("unknown", None)
