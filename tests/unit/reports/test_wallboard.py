"""The wallboard's pure parts: an operator's state from the records and the phone, the priority's reasons, the
room's day, the hours against the week's average and the prank/ghost share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from ntpd112.reports.rules import CategoryRow, RecapGroup
from ntpd112.reports.wallboard import (
    OpenCall,
    OperatorFacts,
    OperatorState,
    hours_against_average,
    nuisance,
    operator_state,
    today_range,
)
from ntpd112.room.config import PrioritySettings
from ntpd112.room.priority import PriorityReason, priority_reasons, queue_priority

NOW = datetime(2026, 12, 4, 9, 0, 0, tzinfo=UTC)
CHANGED = NOW - timedelta(minutes=30)
CALL = OpenCall(uuid.UUID(int=1), "+6281200000001", NOW - timedelta(seconds=75))


def facts(**changes: object) -> OperatorFacts:
    base: dict[str, object] = {
        "logged_in": True,
        "paused": False,
        "state_changed_at": CHANGED,
        "device_state": "NOT_INUSE",
        "open_call": None,
        "last_call_ended_at": None,
    }
    return OperatorFacts(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "state", "since"),
    [
        ({}, OperatorState.AVAILABLE, CHANGED),
        ({"logged_in": False, "device_state": "UNAVAILABLE"}, OperatorState.LOGGED_OUT, CHANGED),
        ({"device_state": "RINGING"}, OperatorState.RINGING, None),
        ({"device_state": "INUSE", "open_call": CALL}, OperatorState.ON_CALL, CALL.answered_at),
        # No device state (Asterisk unreachable): the open call in the records decides.
        ({"device_state": None, "open_call": CALL}, OperatorState.ON_CALL, CALL.answered_at),
        # The phone lost its registration during the call: the records still say on a call.
        ({"device_state": "UNAVAILABLE", "open_call": CALL}, OperatorState.ON_CALL, CALL.answered_at),
        # The caller was transferred away: the phone is idle although the caller's call goes on.
        ({"device_state": "NOT_INUSE", "open_call": CALL}, OperatorState.AVAILABLE, CHANGED),
        ({"paused": True}, OperatorState.PAUSED, CHANGED),
        # On a call beats paused (a supervisor paused them meanwhile); ringing beats everything but logged out.
        ({"paused": True, "device_state": "INUSE"}, OperatorState.ON_CALL, None),
        ({"logged_in": False, "device_state": "RINGING"}, OperatorState.LOGGED_OUT, CHANGED),
        # Out of the queue but on a call of the room (a supervisor took a pulled call): on that call, with the caller.
        ({"logged_in": False, "device_state": "INUSE", "open_call": CALL}, OperatorState.ON_CALL, CALL.answered_at),
        ({"logged_in": False, "device_state": None, "open_call": CALL}, OperatorState.ON_CALL, CALL.answered_at),
        # Out of the queue, phone busy with no call of the room (listening to an operator): still out of the queue.
        ({"logged_in": False, "device_state": "INUSE"}, OperatorState.LOGGED_OUT, CHANGED),
        # ... and a call of the room the phone no longer has (transferred away) leaves them out of it.
        ({"logged_in": False, "device_state": "NOT_INUSE", "open_call": CALL}, OperatorState.LOGGED_OUT, CHANGED),
    ],
)
def test_the_operator_state(changes: dict[str, object], state: OperatorState, since: datetime | None) -> None:
    reading = operator_state(facts(**changes), NOW, wrapup_seconds=10)
    assert (reading.state, reading.since) == (state, since)


def test_wrap_up_lasts_the_queue_s_wrapup_time_after_the_last_call() -> None:
    ended = NOW - timedelta(seconds=4)
    reading = operator_state(facts(last_call_ended_at=ended), NOW, wrapup_seconds=10)
    assert (reading.state, reading.since, reading.until) == (
        OperatorState.WRAP_UP,
        ended,
        ended + timedelta(seconds=10),
    )
    later = operator_state(facts(last_call_ended_at=ended), NOW + timedelta(seconds=6), wrapup_seconds=10)
    assert later.state is OperatorState.AVAILABLE
    assert operator_state(facts(last_call_ended_at=ended, paused=True), NOW, 10).state is OperatorState.PAUSED


def test_the_priority_and_its_reasons_come_from_one_rule() -> None:
    settings = PrioritySettings(base=10, with_location=15, repeat_caller=20, prankster=1)
    both = {"has_location": True, "repeat_caller": True}
    assert priority_reasons(**both, prankster=False) == [PriorityReason.LOCATION, PriorityReason.REPEAT_CALLER]
    assert queue_priority(settings, **both, prankster=False) == 20
    assert priority_reasons(**both, prankster=True) == [PriorityReason.PRANKSTER]
    assert queue_priority(settings, **both, prankster=True) == 1
    assert priority_reasons(has_location=False, repeat_caller=False, prankster=False) == []
    assert queue_priority(settings, has_location=False, repeat_caller=False, prankster=False) == 10


def test_today_is_the_room_s_day() -> None:
    # 17:30 UTC on the 3rd is 00:30 WIB on the 4th, still 02:30 WIT... on the 4th too; 16:30 UTC is the 3rd in WIB.
    assert today_range(datetime(2026, 12, 3, 17, 30, tzinfo=UTC), "Asia/Jakarta").first == date(2026, 12, 4)
    assert today_range(datetime(2026, 12, 3, 16, 30, tzinfo=UTC), "Asia/Jakarta").first == date(2026, 12, 3)
    assert today_range(datetime(2026, 12, 3, 15, 30, tzinfo=UTC), "Asia/Jayapura").first == date(2026, 12, 4)
    day = today_range(datetime(2026, 12, 3, 17, 30, tzinfo=UTC), "Asia/Jakarta")
    assert (day.start, day.end) == (datetime(2026, 12, 3, 17, tzinfo=UTC), datetime(2026, 12, 4, 17, tzinfo=UTC))


def test_hours_against_the_week_s_average() -> None:
    hours = hours_against_average({8: 5, 23: 1}, {8: 14, 9: 3}, days=7)
    assert len(hours) == 24
    assert (hours[8].today, hours[8].average) == (5, 2.0)
    assert (hours[9].today, hours[9].average) == (0, 0.4)
    assert (hours[23].today, hours[23].average) == (1, 0.0)


def test_prank_and_ghost_share_of_the_calls_offered() -> None:
    rows = [
        CategoryRow(category="prank", label="Iseng", group=RecapGroup.PRANK, calls=3),
        CategoryRow(category="silent", label="Diam", group=RecapGroup.SILENT, calls=2),
        CategoryRow(category="fire", label="Kebakaran", group=RecapGroup.VALID_EMERGENCY, calls=4),
    ]
    shares = nuisance(rows, offered=8)
    assert (shares.prank, shares.silent, shares.prank_share, shares.silent_share) == (3, 2, 0.375, 0.25)
    assert nuisance([], offered=0).prank_share is None
