"""Pydantic models for the ARI resources and events ntpd112 uses. Unknown fields are ignored so a newer Asterisk
does not break parsing; unknown event types become `OtherEvent`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CallerId(_Model):
    name: str = ""
    number: str = ""


class DialplanLocation(_Model):
    context: str = ""
    exten: str = ""
    priority: int = 0
    app_name: str = ""
    app_data: str = ""


class Channel(_Model):
    id: str
    name: str = ""
    state: str = ""
    caller: CallerId = CallerId()
    connected: CallerId = CallerId()
    dialplan: DialplanLocation = DialplanLocation()
    creationtime: datetime | None = None
    language: str = ""
    # The variables ari.conf's `channelvars` lists (pbx/names.py INTAKE_CHANNEL_VARIABLES), as Asterisk read them
    # when it made this snapshot of the channel.
    channelvars: dict[str, str] = Field(default_factory=dict)


class _Event(_Model):
    type: str
    application: str = ""
    timestamp: datetime | None = None
    asterisk_id: str | None = None


class StasisStart(_Event):
    type: Literal["StasisStart"]
    channel: Channel
    args: list[str] = Field(default_factory=list)
    replace_channel: Channel | None = None


class StasisEnd(_Event):
    type: Literal["StasisEnd"]
    channel: Channel


class ChannelStateChange(_Event):
    type: Literal["ChannelStateChange"]
    channel: Channel


class ChannelHangupRequest(_Event):
    type: Literal["ChannelHangupRequest"]
    channel: Channel
    cause: int | None = None
    # True when Asterisk itself asked the channel to hang up (ast_softhangup); absent for a hangup from the far end.
    soft: bool = False


class ChannelDestroyed(_Event):
    type: Literal["ChannelDestroyed"]
    channel: Channel
    cause: int = 0
    cause_txt: str = ""


class ApplicationReplaced(_Event):
    type: Literal["ApplicationReplaced"]


class OtherEvent(_Event):
    model_config = ConfigDict(extra="allow", frozen=True)


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelHangupRequest
    | ChannelDestroyed
    | ApplicationReplaced
    | OtherEvent
)

_EVENT_TYPES: dict[str, type[_Event]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        StasisStart,
        StasisEnd,
        ChannelStateChange,
        ChannelHangupRequest,
        ChannelDestroyed,
        ApplicationReplaced,
    )
}


# The event types the service acts on: the application's event filter lets only these through (AriClient), so a
# call waiting in the queue does not send the service a ChannelVarset or ChannelDialplan event for every step.
HANDLED_EVENT_TYPES = tuple(_EVENT_TYPES)


class AriEventError(ValueError):
    pass


def parse_event(payload: dict[str, Any]) -> AriEvent:
    event_type = payload.get("type")
    if not isinstance(event_type, str):
        raise AriEventError("event without a type")
    model = _EVENT_TYPES.get(event_type, OtherEvent)
    try:
        return model.model_validate(payload)  # type: ignore[return-value]
    except ValidationError as error:
        raise AriEventError(f"{event_type}: {error.errors()[0]['msg']}") from None


def event_channel_id(event: AriEvent) -> str | None:
    channel = getattr(event, "channel", None)
    return channel.id if isinstance(channel, Channel) else None
