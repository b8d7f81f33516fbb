"""The operator's phone state from app_queue's member (queue/phone_state.py): the console's queue badge reads it,
so an operator on a call is never shown as ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ntpd112.pbx.ami_actions import QueueMember
from ntpd112.queue.phone_state import phone_state

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def member(**event: str) -> QueueMember:
    return QueueMember.of({"Event": "QueueMember", "Location": "PJSIP/rina", "Membership": "dynamic", **event})


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"Status": "1", "InCall": "0"}, "idle"),
        ({"Status": "6", "InCall": "0"}, "ringing"),
        ({"Status": "7", "InCall": "1"}, "ringing"),
        ({"Status": "2", "InCall": "1"}, "on_call"),
        # app_queue marks the member in call before the device state catches up.
        ({"Status": "1", "InCall": "1"}, "on_call"),
        ({"Status": "8", "InCall": "0"}, "on_call"),
        ({"Status": "5", "InCall": "0"}, "unavailable"),
        ({"Status": "0", "InCall": "0"}, "unknown"),
        ({"Status": "garbled"}, "unknown"),
    ],
)
def test_device_state_and_in_call_name_what_the_phone_does(event: dict[str, str], expected: str) -> None:
    assert phone_state(member(**event), NOW, 10) == (expected, None)


def test_wrap_up_runs_from_the_last_call_for_the_queue_wrapuptime() -> None:
    ended = int((NOW - timedelta(seconds=4)).timestamp())
    assert phone_state(member(Status="1", LastCall=str(ended)), NOW, 10) == (
        "wrap_up",
        NOW + timedelta(seconds=6),
    )
    # Past the wrap-up: ready again.
    assert phone_state(member(Status="1", LastCall=str(ended)), NOW, 3) == ("idle", None)
    # The member's own wrapuptime wins over the queue's.
    assert phone_state(member(Status="1", LastCall=str(ended), Wrapuptime="60"), NOW, 3)[0] == "wrap_up"
    # Never called: no wrap-up.
    assert phone_state(member(Status="1", LastCall="0"), NOW, 10) == ("idle", None)


def test_a_phone_on_a_call_is_on_a_call_even_inside_the_wrap_up() -> None:
    ended = int((NOW - timedelta(seconds=2)).timestamp())
    assert phone_state(member(Status="2", InCall="1", LastCall=str(ended)), NOW, 10) == ("on_call", None)


def test_no_member_is_unknown() -> None:
    assert phone_state(None, NOW, 10) == ("unknown", None)
