"""Operators' presence and the queue's size, live: app_queue's and the phones' AMI events onto the hub (live.py).

Queue members are named after their operator (`QueueAdd(member_name=username)`, queue/operators.py), so member
events name the operator directly. Phone events (ContactStatus, DeviceStateChange, PeerStatus) name an endpoint or
a device (`PJSIP/<name>`); they are passed on only for names app_queue has reported as members of the operators'
queue, so agency desk phones and trunks stay out. The waiting count is app_queue's own `Count` of the caller
events (QueueCallerAbandon carries none: the QueueCallerLeave that follows it does).

Each change of an operator's presence (logged in, paused and why, logged out) is also kept in operator_presence,
for the operator time in the reports. app_queue repeats the state in every member event (QueueMemberStatus fires
on each call): only a change is written. A write that fails (PostgreSQL down) is not remembered as done, so the
next member event of that operator writes the state again.
"""

from __future__ import annotations

from ntpd112.clock import utcnow
from ntpd112.live import Hub, OperatorChanged, QueueWaiting
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.reports.operator_time import Presence as MemberPresence
from ntpd112.reports.operator_time import member_presence
from ntpd112.store.presence import PresenceLog

log = get_logger(__name__)

_MEMBER_EVENTS = ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "QueueMemberStatus")
_PHONE_EVENTS = ("ContactStatus", "DeviceStateChange", "PeerStatus")
_CALLER_EVENTS = ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon")


def phone_name(event: dict[str, str]) -> str | None:
    """The endpoint a phone event is about: ContactStatus's EndpointName (or AOR), else `PJSIP/<name>` of the
    Device (DeviceStateChange) or Peer (PeerStatus)."""
    if name := event.get("EndpointName") or event.get("AOR"):
        return name
    technology, _, name = (event.get("Device") or event.get("Peer") or "").partition("/")
    return name if technology.upper() == "PJSIP" and name else None


class Presence:
    def __init__(self, hub: Hub, history: PresenceLog) -> None:
        self._hub = hub
        self._history = history
        self._members: set[str] = set()
        self._recorded: dict[str, MemberPresence] = {}

    def attach(self, ami: AmiClient) -> None:
        for name in _MEMBER_EVENTS:
            ami.on(name, self._member)
        for name in _PHONE_EVENTS:
            ami.on(name, self._phone)
        for name in _CALLER_EVENTS:
            ami.on(name, self._caller)

    async def _member(self, event: dict[str, str]) -> None:
        username = event.get("MemberName")
        if event.get("Queue") != QUEUE_NAME or not username:
            return
        if event.get("Event") == "QueueMemberRemoved":
            self._members.discard(username)
        else:
            self._members.add(username)
        self._hub.publish(OperatorChanged(username))
        await self._keep(username, member_presence(event))

    async def _keep(self, username: str, presence: MemberPresence) -> None:
        if self._recorded.get(username) == presence:
            return
        self._recorded[username] = presence  # before the write: the events of one burst write once
        try:
            await self._history.record(username, utcnow(), presence)
        except Exception as error:
            self._recorded.pop(username, None)
            log.warning("operator presence not stored", username=username, error=str(error))

    async def _phone(self, event: dict[str, str]) -> None:
        name = phone_name(event)
        if name is not None and name in self._members:
            self._hub.publish(OperatorChanged(name))

    async def _caller(self, event: dict[str, str]) -> None:
        if event.get("Queue") != QUEUE_NAME:
            return
        try:
            count = int(event.get("Count", ""))
        except ValueError:
            return
        if count >= 0:
            self._hub.publish(QueueWaiting(count))
