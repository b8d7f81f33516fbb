"""The live stream's frames and what one connection is told (web/stream_messages.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from ntpd112.live import CallActivity, OperatorChanged, QueueWaiting, TicketChanged
from ntpd112.web.common import Identity
from ntpd112.web.stream_messages import (
    SERVER_MESSAGE,
    AgencyListener,
    CallbacksChangedMessage,
    CallChangedMessage,
    CardMessage,
    HelloMessage,
    Listener,
    OperatorChangedMessage,
    QueueMessage,
    ResyncMessage,
    RoomChangedMessage,
    TicketsChangedMessage,
    encode,
)
from ntpd112.web.stream_routes import listener_for

CALL = uuid.UUID("6f1c2a7e-0000-4000-8000-000000000112")
OTHER = uuid.UUID(int=2)
TICKET = uuid.UUID(int=11)


def test_the_frames_are_the_contract() -> None:
    at = datetime(2026, 12, 4, 7, 0, 0, tzinfo=UTC)
    assert json.loads(encode(HelloMessage(user="op1", server_time=at))) == {
        "type": "hello",
        "user": "op1",
        "server_time": "2026-12-04T07:00:00Z",
    }
    assert json.loads(encode(CardMessage(call_id=CALL, reason="ringing"))) == {
        "type": "card",
        "call_id": str(CALL),
        "reason": "ringing",
    }
    assert json.loads(encode(CallChangedMessage(call_id=CALL))) == {"type": "call_changed", "call_id": str(CALL)}
    assert json.loads(encode(OperatorChangedMessage(username="op1"))) == {
        "type": "operator_changed",
        "username": "op1",
    }
    assert json.loads(encode(QueueMessage(waiting=3))) == {"type": "queue", "waiting": 3}
    assert json.loads(encode(ResyncMessage())) == {"type": "resync"}
    assert json.loads(encode(TicketsChangedMessage(ticket_id=TICKET))) == {
        "type": "tickets_changed",
        "ticket_id": str(TICKET),
    }
    # The documented union reads every frame back by its type.
    assert SERVER_MESSAGE.validate_json(encode(QueueMessage(waiting=3))) == QueueMessage(waiting=3)


def test_cards_for_this_user_then_changes_of_their_calls_only() -> None:
    listener = Listener("op1", supervisor=False)
    rung = CallActivity(CALL, frozenset({"operator_ringing"}), frozenset({"op1", "op2"}), rung=frozenset({"op1"}))
    assert listener.messages_for(rung) == [CardMessage(call_id=CALL, reason="ringing")]
    both = CallActivity(OTHER, frozenset(), frozenset({"op1"}), rung=frozenset({"op1"}), answered=frozenset({"op1"}))
    assert listener.messages_for(both) == [
        CardMessage(call_id=OTHER, reason="ringing"),
        CardMessage(call_id=OTHER, reason="answered"),
    ]
    assert listener.messages_for(CallActivity(CALL, frozenset({"ended"}))) == [CallChangedMessage(call_id=CALL)]
    stranger = uuid.UUID(int=3)
    assert listener.messages_for(CallActivity(stranger, frozenset({"ended"}))) == []
    someone_else = CallActivity(stranger, frozenset(), frozenset({"op2"}), answered=frozenset({"op2"}))
    assert listener.messages_for(someone_else) == []


def test_watching_and_its_limit() -> None:
    listener = Listener("op1", supervisor=False, max_watches=2)
    assert listener.receive(json.dumps({"type": "watch", "call_id": str(CALL)})) is None
    assert listener.messages_for(CallActivity(CALL, frozenset())) == [CallChangedMessage(call_id=CALL)]
    assert listener.receive(json.dumps({"type": "watch", "call_id": str(CALL)})) is None  # again: no new slot
    assert listener.receive(json.dumps({"type": "watch", "call_id": str(OTHER)})) is None
    refused = listener.receive(json.dumps({"type": "watch", "call_id": str(uuid.UUID(int=9))}))
    assert refused is not None and refused.id == "too_many_watches"
    assert listener.receive(json.dumps({"type": "unwatch", "call_id": str(CALL)})) is None
    assert listener.messages_for(CallActivity(CALL, frozenset())) == []


def test_bad_client_frames_get_an_error_never_an_exception() -> None:
    listener = Listener("op1", supervisor=False)
    for frame in (
        "",
        "not json",
        "[]",
        "null",
        '{"type": "watch"}',
        '{"type": "watch", "call_id": "nope"}',
        '{"type": "watch", "call_id": 1}',
        f'{{"type": "watch", "call_id": "{CALL}", "extra": 1}}',
        f'{{"type": "subscribe", "call_id": "{CALL}"}}',
        '{"type": "watch", "call_id": "\\u0000"}',
        "[" * 2000,
    ):
        refused = listener.receive(frame)
        assert refused is not None and refused.id == "bad_message", frame
    assert listener.watched == set()


def test_operators_hear_of_themselves_supervisors_of_everyone_all_of_the_queue() -> None:
    operator, supervisor = Listener("op1", supervisor=False), Listener("sup", supervisor=True)
    assert operator.messages_for(OperatorChanged("op1")) == [OperatorChangedMessage(username="op1")]
    assert operator.messages_for(OperatorChanged("op2")) == []
    assert supervisor.messages_for(OperatorChanged("op2")) == [OperatorChangedMessage(username="op2")]
    for listener in (operator, supervisor):
        assert listener.messages_for(QueueWaiting(4)) == [QueueMessage(waiting=4)]


def test_everyone_hears_of_the_callback_list_changing() -> None:
    assert json.loads(encode(CallbacksChangedMessage())) == {"type": "callbacks_changed"}
    listener = Listener("op1", supervisor=False)
    for event_type in ("abandoned", "callback_requested", "callback_started", "callback_finished"):
        assert listener.messages_for(CallActivity(CALL, frozenset({event_type, "ended"}))) == [
            CallbacksChangedMessage()
        ], event_type
    assert listener.messages_for(CallActivity(CALL, frozenset({"ended", "queue_entered"}))) == []
    # A call of their own that is abandoned while ringing them: the list and the card both change.
    listener.messages_for(CallActivity(OTHER, frozenset(), frozenset({"op1"}), rung=frozenset({"op1"})))
    assert listener.messages_for(CallActivity(OTHER, frozenset({"abandoned"}))) == [
        CallbacksChangedMessage(),
        CallChangedMessage(call_id=OTHER),
    ]


def test_staff_hear_of_every_ticket() -> None:
    listener = Listener("op1", supervisor=False)
    for agency in ("polisi", "damkar"):
        assert listener.messages_for(TicketChanged(TICKET, agency)) == [TicketsChangedMessage(ticket_id=TICKET)]
    assert listener.opening(queue_waiting=2) == [QueueMessage(waiting=2)]


def test_an_agency_user_hears_of_their_own_agency_tickets_only() -> None:
    listener = AgencyListener("polisi")
    assert listener.messages_for(TicketChanged(TICKET, "polisi")) == [TicketsChangedMessage(ticket_id=TICKET)]
    assert listener.messages_for(TicketChanged(OTHER, "damkar")) == []


def test_an_agency_user_learns_nothing_about_calls_the_queue_or_operators() -> None:
    listener = AgencyListener("polisi")
    assert listener.opening(queue_waiting=4) == []
    events = [
        CallActivity(CALL, frozenset({"operator_ringing"}), frozenset({"polisi"}), rung=frozenset({"polisi"})),
        CallActivity(CALL, frozenset({"ended"})),
        OperatorChanged("op1"),
        QueueWaiting(3),
    ]
    assert [listener.messages_for(event) for event in events] == [[], [], [], []]
    # Watching a call would tell about it: refused, and later activity still says nothing.
    refused = listener.receive(json.dumps({"type": "watch", "call_id": str(CALL)}))
    assert refused is not None and refused.id == "bad_message"
    assert listener.messages_for(CallActivity(CALL, frozenset({"ended"}))) == []


def _identity(roles: tuple[str, ...], agency: str | None) -> Identity:
    return Identity(
        user_id=uuid.uuid4(),
        username="u1",
        full_name="U One",
        roles=roles,
        agency=agency,
        must_change_password=False,
        via="token",
        credential_id=uuid.uuid4(),
        expires_at=datetime(2026, 12, 5, tzinfo=UTC),
    )


def test_who_gets_which_listener_and_who_is_refused() -> None:
    staff = listener_for(_identity(("supervisor",), None))
    assert isinstance(staff, Listener) and staff.supervisor
    agency = listener_for(_identity(("agency",), "polisi"))
    assert isinstance(agency, AgencyListener) and agency.agency == "polisi"
    # Staff who also hold the agency role are staff; an agency role without its agency, or no role, gets nothing.
    assert isinstance(listener_for(_identity(("operator", "agency"), "polisi")), Listener)
    assert listener_for(_identity(("agency",), None)) is None
    assert listener_for(_identity((), None)) is None


def test_a_supervisor_following_the_room_hears_of_every_call() -> None:
    supervisor = Listener("spv", supervisor=True)
    activity = CallActivity(CALL, frozenset({"offered"}))
    assert supervisor.messages_for(activity) == []  # not before follow_room
    assert supervisor.receive('{"type": "follow_room"}') is None
    assert supervisor.messages_for(activity) == [RoomChangedMessage(call_id=CALL)]
    assert json.loads(encode(RoomChangedMessage(call_id=CALL))) == {"type": "room_changed", "call_id": str(CALL)}


def test_an_operator_may_not_follow_the_room() -> None:
    operator = Listener("op1", supervisor=False)
    refused = operator.receive('{"type": "follow_room"}')
    assert refused is not None and refused.id == "forbidden"
    assert operator.messages_for(CallActivity(OTHER, frozenset({"offered"}))) == []
    assert operator.receive('{"type": "follow_room", "extra": 1}') is not None
