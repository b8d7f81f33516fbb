"""The event hub (live.py), what the journal publishes per committed batch, and the queue presence's AMI events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from ntpd112.live import CallActivity, Event, Hub, OperatorChanged, Overflowed, QueueWaiting
from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.queue.presence import Presence, phone_name
from ntpd112.reports.operator_time import Presence as MemberPresence
from ntpd112.reports.operator_time import PresenceState
from ntpd112.store.journal import AmlClaimRecord, CallRecord, EventRecord, FixRecord, Record, activities

CALL = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)
AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


async def test_every_subscriber_gets_every_event_in_order() -> None:
    hub = Hub()
    with hub.subscribe() as first, hub.subscribe() as second:
        events: list[Event] = [OperatorChanged("op1"), QueueWaiting(2), CallActivity(CALL, frozenset({"ended"}))]
        for event in events:
            hub.publish(event)
        for subscriber in (first, second):
            assert [await subscriber.get() for _ in events] == events
    assert hub.subscribers == 0


async def test_get_waits_for_the_next_event() -> None:
    hub = Hub()
    with hub.subscribe() as subscriber:
        waiting = asyncio.create_task(subscriber.get())
        await asyncio.sleep(0)
        assert not waiting.done()
        hub.publish(QueueWaiting(1))
        assert await asyncio.wait_for(waiting, 1) == QueueWaiting(1)


async def test_a_subscriber_that_falls_behind_overflows_and_others_do_not_notice() -> None:
    hub = Hub(queue_size=3)
    with hub.subscribe() as slow, hub.subscribe() as fast:
        for count in range(3):
            hub.publish(QueueWaiting(count))
            assert await fast.get() == QueueWaiting(count)
        hub.publish(QueueWaiting(3))  # the fourth: slow's queue holds three
        assert slow.overflowed and slow.pending == 0
        hub.publish(QueueWaiting(4))
        with pytest.raises(Overflowed):
            await slow.get()
        assert [await fast.get() for _ in range(2)] == [QueueWaiting(3), QueueWaiting(4)]
        assert not fast.overflowed


async def test_an_overflow_wakes_a_waiting_subscriber() -> None:
    hub = Hub(queue_size=1)
    with hub.subscribe() as subscriber:
        hub.publish(QueueWaiting(1))
        assert await subscriber.get() == QueueWaiting(1)
        waiting = asyncio.create_task(subscriber.get())
        await asyncio.sleep(0)
        hub.publish(QueueWaiting(2))
        hub.publish(QueueWaiting(3))  # before the waiter ran: one too many, both dropped
        with pytest.raises(Overflowed):
            await asyncio.wait_for(waiting, 1)


async def test_unsubscribed_gets_nothing_and_the_hub_remembers_the_queue_size() -> None:
    hub = Hub()
    with hub.subscribe() as subscriber:
        pass
    hub.publish(QueueWaiting(5))
    assert subscriber.pending == 0
    assert hub.queue_waiting == 5
    with hub.subscribe():
        assert hub.subscribers == 1
    assert hub.subscribers == 0


def test_a_batch_becomes_one_activity_per_call_with_the_operators_named() -> None:
    batch: list[Record] = [
        CallRecord(CALL, "u1", {"ring_attempts": 1}),
        EventRecord(uuid.uuid4(), CALL, AT, "operator_ringing", {"operator": "op1"}),
        EventRecord(uuid.uuid4(), CALL, AT, "operator_no_answer", {"operator": "op1"}),
        EventRecord(uuid.uuid4(), CALL, AT, "operator_ringing", {"operator": "op2"}),
        CallRecord(CALL, "u1", {"operator": "op2"}),
        EventRecord(uuid.uuid4(), CALL, AT, "operator_answered", {"operator": "op2"}),
        FixRecord(uuid.uuid4(), OTHER, {}),
        AmlClaimRecord(OTHER, "+6281200000000", AT),
        EventRecord(uuid.uuid4(), OTHER, AT, "ended", {"operator": None}),
    ]
    by_call = {activity.call_id: activity for activity in activities(batch)}
    assert by_call[CALL] == CallActivity(
        CALL,
        frozenset({"operator_ringing", "operator_no_answer", "operator_answered"}),
        operators=frozenset({"op1", "op2"}),
        rung=frozenset({"op1", "op2"}),
        answered=frozenset({"op2"}),
    )
    assert by_call[OTHER] == CallActivity(OTHER, frozenset({"location_fix", "ended"}))
    assert activities([CallRecord(CALL, "u1", {"ended_at": AT})]) == [CallActivity(CALL, frozenset())]


def member_event(name: str, member: str, queue: str = QUEUE_NAME, **extra: str) -> dict[str, str]:
    return {"Event": name, "Queue": queue, "MemberName": member, "Interface": f"PJSIP/{member}", **extra}


class FakeAmi:
    def __init__(self) -> None:
        self.handlers: dict[str, Any] = {}

    def on(self, name: str, handler: Any) -> None:
        self.handlers[name] = handler

    async def emit(self, event: dict[str, str]) -> None:
        await self.handlers[event["Event"]](event)


class FakeHistory:
    """operator_presence in memory; `failing`: the next write raises (PostgreSQL down)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, MemberPresence]] = []
        self.failing = False

    async def record(self, operator: str, at: datetime, presence: MemberPresence) -> None:
        assert at.tzinfo is not None
        if self.failing:
            self.failing = False
            raise OSError("connection refused")
        self.rows.append((operator, presence))


