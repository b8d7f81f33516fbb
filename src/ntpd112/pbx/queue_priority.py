"""A caller's queue priority changed from outside the dialplan (AMI), by intake's late lookups and by supervisors."""

from __future__ import annotations

from ntpd112.pbx.ami import AmiClient, AmiRefused
from ntpd112.pbx.ami_actions import QueueChangePriorityCaller, Setvar
from ntpd112.pbx.names import QUEUE_NAME, QUEUE_PRIORITY_VARIABLE


async def change_queue_priority(ami: AmiClient, channel: str, priority: int) -> bool:
    """The channel's QUEUE_PRIO first, then the caller's place in the queue. True when the caller was waiting in the
    queue and moved; False when they were not in it (not yet joined, or answered, or overflowing): the variable then
    gives the priority at their next join, since Queue() reads it only when it starts. Raises AmiError when the
    channel is gone or Asterisk cannot be asked."""
    await ami.require(Setvar(QUEUE_PRIORITY_VARIABLE, str(priority), channel=channel))
    try:
        await ami.require(QueueChangePriorityCaller(QUEUE_NAME, channel, priority))
    except AmiRefused:
        return False
    return True
