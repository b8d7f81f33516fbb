"""The pure parts of the supervisor queue controls: the priority a raise gives, and app_queue's waiting callers as
QueueStatus reports them (QueueEntry events) and the priority change's headers."""

from __future__ import annotations

import pytest

from ntpd112.pbx.ami_actions import QueueCaller, QueueCallers, QueueChangePriorityCaller
from ntpd112.queue.controls import PRIORITY_CEILING, ControlError, raised_priority


def test_a_raise_goes_one_above_every_other_waiting_caller() -> None:
    assert raised_priority(10, [10, 15, 1], None) == 16
    # Equal priorities: one above is enough to be answered first.
    assert raised_priority(10, [10], None) == 11


def test_a_call_already_ahead_of_everyone_is_not_raised() -> None:
    for others in ([], [9, 1]):
        with pytest.raises(ControlError) as refused:
            raised_priority(10, others, None)
        assert (refused.value.status, refused.value.error_id) == (409, "already_first")


def test_a_requested_priority_must_be_higher_than_the_calls_own() -> None:
    assert raised_priority(10, [50], 12) == 12
    for requested in (10, 3):
        with pytest.raises(ControlError) as refused:
            raised_priority(10, [], requested)
        assert (refused.value.status, refused.value.error_id) == (409, "not_higher")


def test_a_raise_never_passes_the_ceiling() -> None:
    with pytest.raises(ControlError) as refused:
        raised_priority(10, [PRIORITY_CEILING], None)
    assert refused.value.error_id == "priority_ceiling"
    assert raised_priority(10, [PRIORITY_CEILING - 1], None) == PRIORITY_CEILING


def test_queue_entries_are_read_by_uniqueid_and_other_events_ignored() -> None:
    response = [
        {"Event": "QueueParams", "Queue": "q"},
        {"Event": "QueueMember", "Queue": "q", "Location": "PJSIP/op1"},
        {
            "Event": "QueueEntry",
            "Queue": "q",
            "Position": "2",
            "Channel": "PJSIP/telkomsel-00000007",
            "Uniqueid": "1700000000.7",
            "Wait": "12",
            "Priority": "15",
        },
        # Garbled numbers read as 0; an entry without a channel cannot be acted on and is left out.
        {"Event": "QueueEntry", "Uniqueid": "1700000000.8", "Channel": "PJSIP/xl-8", "Position": "x"},
        {"Event": "QueueEntry", "Uniqueid": "1700000000.9"},
    ]
    callers = QueueCallers("q").reply(response)
    assert callers == {
        "1700000000.7": QueueCaller("1700000000.7", "PJSIP/telkomsel-00000007", 2, 15, 12),
        "1700000000.8": QueueCaller("1700000000.8", "PJSIP/xl-8", 0, 0, 0),
    }
    assert QueueCallers("q").headers() == {"Action": "QueueStatus", "Queue": "q"}


def test_the_priority_change_moves_the_caller_at_once() -> None:
    assert QueueChangePriorityCaller("q", "PJSIP/xl-8", 16).headers() == {
        "Action": "QueueChangePriorityCaller",
        "Queue": "q",
        "Caller": "PJSIP/xl-8",
        "Priority": "16",
        "Immediate": "yes",
    }