async def test_presence_publishes_operators_of_the_queue_and_its_waiting_count() -> None:
    hub, ami, history = Hub(), FakeAmi(), FakeHistory()
    Presence(hub, history).attach(ami)  # type: ignore[arg-type]
    with hub.subscribe() as subscriber:
        await ami.emit({"Event": "DeviceStateChange", "Device": "PJSIP/op1", "State": "INUSE"})  # not a member yet
        await ami.emit(member_event("QueueMemberAdded", "op1"))
        await ami.emit(member_event("QueueMemberPause", "op1", Paused="1"))
        await ami.emit(member_event("QueueMemberAdded", "x", queue="other-queue"))
        await ami.emit({"Event": "DeviceStateChange", "Device": "PJSIP/op1", "State": "INUSE"})
        await ami.emit({"Event": "ContactStatus", "AOR": "desk-damkar", "EndpointName": "desk-damkar"})
        await ami.emit({"Event": "QueueCallerJoin", "Queue": QUEUE_NAME, "Count": "1"})
        await ami.emit({"Event": "QueueCallerAbandon", "Queue": QUEUE_NAME})  # no Count: the Leave follows
        await ami.emit({"Event": "QueueCallerLeave", "Queue": QUEUE_NAME, "Count": "0"})
        await ami.emit({"Event": "QueueCallerJoin", "Queue": QUEUE_NAME, "Count": "-3"})
        await ami.emit(member_event("QueueMemberRemoved", "op1"))
        await ami.emit({"Event": "PeerStatus", "Peer": "PJSIP/op1", "PeerStatus": "Unreachable"})  # no longer one
        got = [await subscriber.get() for _ in range(subscriber.pending)]
    assert got == [
        OperatorChanged("op1"),
        OperatorChanged("op1"),
        OperatorChanged("op1"),
        QueueWaiting(1),
        QueueWaiting(0),
        OperatorChanged("op1"),
    ]
    assert history.rows == [
        ("op1", MemberPresence(PresenceState.AVAILABLE)),
        ("op1", MemberPresence(PresenceState.PAUSED)),
        ("op1", MemberPresence(PresenceState.LOGGED_OUT)),
    ]


async def test_presence_history_keeps_changes_only_and_retries_a_failed_write() -> None:
    ami, history = FakeAmi(), FakeHistory()
    Presence(Hub(), history).attach(ami)  # type: ignore[arg-type]
    await ami.emit(member_event("QueueMemberAdded", "op1", Paused="0"))
    await ami.emit(member_event("QueueMemberStatus", "op1", Paused="0", Status="2"))  # a call: no change
    history.failing = True
    await ami.emit(member_event("QueueMemberPause", "op1", Paused="1", PausedReason="meal"))  # lost
    await ami.emit(member_event("QueueMemberStatus", "op1", Paused="1", PausedReason="meal"))  # written now
    await ami.emit(member_event("QueueMemberPause", "op1", Paused="1", PausedReason="break"))
    await ami.emit(member_event("QueueMemberPause", "op1", Paused="0"))
    assert history.rows == [
        ("op1", MemberPresence(PresenceState.AVAILABLE)),
        ("op1", MemberPresence(PresenceState.PAUSED, "meal")),
        ("op1", MemberPresence(PresenceState.PAUSED, "break")),
        ("op1", MemberPresence(PresenceState.AVAILABLE)),
    ]


def test_phone_names_of_the_phone_events() -> None:
    assert phone_name({"EndpointName": "op1", "AOR": "op1"}) == "op1"
    assert phone_name({"Device": "PJSIP/op2"}) == "op2"
    assert phone_name({"Peer": "PJSIP/op3"}) == "op3"
    assert phone_name({"Device": "Queue:ntpd112-operators_avail"}) is None
    assert phone_name({"Device": "PJSIP/"}) is None
    assert phone_name({}) is None
