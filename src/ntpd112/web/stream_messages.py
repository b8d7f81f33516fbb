"""The live stream protocol (GET /api/stream) of the console and the agency screen: the frames both ways, and what
one connection is told.

Every frame is one JSON object with a `type`. The server says only what changed; the client re-reads it over REST
(and resyncs everything after `hello`). A listener is the pure part of a connection: it turns hub events into the
frames this user gets and applies the client's frames. Staff connections have a `Listener` (calls, operators, the
queue, every ticket); an agency user's an `AgencyListener`: their own agency's tickets and nothing else, since an
agency must not learn about calls.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ntpd112.live import CallActivity, Event, OperatorChanged, QueueWaiting, TicketChanged

MAX_WATCHES = 50
# The call events that change the callback list (queue/events.py, queue/callbacks.py).
# Events that put a call on the callback list or take it off (a dead line's release, an Asterisk restart's drop too).
CALLBACK_EVENTS = frozenset(
    {"abandoned", "callback_requested", "callback_started", "callback_finished", "caller_media_lost", "caller_dropped"}
)


# -- server -> client --------------------------------------------------------------------------------------


class HelloMessage(BaseModel):
    """First frame of every connection; the client then resyncs from the REST API."""

    type: Literal["hello"] = "hello"
    user: str
    server_time: datetime  # UTC


class CardMessage(BaseModel):
    """This user's phone rings with the call, or they answered it: show its card (screen pop)."""

    type: Literal["card"] = "card"
    call_id: uuid.UUID
    reason: Literal["ringing", "answered"]


class CallChangedMessage(BaseModel):
    """Something about a call this connection follows was committed: re-read GET /api/calls/{call_id}."""

    type: Literal["call_changed"] = "call_changed"
    call_id: uuid.UUID


class OperatorChangedMessage(BaseModel):
    """An operator's queue state or phone changed: re-read GET /api/operators."""

    type: Literal["operator_changed"] = "operator_changed"
    username: str


class QueueMessage(BaseModel):
    """Callers now waiting in the operators' queue."""

    type: Literal["queue"] = "queue"
    waiting: int


class CallbacksChangedMessage(BaseModel):
    """A call went onto the callback list or an item changed (taken, finished): re-read GET /api/callbacks."""

    type: Literal["callbacks_changed"] = "callbacks_changed"


class TicketsChangedMessage(BaseModel):
    """A ticket was created, moved or commented on: re-read GET /api/tickets (and the ticket if it is open)."""

    type: Literal["tickets_changed"] = "tickets_changed"
    ticket_id: uuid.UUID


class RoomChangedMessage(BaseModel):
    """Something about a call was committed (any call: the connection follows the room, as the wallboard does):
    re-read GET /api/wallboard."""

    type: Literal["room_changed"] = "room_changed"
    call_id: uuid.UUID


class ResyncMessage(BaseModel):
    """The connection fell behind and lost frames; the server closes it (4409): refetch and reconnect."""

    type: Literal["resync"] = "resync"


class ErrorMessage(BaseModel):
    """A client frame was refused; the connection stays open."""

    type: Literal["error"] = "error"
    id: str
    message: str


ServerMessage = Annotated[
    HelloMessage
    | CardMessage
    | CallChangedMessage
    | OperatorChangedMessage
    | QueueMessage
    | CallbacksChangedMessage
    | TicketsChangedMessage
    | RoomChangedMessage
    | ResyncMessage
    | ErrorMessage,
    Field(discriminator="type"),
]
SERVER_MESSAGE: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


# -- client -> server --------------------------------------------------------------------------------------


class WatchMessage(BaseModel):
    """Follow a call: its changes come as call_changed frames."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["watch"]
    call_id: uuid.UUID


class UnwatchMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["unwatch"]
    call_id: uuid.UUID


class FollowRoomMessage(BaseModel):
    """Follow every call of the room (supervisors: the wallboard): their changes come as room_changed frames."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["follow_room"]


