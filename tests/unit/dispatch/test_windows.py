from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from ntpd112.routing.matching import DecisionKind, match
from ntpd112.routing.windows import TimeWindow
from tests.unit.dispatch.builders import JAKARTA, OFFICE, at, rule, table

OVERNIGHT_FRI = TimeWindow(days=["fri"], start="22:00", end="06:00")


@pytest.mark.parametrize(
    ("day", "hhmm", "inside"),
    [
        ("mon", "07:59", False),
        ("mon", "08:00", True),  # start inclusive
        ("wed", "12:00", True),
        ("fri", "15:59", True),
        ("fri", "16:00", False),  # end exclusive
        ("sat", "10:00", False),
        ("sun", "10:00", False),
    ],
)
def test_office_hours(day: str, hhmm: str, inside: bool) -> None:
    assert TimeWindow.model_validate(OFFICE).contains(at(day, hhmm)) is inside


def test_seconds_do_not_matter_within_the_minute() -> None:
    window = TimeWindow.model_validate(OFFICE)
    assert window.contains(at("mon", "15:59").replace(second=59, microsecond=999999))


@pytest.mark.parametrize(
    ("day", "hhmm", "inside"),
    [
        ("fri", "21:59", False),
        ("fri", "22:00", True),
        ("fri", "23:59", True),
        ("sat", "00:00", True),  # the tail belongs to Friday's window
        ("sat", "05:59", True),
        ("sat", "06:00", False),
        ("sat", "22:30", False),  # Saturday is not in days
        ("fri", "05:00", False),  # Thursday's tail: Thursday is not in days
        ("thu", "23:00", False),
    ],
)
def test_window_across_midnight(day: str, hhmm: str, inside: bool) -> None:
    assert OVERNIGHT_FRI.crosses_midnight
    assert OVERNIGHT_FRI.contains(at(day, hhmm)) is inside


def test_overnight_every_day_wraps_the_week() -> None:
    nightly = TimeWindow(start="22:00", end="06:00")
    assert nightly.contains(at("mon", "03:00"))  # Sunday night's tail
    assert nightly.contains(at("sun", "23:00"))
    assert not nightly.contains(at("wed", "12:00"))


def test_end_24_00_covers_the_last_minute() -> None:
    whole_day = TimeWindow(days=["sat", "sun"], start="00:00", end="24:00")
    assert not whole_day.crosses_midnight
    assert whole_day.contains(at("sat", "00:00"))
    assert whole_day.contains(at("sun", "23:59"))
    assert not whole_day.contains(at("mon", "00:00"))


def test_holidays_skip_only_flagged_windows() -> None:
    holiday = date(2026, 11, 25)  # a Wednesday
    skipping = TimeWindow.model_validate({**OFFICE, "skip_holidays": True})
    plain = TimeWindow.model_validate(OFFICE)
    assert not skipping.contains(at("wed", "10:00"), {holiday})
    assert plain.contains(at("wed", "10:00"), {holiday})
    assert skipping.contains(at("thu", "10:00"), {holiday})


def test_holiday_of_the_start_day_governs_an_overnight_window() -> None:
    window = TimeWindow(days=["fri"], start="22:00", end="06:00", skip_holidays=True)
    friday = date(2026, 11, 27)
    saturday = date(2026, 11, 28)
    assert not window.contains(at("sat", "02:00"), {friday})
    assert window.contains(at("sat", "02:00"), {saturday})


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("24:00", "06:00"),
        ("7:00", "16:00"),
        ("08:60", "16:00"),
        ("0800", "16:00"),
        ("", "16:00"),
        ("08:00", "24:01"),
        ("08:00", "25:00"),
        ("08:00:00", "16:00"),
        ("\u0660\u0668:\u0660\u0660", "16:00"),  # Arabic-Indic digits
        ("08:00", "noon"),
    ],
)
def test_bad_times_refused(start: str, end: str) -> None:
    with pytest.raises(ValidationError, match="bad time"):
        TimeWindow(start=start, end=end)


@pytest.mark.parametrize(("start", "end"), [("08:00", "08:00"), ("00:00", "24:00")])
def test_empty_window_refused_but_whole_day_allowed(start: str, end: str) -> None:
    if start == end:
        with pytest.raises(ValidationError, match="empty or ambiguous"):
            TimeWindow(start=start, end=end)
    else:
        assert TimeWindow(start=start, end=end).contains(at("tue", "13:37"))


def test_days_are_canonical_and_required() -> None:
    window = TimeWindow(days=["sun", "mon", "sun"], start="01:00", end="02:00")
    assert window.days == ["mon", "sun"]
    assert window.describe() == "mon,sun 01:00-02:00"
    assert TimeWindow.model_validate(OFFICE).describe() == "mon-fri 08:00-16:00"
    assert TimeWindow(start="01:00", end="02:00", skip_holidays=True).describe() == "daily 01:00-02:00 except holidays"
    with pytest.raises(ValidationError, match="at least one day"):
        TimeWindow(days=[], start="01:00", end="02:00")
    with pytest.raises(ValidationError):
        TimeWindow.model_validate({"days": ["monday"], "start": "01:00", "end": "02:00"})


def test_match_converts_to_table_timezone() -> None:
    t = table(rule("office", ["non_emergency"], windows=[OFFICE]))
    utc_0130 = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # 08:30 in Jakarta
    assert match(t, "non_emergency", None, utc_0130).kind is DecisionKind.ROUTE
    utc_0030 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 in Jakarta
    assert match(t, "non_emergency", None, utc_0030).kind is DecisionKind.DEFAULT
    naive = datetime(2026, 11, 23, 8, 30)  # naive is local time of the table
    decision = match(t, "non_emergency", None, naive)
    assert decision.kind is DecisionKind.ROUTE
    assert decision.local_time.tzinfo == JAKARTA


def test_other_table_timezone() -> None:
    t = table(rule("office", ["non_emergency"], windows=[OFFICE]), timezone="Asia/Makassar")  # UTC+8
    eight_jakarta = at("mon", "07:30")  # 08:30 WITA
    assert match(t, "non_emergency", None, eight_jakarta).kind is DecisionKind.ROUTE
    assert match(t, "non_emergency", None, eight_jakarta).local_time.utcoffset() == timedelta(hours=8)
