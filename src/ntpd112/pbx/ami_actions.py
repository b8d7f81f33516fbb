"""The AMI actions the service sends, one frozen dataclass each, and the typed replies its callers read.

An action knows its wire headers and how to read Asterisk's answer, so no caller builds a header dict or reads a
header by name. Send one with `AmiClient.send` (any answer) or `AmiClient.require` (a refusal raises `AmiRefused`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Reply:
    """Asterisk's one response to an action: success or not, its message, and its headers for actions that return
    data."""

    success: bool
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: Any) -> Reply:
        return cls(bool(response.success), str(response.get("Message") or ""), dict(response))


class AmiAction(Generic[R]):
    name: ClassVar[str]
    # True only for actions answered by a list of events: panoramisk is then told to collect them. Every other
    # action is sent with as_list=False, because panoramisk's guess waits forever for more after some single
    # responses (QueueAdd's "Added interface ... to queue").
    collects_events: ClassVar[bool] = False

    def fields(self) -> dict[str, str]:
        """The action's headers other than `Action`."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {"Action": self.name, **self.fields()}

    def reply(self, response: Any) -> R:
        raise NotImplementedError


class Acknowledged(AmiAction[Reply]):
    """An action answered by one success-or-error response."""

    def reply(self, response: Any) -> Reply:
        return Reply.of(response)


def _flag(value: bool) -> str:
    return "true" if value else "false"


# -- app_queue ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueAdd(Acknowledged):
    name: ClassVar[str] = "QueueAdd"
    queue: str
    interface: str
    member_name: str
    paused: bool = False
    reason: str | None = None  # why the member is paused

    def fields(self) -> dict[str, str]:
        fields = {
            "Queue": self.queue,
            "Interface": self.interface,
            "MemberName": self.member_name,
            # Device state of the phone itself, so app_queue does not ring an operator who is already on a call.
            "StateInterface": self.interface,
            "Paused": _flag(self.paused),
        }
        if self.reason:
            fields["Reason"] = self.reason
        return fields


@dataclass(frozen=True)
class QueueRemove(Acknowledged):
    name: ClassVar[str] = "QueueRemove"
    queue: str
    interface: str
    # Removing someone who is not a member counts as done: app_queue refuses it with "...: Not there".
    absent_ok: bool = False

    def fields(self) -> dict[str, str]:
        return {"Queue": self.queue, "Interface": self.interface}

    def reply(self, response: Any) -> Reply:
        reply = Reply.of(response)
        if self.absent_ok and not reply.success and "Not there" in reply.message:
            return Reply(True, reply.message, reply.headers)
        return reply


@dataclass(frozen=True)
class QueuePause(Acknowledged):
    name: ClassVar[str] = "QueuePause"
    queue: str
    interface: str
    paused: bool
    reason: str | None = None

    def fields(self) -> dict[str, str]:
        fields = {"Queue": self.queue, "Interface": self.interface, "Paused": _flag(self.paused)}
        if self.reason:
            fields["Reason"] = self.reason
        return fields


@dataclass(frozen=True)
class QueueMember:
    """One member of a queue as QueueStatus reports it."""

    interface: str
    paused: bool
    in_call: bool
    dynamic: bool  # added over AMI (QueueAdd), not configured in queues.conf
    # The phone's device state as app_queue sees it (AST_DEVICE_*: 1 not in use, 2 in use, 6 ringing, ...).
    device_state: int = 0
    # When the member's last queue call ended (Unix seconds, 0: none yet): its wrap-up runs from there.
    last_call: int = 0
    # The member's own wrap-up (0: the queue's wrapuptime applies).
    wrapup_seconds: int = 0

    @classmethod
    def of(cls, event: Mapping[str, str]) -> QueueMember:
        return cls(
            # Location is the member's interface; older Asterisk versions called it Interface.
            interface=str(event.get("Location") or event.get("Interface")),
            paused=event.get("Paused") == "1",
            in_call=event.get("InCall") == "1",
            dynamic=event.get("Membership") == "dynamic",
            device_state=_number(event.get("Status")),
            last_call=_number(event.get("LastCall")),
            wrapup_seconds=_number(event.get("Wrapuptime")),
        )


def _number(value: str | None) -> int:
    """A counter or state of an AMI event; absent or garbled reads as 0 (unknown, never)."""
    try:
        return max(int(value or "0"), 0)
    except ValueError:
        return 0


@dataclass(frozen=True)
class QueueStatus(AmiAction[dict[str, QueueMember]]):
    """app_queue's view of a queue: its members, by interface."""

    name: ClassVar[str] = "QueueStatus"
    collects_events: ClassVar[bool] = True
    queue: str

    def fields(self) -> dict[str, str]:
        return {"Queue": self.queue}

    def reply(self, response: Any) -> dict[str, QueueMember]:
        members = (QueueMember.of(event) for event in response if event.get("Event") == "QueueMember")
        return {member.interface: member for member in members}


