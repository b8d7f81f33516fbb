"""Asterisk's queue log: every line validated, folded per call, and what reconciliation fills from it (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ntpd112.calls.reconcile import missing_call_fields
from ntpd112.pbx.queue_log import QueueLogFile, QueueLogLineError, fold_queue_log, parse_line
from ntpd112.store.models import Call
from tests.unit.test_reconcile import ENDED_CDR, XL

Q = "ntpd112-operators"
T0 = 1796402700


def _at(second: int) -> datetime:
    return datetime.fromtimestamp(T0 + second, tz=UTC)


ANSWERED = [
    f"{T0}|1.1|{Q}|NONE|ENTERQUEUE||081234567890|1",
    f"{T0 + 30}|1.1|{Q}|NONE|EXITWITHTIMEOUT|1|1|30",  # overflowed once, came back
    f"{T0 + 50}|1.1|{Q}|NONE|ENTERQUEUE||081234567890|1",
    f"{T0 + 50}|1.1|{Q}|op2|RINGNOANSWER|4000",
    f"{T0 + 56}|1.1|{Q}|op1|CONNECT|6|1.7|2",
    f"{T0 + 86}|1.1|{Q}|op1|COMPLETECALLER|6|30|1",
]
ABANDONED = [
    f"{T0}|2.1|{Q}|NONE|ENTERQUEUE||081299999999|2",
    f"{T0 + 9}|2.1|{Q}|NONE|ABANDON|1|2|9",
]


def test_a_line_is_read_into_its_fields() -> None:
    line = parse_line(f"{T0 + 56}|1.1|{Q}|op1|CONNECT|6|1.7|2\n")
    assert (line.at, line.callid, line.queue, line.agent, line.event) == (_at(56), "1.1", Q, "op1", "CONNECT")
    assert line.data == ("6", "1.7", "2")
    assert parse_line(f"{T0}|NONE|NONE|NONE|QUEUESTART|").agent is None


@pytest.mark.parametrize(
    "line",
    [
        "",
        "garbage",
        f"{T0}|1.1|{Q}|op1",  # too few fields
        f"yesterday|1.1|{Q}|op1|CONNECT|6|1.7|2",  # time
        f"99999999999999999999|1.1|{Q}|op1|CONNECT|6|1.7|2",  # a time no clock has
        f"{T0}||{Q}|op1|CONNECT|6|1.7|2",  # no callid
        f"{T0}|1.1|{Q}|op1|connect now|6|1.7|2",  # event name
        f"{T0}|1.1|{Q}|op1|CONNECT|6",  # data missing
        f"{T0}|1.1|{Q}|op1|CONNECT|-6|1.7|2",  # a negative hold time
        f"{T0}|1.1|{Q}|NONE|ABANDON|1|2|٩",  # a digit that is not ASCII
    ],
)
def test_a_malformed_line_is_refused_with_a_reason(line: str) -> None:
    with pytest.raises(QueueLogLineError):
        parse_line(line)


def test_calls_fold_from_their_lines_and_garbage_is_skipped_not_raised() -> None:
    other_queue = f"{T0}|3.1|another-queue|NONE|ENTERQUEUE||0811|1"
    calls, rejected = fold_queue_log([*ANSWERED, "torn|line", other_queue, "", *ABANDONED], Q)
    assert set(calls) == {"1.1", "2.1"}
    assert [r.line for r in rejected] == ["torn|line"] and rejected[0].reason
    answered = calls["1.1"].call_fields()
    # The first entry into the queue; the operator who took the call and the wait of the entry they answered.
    assert answered == {
        "queue_joined_at": _at(0),
        "operator": "op1",
        "operator_answered_at": _at(56),
        "wait_seconds": 6.0,
        "talk_seconds": 30.0,
    }
    assert calls["1.1"].timeouts == 1
    abandoned = calls["2.1"].call_fields()
    assert abandoned["abandoned_at"] == _at(9) and abandoned["wait_seconds"] == 9.0
    assert (abandoned["callback_status"], abandoned["callback_reason"]) == ("pending", "abandoned")
    assert "operator" not in abandoned


def test_folding_into_known_calls_continues_them() -> None:
    calls, _ = fold_queue_log(ANSWERED[:3], Q)
    fold_queue_log(ANSWERED[3:], Q, calls)
    assert calls["1.1"].operator == "op1" and calls["1.1"].entered_at == _at(0)


def test_the_queue_log_fills_what_the_service_did_not_see_and_never_replaces_a_live_fact() -> None:
    calls, _ = fold_queue_log(ANSWERED, Q)
    unseen = missing_call_fields(ENDED_CDR, None, XL, calls["1.1"])
    # The queue log's operator wins over the one read off the CDR's channels (op2 in ENDED_CDR).
    assert (unseen["operator"], unseen["wait_seconds"], unseen["operator_answered_at"]) == ("op1", 6.0, _at(56))
    # Recorded live: the operator who answered and the wait; only what is still empty is filled.
    live = Call(id=None, uniqueid="1.1", operator="op3", wait_seconds=4.2, ended_at=_at(90))
    filled = missing_call_fields(ENDED_CDR, live, XL, calls["1.1"])
    assert not {"operator", "wait_seconds", "ended_at"} & set(filled)
    assert filled["talk_seconds"] == 30.0 and filled["queue_joined_at"] == _at(0)
    # Idempotent: once filled, a second look finds nothing missing.
    complete = Call(id=None, uniqueid="1.1", **unseen, caller_name="Budi")
    assert missing_call_fields(ENDED_CDR, complete, XL, calls["1.1"]) == {}


def test_the_file_is_read_as_it_grows_and_from_the_start_after_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    reader = QueueLogFile(path)
    assert reader.read_new() == []  # not written yet
    path.write_text(ABANDONED[0] + "\n" + ABANDONED[1][:10])  # Asterisk is still writing the second line
    assert reader.read_new() == [ABANDONED[0]]
    with path.open("a") as file:
        file.write(ABANDONED[1][10:] + "\n")
    assert reader.read_new() == [ABANDONED[1]]
    assert reader.read_new() == []
    rotated = tmp_path / "queue_log.new"
    rotated.write_text(ANSWERED[0] + "\n")
    rotated.replace(path)
    assert reader.read_new() == [ANSWERED[0]]


def _stamped(seconds: int) -> str:
    return f"{1_796_400_000 + seconds}|1.{seconds}|ntpd112-queue|NONE|ENTERQUEUE||+62812|1"


@pytest.mark.parametrize("since", [0, 1, 499, 500, 1_234, 1_999, 2_000, 5_000])
def test_a_first_read_with_a_since_starts_at_the_first_line_stamped_then_or_later(tmp_path: Path, since: int) -> None:
    path = tmp_path / "queue_log"
    lines = [_stamped(second) for second in range(0, 2_000, 2)]
    path.write_text("\n".join(lines) + "\n")
    at = datetime.fromtimestamp(1_796_400_000 + since, tz=UTC)
    assert QueueLogFile(path).read_new(since=at) == [
        line for line in lines if int(line.split("|")[0]) >= at.timestamp()
    ]


def test_the_search_never_skips_past_lines_without_a_stamp_and_reads_on_as_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    lines = [_stamped(second) for second in range(100)]
    lines[60:62] = ["torn line", ""]  # what a crash mid-write or a foreign writer leaves
    path.write_text("\n".join(lines) + "\n")
    reader = QueueLogFile(path)
    read = reader.read_new(since=datetime.fromtimestamp(1_796_400_000 + 70, tz=UTC))
    # The search may start early at a line it cannot date, never late: every line from the 70th second is read.
    assert read[-30:] == lines[70:] and len(read) <= 40
    with path.open("a") as file:
        file.write(_stamped(100) + "\n")
    assert reader.read_new(since=datetime.fromtimestamp(1_796_400_000 + 70, tz=UTC)) == [_stamped(100)]


def test_a_since_after_every_line_reads_nothing_old(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(_stamped(1) + "\n" + _stamped(2) + "\n")
    reader = QueueLogFile(path)
    assert reader.read_new(since=datetime.fromtimestamp(1_796_400_000 + 3, tz=UTC)) == []
    assert QueueLogFile(tmp_path / "absent").read_new(since=datetime.now(UTC)) == []
