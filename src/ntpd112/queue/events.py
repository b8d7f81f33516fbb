"""app_queue's AMI events joined to the calls: who was rung, who answered and how fast, who hung up waiting.

Events of a call the service never saw (it was down when the call came in, or restarted since) still land on that
call's record: the journal creates the row from the uniqueid alone, and reconciliation fills in the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ntpd112.clock import utcnow
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.store.journal import Journal

log = get_logger(__name__)


@dataclass
class _Waiting:
    ring_attempts: int = 0


# Asterisk quirk: app_queue reports a caller whose wait ran out (Queue()'s timeout: the room's overflow wait) or
# whose queue emptied (leavewhenempty: every operator paused or gone) as a QueueCallerAbandon, exactly like one who
# hung up; app_queue.c calls record_abandoned() for all three (its queue log does tell them apart: EXITWITHTIMEOUT,
# EXITEMPTY, ABANDON). Such a caller did not hang up: the dialplan goes on to the overflow, and its UserEvent
# Ntpd112Overflow follows in the same AMI stream. So a caller the service follows is recorded as abandoned when their
# call ends (the call handler always tells: ChannelDestroyed, or its resync after a reconnect), unless the overflow
# came first; taken for abandons, every overflowed caller went onto the callback list and into the abandoned count.
@dataclass
class _Unconfirmed:
    """A QueueCallerAbandon of a caller still on the line: the caller hanging up, or the overflow, decides."""

    wait: float | None
    position: str | None


def _seconds(value: str | None, scale: float = 1.0) -> float | None:
    try:
        return round(float(value or "") * scale, 3)
    except ValueError:
        return None


def record_abandoned(journal: Journal, uniqueid: str, wait: float | None, position: str | None) -> None:
    """The caller hung up before any operator answered (in the queue, or while a supervisor's pull rang a phone):
    onto the callback list."""
    call_id = journal.record_call(
        uniqueid,
        abandoned_at=utcnow(),
        wait_seconds=wait,
        callback_status="pending",
        callback_reason="abandoned",
    )
    journal.record_event(call_id, "abandoned", {"wait_seconds": wait, "position": position})
    log.info("caller abandoned the queue; added to the callback list", uniqueid=uniqueid, wait_seconds=wait)


class PendingPulls:
    """The callers a supervisor is pulling out of the queue right now (queue/controls.py), by uniqueid.

    Asterisk quirk: app_queue reports a caller that an AMI Redirect takes out of Queue() as a QueueCallerAbandon,
    exactly like one who hung up (the redirect ends Queue()'s wait the way a hangup does). A pulled caller did not
    hang up and must not land on the callback list or count as abandoned: the control marks the caller here before
    the Redirect, and the recorder takes the mark back when that abandon arrives."""

    def __init__(self) -> None:
        self._uniqueids: set[str] = set()

    def add(self, uniqueid: str) -> None:
        self._uniqueids.add(uniqueid)

    def discard(self, uniqueid: str) -> None:
        self._uniqueids.discard(uniqueid)

    def take(self, uniqueid: str) -> bool:
        """Whether the caller was being pulled (and is no more after this)."""
        pulled = uniqueid in self._uniqueids
        self._uniqueids.discard(uniqueid)
        return pulled


class QueueEventRecorder:
    def __init__(
        self,
        journal: Journal,
        pulls: PendingPulls | None = None,
        *,
        on_the_line: Callable[[str], bool],
    ) -> None:
        """`on_the_line(uniqueid)`: whether the service follows that caller's call and it has not ended (the call
        handler then tells `call_ended`)."""
        self._journal = journal
        self._pulls = pulls or PendingPulls()
        self._waiting: dict[str, _Waiting] = {}
        self._on_the_line = on_the_line
        self._unconfirmed: dict[str, _Unconfirmed] = {}

    def call_ended(self, uniqueid: str) -> None:
        """The caller's call ended: an abandon reported while they were on the line was theirs."""
        if (abandon := self._unconfirmed.pop(uniqueid, None)) is not None:
            record_abandoned(self._journal, uniqueid, abandon.wait, abandon.position)

    def stop(self) -> None:
        """Record the abandons still undecided: when in doubt, the caller is called back."""
        for uniqueid in list(self._unconfirmed):
            self.call_ended(uniqueid)

    def attach(self, ami: AmiClient) -> None:
        for name, handler in {
            "QueueCallerJoin": self._joined,
            "AgentCalled": self._agent_called,
            "AgentRingNoAnswer": self._ring_no_answer,
            "AgentConnect": self._connected,
            "AgentComplete": self._completed,
            "QueueCallerAbandon": self._abandoned,
            "QueueCallerLeave": self._left,
            "UserEvent": self._user_event,
        }.items():
            ami.on(name, handler)

    def _ours(self, event: dict[str, str]) -> str | None:
        uniqueid = event.get("Uniqueid")
        if not uniqueid or event.get("Queue", QUEUE_NAME) != QUEUE_NAME:
            return None
        return uniqueid

    def _event(self, uniqueid: str, event_type: str, data: dict[str, object], **call_fields: object) -> None:
        # Creates the call row if the service never saw this call; sets nothing else unless given.
        call_id = self._journal.record_call(uniqueid, **call_fields)
        self._journal.record_event(call_id, event_type, data)

    async def _joined(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        self._waiting[uniqueid] = _Waiting()
        self._event(
            uniqueid,
            "queue_joined",
            {"position": event.get("Position"), "count": event.get("Count")},
            queue_joined_at=utcnow(),
        )

    async def _agent_called(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        waiting = self._waiting.setdefault(uniqueid, _Waiting())
        waiting.ring_attempts += 1
        self._event(
            uniqueid,
            "operator_ringing",
            {"operator": event.get("MemberName"), "interface": event.get("Interface")},
            ring_attempts=waiting.ring_attempts,
        )

    async def _ring_no_answer(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        self._event(
            uniqueid,
            "operator_no_answer",
            {"operator": event.get("MemberName"), "ring_seconds": _seconds(event.get("RingTime"), 0.001)},
        )

    async def _connected(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        waiting = self._waiting.pop(uniqueid, _Waiting())
        wait = _seconds(event.get("HoldTime"))
        self._event(
            uniqueid,
            "operator_answered",
            {
                "operator": event.get("MemberName"),
                "wait_seconds": wait,
                "ring_seconds": _seconds(event.get("RingTime")),
                "ring_attempts": waiting.ring_attempts,
            },
            operator=event.get("MemberName"),
            operator_answered_at=utcnow(),
            wait_seconds=wait,
        )

    async def _completed(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        talk = _seconds(event.get("TalkTime"))
        self._event(
            uniqueid,
            "operator_call_completed",
            {"operator": event.get("MemberName"), "talk_seconds": talk, "ended_by": event.get("Reason")},
            talk_seconds=talk,
        )

    async def _abandoned(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        self._waiting.pop(uniqueid, None)
        if self._pulls.take(uniqueid):
            self._event(uniqueid, "queue_left", {"reason": "pulled", "position": event.get("Position")})
            return
        wait, position = _seconds(event.get("HoldTime")), event.get("Position")
        if not self._on_the_line(uniqueid):  # ended already, or a call the service does not follow
            record_abandoned(self._journal, uniqueid, wait, position)
            return
        self._unconfirmed[uniqueid] = _Unconfirmed(wait, position)

    async def _left(self, event: dict[str, str]) -> None:
        if (uniqueid := self._ours(event)) is None:
            return
        self._waiting.pop(uniqueid, None)

    async def _user_event(self, event: dict[str, str]) -> None:
        kind = event.get("UserEvent", "")
        uniqueid = event.get("Uniqueid")
        if kind == "Ntpd112Overflow" and uniqueid:
            if (left := self._unconfirmed.pop(uniqueid, None)) is not None:  # not an abandon: the wait ran out
                reason: dict[str, object] = {"reason": "overflow", "position": left.position}
                self._event(uniqueid, "queue_left", reason, wait_seconds=left.wait)
            self._event(uniqueid, "overflow", {"queue_status": event.get("QueueStatus")})
        elif kind == "Ntpd112Backup" and uniqueid:
            self._event(uniqueid, "overflow_backup", {"supervisors_dial_status": event.get("DialStatus")})