@dataclass(frozen=True)
class QueueCaller:
    """One caller waiting in a queue as QueueStatus reports it (a QueueEntry event)."""

    uniqueid: str
    channel: str
    position: int  # 1: the head of the queue
    priority: int
    wait_seconds: int

    @classmethod
    def of(cls, event: Mapping[str, str]) -> QueueCaller:
        return cls(
            uniqueid=str(event.get("Uniqueid") or ""),
            channel=str(event.get("Channel") or ""),
            position=_number(event.get("Position")),
            priority=_number(event.get("Priority")),
            wait_seconds=_number(event.get("Wait")),
        )


@dataclass(frozen=True)
class QueueCallers(AmiAction[dict[str, QueueCaller]]):
    """The callers waiting in a queue, by uniqueid: the QueueEntry events of a QueueStatus."""

    name: ClassVar[str] = "QueueStatus"
    collects_events: ClassVar[bool] = True
    queue: str

    def fields(self) -> dict[str, str]:
        return {"Queue": self.queue}

    def reply(self, response: Any) -> dict[str, QueueCaller]:
        callers = (QueueCaller.of(event) for event in response if event.get("Event") == "QueueEntry")
        return {caller.uniqueid: caller for caller in callers if caller.uniqueid and caller.channel}


@dataclass(frozen=True)
class QueueChangePriorityCaller(Acknowledged):
    """A waiting caller's priority. `Immediate` moves them to the place the new priority gives at once; without it
    app_queue keeps the position and only the next join would use the priority."""

    name: ClassVar[str] = "QueueChangePriorityCaller"
    queue: str
    channel: str
    priority: int

    def fields(self) -> dict[str, str]:
        return {"Queue": self.queue, "Caller": self.channel, "Priority": str(self.priority), "Immediate": "yes"}


# Asterisk's device state names (ast_devstate_str) as app_queue's and DeviceStateChange's constants.
_DEVICE_STATES = {
    "Not in use": "NOT_INUSE",
    "In use": "INUSE",
    "Busy": "BUSY",
    "Invalid": "INVALID",
    "Unavailable": "UNAVAILABLE",
    "Ringing": "RINGING",
    "Ring+Inuse": "RINGINUSE",
    "On Hold": "ONHOLD",
}


@dataclass(frozen=True)
class PhoneState:
    device_state: str  # NOT_INUSE, INUSE, RINGING, UNAVAILABLE, ... (UNKNOWN for anything else)
    registered: bool  # the endpoint has a contact (a registration or a static contact)


@dataclass(frozen=True)
class PjsipShowEndpoints(AmiAction[dict[str, PhoneState]]):
    """Every PJSIP endpoint's device state and whether it has a contact, by endpoint name: operators logged out of
    the queue included. (Not DeviceStateList: it lives in res_manager_devicestate, which the room's modules.conf
    does not load; an unknown action answers an error that panoramisk, told to collect a list, waits past.)"""

    name: ClassVar[str] = "PJSIPShowEndpoints"
    collects_events: ClassVar[bool] = True

    def fields(self) -> dict[str, str]:
        return {}

    def reply(self, response: Any) -> dict[str, PhoneState]:
        return {
            str(event["ObjectName"]): PhoneState(
                _DEVICE_STATES.get(str(event.get("DeviceState")), "UNKNOWN"), bool(event.get("Contacts"))
            )
            for event in response
            if event.get("Event") == "EndpointList" and event.get("ObjectName")
        }


# -- AstDB ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DBPut(Acknowledged):
    name: ClassVar[str] = "DBPut"
    family: str
    key: str
    value: str

    def fields(self) -> dict[str, str]:
        return {"Family": self.family, "Key": self.key, "Val": self.value}


@dataclass(frozen=True)
class DBDel(Acknowledged):
    name: ClassVar[str] = "DBDel"
    family: str
    key: str

    def fields(self) -> dict[str, str]:
        return {"Family": self.family, "Key": self.key}


# -- channels -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setvar(Acknowledged):
    """Set a channel variable, or a global one when no channel is given."""

    name: ClassVar[str] = "Setvar"
    variable: str
    value: str
    channel: str | None = None

    def fields(self) -> dict[str, str]:
        fields = {"Variable": self.variable, "Value": self.value}
        if self.channel is not None:
            fields["Channel"] = self.channel
        return fields


@dataclass(frozen=True)
class Getvar(AmiAction[str | None]):
    """A channel's variable (or dialplan function); None when Asterisk refuses (no such channel)."""

    name: ClassVar[str] = "Getvar"
    channel: str
    variable: str

    def fields(self) -> dict[str, str]:
        return {"Channel": self.channel, "Variable": self.variable}

    def reply(self, response: Any) -> str | None:
        return str(response.get("Value") or "") if response.success else None


@dataclass(frozen=True)
class DialplanLocation:
    context: str
    exten: str
    priority: int = 1


