"""Asterisk's queue log, read and folded per call (pure): who answered, after how long, who hung up waiting.

app_queue writes one line per queue event, `time|callid|queue|agent|event|data1|data2|...`, to the file
`queue_log` (logger.conf), whether the service is up or not. The callid is the uniqueid of the caller's channel,
which names the call in the calls table; the agent is the member name, which is the operator's username
(queues.conf log_membername_as_agent). Every line is validated: a line that does not parse is returned as rejected
with the reason, never raised, so one torn or foreign line cannot stop reconciliation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

EVENT_NAME = re.compile(r"^[A-Z][A-Z_]*$")
# What each event this module uses carries (data1, data2, ...); None: text, int: whole seconds or a position.
EVENT_DATA: dict[str, tuple[type | None, ...]] = {
    "ENTERQUEUE": (None, None, int),  # url, caller id, position
    "CONNECT": (int, None, int),  # hold time, the operator channel's uniqueid, ring time
    "COMPLETEAGENT": (int, int, int),  # hold time, talk time, original position
    "COMPLETECALLER": (int, int, int),
    "ABANDON": (int, int, int),  # position, original position, wait time
    "EXITWITHTIMEOUT": (int, int, int),  # position, original position, wait time
}
NO_AGENT = "NONE"


class QueueLogLineError(ValueError):
    pass


@dataclass(frozen=True)
class QueueLogLine:
    at: datetime
    callid: str
    queue: str
    agent: str | None
    event: str
    data: tuple[str, ...]


@dataclass(frozen=True)
class RejectedLine:
    line: str
    reason: str


def parse_line(line: str) -> QueueLogLine:
    """One line of the queue log; QueueLogLineError says what is wrong with it."""
    fields = line.rstrip("\r\n").split("|")
    if len(fields) < 5:
        raise QueueLogLineError(f"{len(fields)} fields, at least 5 expected")
    stamp, callid, queue, agent, event, *data = fields
    try:
        # Whole epoch seconds; some versions and realtime back ends write a fraction.
        at = datetime.fromtimestamp(float(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise QueueLogLineError(f"time {stamp[:40]!r} is not an epoch time") from None
    if not callid:
        raise QueueLogLineError("no callid")
    if not EVENT_NAME.fullmatch(event):
        raise QueueLogLineError(f"event {event[:40]!r} is not an event name")
    expected = EVENT_DATA.get(event, ())
    if len(data) < len(expected):
        raise QueueLogLineError(f"{event} has {len(data)} data fields, {len(expected)} expected")
    for position, (kind, value) in enumerate(zip(expected, data, strict=False), 1):
        if kind is int and not (value.isascii() and value.isdigit()):
            raise QueueLogLineError(f"{event} data{position} {value[:40]!r} is not a whole number")
    return QueueLogLine(at, callid, queue, agent if agent and agent != NO_AGENT else None, event, tuple(data))


@dataclass
class QueuedCall:
    """What the queue log says about one call (one callid), across every time it entered the queue."""

    callid: str
    last_at: datetime | None = None
    entered_at: datetime | None = None
    timeouts: int = 0
    operator: str | None = None
    operator_answered_at: datetime | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    # COMPLETEAGENT: the operator hung up; COMPLETECALLER: the caller's channel went (a BYE, or a release).
    operator_hung_up: bool = False
    abandoned_at: datetime | None = None
    abandon_position: int | None = None

    def add(self, line: QueueLogLine) -> None:
        self.last_at = max(filter(None, (self.last_at, line.at)))
        if line.event == "ENTERQUEUE":
            self.entered_at = self.entered_at or line.at
        elif line.event == "EXITWITHTIMEOUT":
            # Nobody answered in time: the dialplan overflows to the supervisors and brings the caller back.
            self.timeouts += 1
        elif line.event == "CONNECT" and self.operator_answered_at is None:
            self.operator = line.agent
            self.operator_answered_at = line.at
            self.wait_seconds = float(line.data[0])
        elif line.event in ("COMPLETEAGENT", "COMPLETECALLER") and self.talk_seconds is None:
            self.talk_seconds = float(line.data[1])
            self.operator_hung_up = line.event == "COMPLETEAGENT"
        elif line.event == "ABANDON" and self.abandoned_at is None:
            self.abandoned_at = line.at
            self.abandon_position = int(line.data[0])
            # Waited the whole time in the queue (app_queue counts from the last entry; reported like the live
            # QueueCallerAbandon's HoldTime).
            self.wait_seconds = self.wait_seconds if self.wait_seconds is not None else float(line.data[2])

    def call_fields(self) -> dict[str, Any]:
        """The calls-table columns these facts fill, as the live queue events would have set them."""
        fields: dict[str, Any] = {
            "queue_joined_at": self.entered_at,
            "operator": self.operator,
            "operator_answered_at": self.operator_answered_at,
            "wait_seconds": self.wait_seconds,
            "talk_seconds": self.talk_seconds,
            "abandoned_at": self.abandoned_at,
        }
        if self.abandoned_at is not None:
            # The caller hung up before an operator answered: onto the callback list, as live.
            fields |= {"callback_status": "pending", "callback_reason": "abandoned"}
        return {name: value for name, value in fields.items() if value is not None}


def fold_queue_log(
    lines: Iterable[str], queue: str, calls: dict[str, QueuedCall] | None = None
) -> tuple[dict[str, QueuedCall], list[RejectedLine]]:
    """Fold `queue`'s lines into `calls` (a new dict when None) by callid; the lines that did not parse."""
    calls = {} if calls is None else calls
    rejected: list[RejectedLine] = []
    for raw in lines:
        if not raw.strip():
            continue
        try:
            line = parse_line(raw)
        except QueueLogLineError as error:
            rejected.append(RejectedLine(raw.rstrip("\r\n")[:200], str(error)))
            continue
        if line.queue == queue and line.event in EVENT_DATA:
            calls.setdefault(line.callid, QueuedCall(line.callid)).add(line)
    return calls, rejected


