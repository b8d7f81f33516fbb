"""app_queue's abandons: a caller whose wait ran out or whose queue emptied is reported as abandoned, like one who
hung up; only the hang-up is an abandon (the callback list, the abandoned count)."""

from __future__ import annotations

from typing import cast

from ntpd112.pbx.names import QUEUE_NAME
from ntpd112.queue.events import QueueEventRecorder
from ntpd112.store.journal import Journal
from tests.unit.calls.fakes import FakeJournal

CALLER = "1796527348.316"


def _recorder(journal: FakeJournal, on_the_line: set[str]) -> QueueEventRecorder:
    return QueueEventRecorder(cast(Journal, journal), on_the_line=on_the_line.__contains__)


def _abandon(wait: str = "60") -> dict[str, str]:
    return {"Uniqueid": CALLER, "Queue": QUEUE_NAME, "HoldTime": wait, "Position": "3"}


def _callbacks(journal: FakeJournal) -> list[dict[str, object]]:
    return [fields for uniqueid, fields in journal.calls if uniqueid == CALLER and "callback_status" in fields]


async def test_a_caller_whose_wait_ran_out_goes_to_the_overflow_not_the_callback_list() -> None:
    journal = FakeJournal()
    recorder = _recorder(journal, {CALLER})
    await recorder._abandoned(_abandon())
    await recorder._user_event({"UserEvent": "Ntpd112Overflow", "Uniqueid": CALLER, "QueueStatus": "TIMEOUT"})
    recorder.call_ended(CALLER)  # later, after the supervisor or the backup number talked to them
    assert journal.types() == ["queue_left", "overflow"]
    assert journal.of_type("queue_left") == [{"reason": "overflow", "position": "3"}]
    assert (CALLER, {"wait_seconds": 60.0}) in journal.calls
    assert not _callbacks(journal)


async def test_a_caller_who_hangs_up_waiting_is_abandoned_when_the_call_ends() -> None:
    journal = FakeJournal()
    recorder = _recorder(journal, {CALLER})
    await recorder._abandoned(_abandon("7"))
    assert journal.types() == []  # still on the line: undecided
    recorder.call_ended(CALLER)
    assert journal.of_type("abandoned") == [{"wait_seconds": 7.0, "position": "3"}]
    assert [fields["callback_reason"] for fields in _callbacks(journal)] == ["abandoned"]


async def test_an_abandon_after_the_end_or_of_a_call_not_followed_is_recorded_at_once() -> None:
    journal = FakeJournal()
    recorder = _recorder(journal, set())
    await recorder._abandoned(_abandon("7"))
    assert journal.types() == ["abandoned"]


async def test_an_abandon_whose_overflow_event_was_lost_is_recorded_when_the_call_ends() -> None:
    journal = FakeJournal()
    recorder = _recorder(journal, {CALLER})
    await recorder._abandoned(_abandon())
    # The overflow's UserEvent lost to an AMI reconnect: undecided until the end, then called back (in doubt).
    assert journal.types() == []
    recorder.call_ended(CALLER)
    assert journal.types() == ["abandoned"]
    recorder.call_ended(CALLER)  # an end told twice records nothing twice
    assert journal.types() == ["abandoned"]


async def test_abandons_undecided_at_shutdown_are_recorded() -> None:
    journal = FakeJournal()
    recorder = _recorder(journal, {CALLER})
    await recorder._abandoned(_abandon())
    recorder.stop()
    assert journal.types() == ["abandoned"] and _callbacks(journal)