ClientMessage = Annotated[WatchMessage | UnwatchMessage | FollowRoomMessage, Field(discriminator="type")]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def encode(message: BaseModel) -> str:
    return message.model_dump_json()


class Listener:
    """What one staff connection of `user` follows: the calls they were rung for or answered, the calls watched,
    the queue, operators (their own; a supervisor's: all) and every ticket; a supervisor may follow the whole
    room (every call's changes)."""

    def __init__(self, user: str, supervisor: bool, max_watches: int = MAX_WATCHES) -> None:
        self.user = user
        self.supervisor = supervisor
        self.max_watches = max_watches
        self.own_calls: set[uuid.UUID] = set()
        self.watched: set[uuid.UUID] = set()
        self.follows_room = False

    def opening(self, queue_waiting: int) -> list[BaseModel]:
        """The frames after `hello`."""
        return [QueueMessage(waiting=queue_waiting)]

    def messages_for(self, event: Event) -> list[BaseModel]:
        if isinstance(event, QueueWaiting):
            return [QueueMessage(waiting=event.count)]
        if isinstance(event, TicketChanged):
            return [TicketsChangedMessage(ticket_id=event.ticket_id)]
        if isinstance(event, OperatorChanged):
            mine = event.username == self.user or self.supervisor
            return [OperatorChangedMessage(username=event.username)] if mine else []
        return self._call_messages(event)

    def _call_messages(self, activity: CallActivity) -> list[BaseModel]:
        # Every operator sees the room's one callback list.
        callbacks: list[BaseModel] = [CallbacksChangedMessage()] if activity.event_types & CALLBACK_EVENTS else []
        room: list[BaseModel] = [RoomChangedMessage(call_id=activity.call_id)] if self.follows_room else []
        return callbacks + room + self._own_call_messages(activity)

    def _own_call_messages(self, activity: CallActivity) -> list[BaseModel]:
        cards: list[BaseModel] = []
        if self.user in activity.rung:
            cards.append(CardMessage(call_id=activity.call_id, reason="ringing"))
        if self.user in activity.answered:
            cards.append(CardMessage(call_id=activity.call_id, reason="answered"))
        if cards:
            # A card makes the client read the call anyway: no call_changed besides.
            self.own_calls.add(activity.call_id)
            return cards
        if activity.call_id in self.own_calls or activity.call_id in self.watched:
            return [CallChangedMessage(call_id=activity.call_id)]
        return []

    def receive(self, text: str) -> ErrorMessage | None:
        """Apply a client frame; an error frame to send back when it is refused."""
        try:
            message = CLIENT_MESSAGE.validate_json(text)
        except ValidationError:
            return ErrorMessage(
                id="bad_message",
                message='send {"type": "watch" | "unwatch", "call_id": "<uuid>"} or {"type": "follow_room"}',
            )
        if isinstance(message, FollowRoomMessage):
            if not self.supervisor:
                return ErrorMessage(id="forbidden", message="only supervisors follow the whole room")
            self.follows_room = True
            return None
        if isinstance(message, UnwatchMessage):
            self.watched.discard(message.call_id)
            return None
        if message.call_id not in self.watched and len(self.watched) >= self.max_watches:
            return ErrorMessage(id="too_many_watches", message=f"a connection watches at most {self.max_watches} calls")
        self.watched.add(message.call_id)
        return None


class AgencyListener:
    """An agency user's connection: their own agency's tickets only, no call, queue or operator frames; it takes
    no client frames (watching a call would tell about calls)."""

    def __init__(self, agency: str) -> None:
        self.agency = agency

    def opening(self, queue_waiting: int) -> list[BaseModel]:
        return []

    def messages_for(self, event: Event) -> list[BaseModel]:
        if isinstance(event, TicketChanged) and event.agency == self.agency:
            return [TicketsChangedMessage(ticket_id=event.ticket_id)]
        return []

    def receive(self, text: str) -> ErrorMessage | None:
        return ErrorMessage(id="bad_message", message="the agency stream takes no client frames")