class QueueLogFile:
    """The lines appended to the queue log since the previous read. A rotated or truncated file is read from its
    start, or from the first line at or after `since` when the caller gives one; an unfinished last line (Asterisk
    is writing it) waits for the next read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._inode: int | None = None
        self._offset = 0

    def read_new(self, since: datetime | None = None) -> list[str]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        with self.path.open("rb") as file:
            if stat.st_ino != self._inode or stat.st_size < self._offset:
                # Asterisk never rotates the queue log by itself: after months the file holds every call the room
                # ever had, and a restarted service read all of it (see first_offset_since).
                self._inode = stat.st_ino
                self._offset = 0 if since is None else first_offset_since(file, stat.st_size, since.timestamp())
            file.seek(self._offset)
            chunk = file.read()
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        return chunk[:complete].decode("utf-8", errors="replace").splitlines()


def first_offset_since(file: BinaryIO, size: int, since: float) -> int:
    """The offset of the first line of `file` stamped at `since` (epoch seconds) or later. Asterisk writes the lines
    in time order, so this is a binary search over byte offsets, each probe reading the first whole line at or after
    it: some thirty short reads instead of the whole file. A probe on a line without a stamp counts as recent, so the
    search can only start early, never skip a line it should read."""
    low, high = 0, size
    while low < high:
        middle = (low + high) // 2
        start = line_start_at_or_after(file, middle)
        file.seek(start)
        stamp = _stamp(file.readline())
        if start >= size or stamp is None or stamp >= since:
            high = middle
        else:
            low = middle + 1
    return line_start_at_or_after(file, low)


def line_start_at_or_after(file: BinaryIO, offset: int) -> int:
    if offset == 0:
        return 0
    file.seek(offset - 1)
    return offset - 1 + len(file.readline())


def _stamp(line: bytes) -> float | None:
    try:
        return float(line.split(b"|", 1)[0])
    except ValueError:
        return None