@dataclass(frozen=True)
class Redirect(Acknowledged):
    """Send a channel to a place in the dialplan; `extra` moves a second channel (its bridged peer) in the same
    step, so neither is left alone in the bridge."""

    name: ClassVar[str] = "Redirect"
    channel: str
    to: DialplanLocation
    extra: tuple[str, DialplanLocation] | None = None

    def fields(self) -> dict[str, str]:
        fields = {
            "Channel": self.channel,
            "Context": self.to.context,
            "Exten": self.to.exten,
            "Priority": str(self.to.priority),
        }
        if self.extra is not None:
            channel, to = self.extra
            fields |= {
                "ExtraChannel": channel,
                "ExtraContext": to.context,
                "ExtraExten": to.exten,
                "ExtraPriority": str(to.priority),
            }
        return fields


@dataclass(frozen=True)
class Originate(Acknowledged):
    """Ring `channel` and, once it answers, run it from `to`. Always asynchronous: the outcome comes later as an
    OriginateResponse event carrying `action_id`."""

    name: ClassVar[str] = "Originate"
    channel: str
    to: DialplanLocation
    action_id: str
    caller_id: str
    ring_seconds: int = 30
    variables: Mapping[str, str] = field(default_factory=dict)
    # The uniqueid the new channel gets (AMI's ChannelId): the caller knows its channel before it exists.
    channel_id: str | None = None

    def fields(self) -> dict[str, str]:
        fields = {
            "Channel": self.channel,
            "Context": self.to.context,
            "Exten": self.to.exten,
            "Priority": str(self.to.priority),
            "Timeout": str(self.ring_seconds * 1000),
            "Async": "true",
            "CallerID": self.caller_id,
            "ActionID": self.action_id,
        }
        if self.variables:
            # One Variable header with comma-separated pairs: Asterisk splits it; values must hold no comma.
            fields["Variable"] = ",".join(f"{name}={value}" for name, value in self.variables.items())
        if self.channel_id is not None:
            fields["ChannelId"] = self.channel_id
        return fields


@dataclass(frozen=True)
class Hangup(Acknowledged):
    name: ClassVar[str] = "Hangup"
    channel: str  # the channel's name or its uniqueid (Asterisk looks a channel up by either)

    def fields(self) -> dict[str, str]:
        return {"Channel": self.channel}


@dataclass(frozen=True)
class ChannelInfo:
    """One live channel as CoreShowChannels reports it."""

    name: str  # e.g. PJSIP/budi-0000002a
    uniqueid: str
    state: str  # ChannelStateDesc: Up, Ringing, Ring, Down, ...
    context: str
    application: str  # the dialplan application running now (ChanSpy, Queue, AppDial, ...)
    application_data: str
    bridge_id: str  # empty when the channel is in no bridge

    @classmethod
    def of(cls, event: Mapping[str, str]) -> ChannelInfo:
        return cls(
            name=str(event.get("Channel") or ""),
            uniqueid=str(event.get("Uniqueid") or ""),
            state=str(event.get("ChannelStateDesc") or ""),
            context=str(event.get("Context") or ""),
            application=str(event.get("Application") or ""),
            application_data=str(event.get("ApplicationData") or ""),
            bridge_id=str(event.get("BridgeId") or ""),
        )

    @property
    def endpoint(self) -> str | None:
        """The PJSIP endpoint of the channel (PJSIP/<endpoint>-<8 hex digits>); None for any other technology."""
        technology, _, rest = self.name.partition("/")
        if technology != "PJSIP" or "-" not in rest:
            return None
        return rest.rsplit("-", 1)[0]


@dataclass(frozen=True)
class CoreShowChannels(AmiAction[list[ChannelInfo]]):
    """Every live channel. (Needs the `system` write class, which the service's AMI user has for DBPut.)"""

    name: ClassVar[str] = "CoreShowChannels"
    collects_events: ClassVar[bool] = True

    def fields(self) -> dict[str, str]:
        return {}

    def reply(self, response: Any) -> list[ChannelInfo]:
        return [ChannelInfo.of(event) for event in response if event.get("Event") == "CoreShowChannel"]


# -- the system -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reload(Acknowledged):
    """Reload one module. Needs only the `system` privilege; the `Command` action would need `command`, a whole
    Asterisk CLI."""

    name: ClassVar[str] = "Reload"
    module: str

    def fields(self) -> dict[str, str]:
        return {"Module": self.module}


@dataclass(frozen=True)
class Events(Acknowledged):
    """Which event classes this session receives ("off": none)."""

    name: ClassVar[str] = "Events"
    event_mask: str

    def fields(self) -> dict[str, str]:
        return {"EventMask": self.event_mask}


@dataclass(frozen=True)
class Ping(Acknowledged):
    name: ClassVar[str] = "Ping"

    def fields(self) -> dict[str, str]:
        return {}
