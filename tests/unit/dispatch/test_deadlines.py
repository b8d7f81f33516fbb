"""Ticket deadlines and escalation levels: office-time arithmetic over evenings, weekends and holidays, emergencies on
the wall clock, each level once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ntpd112.routing.categories import Category, TimeLimits
from ntpd112.routing.deadlines import Deadline, Escalation, NoWorkingDay, WorkCalendar, escalations_due, schedule
from ntpd112.routing.tables import default_office_hours
from ntpd112.routing.windows import TimeWindow

WIB = ZoneInfo("Asia/Jakarta")
# Friday 25 December 2026 is Christmas; Thursday 24 December a working day.
CALENDAR = WorkCalendar(WIB, default_office_hours(), frozenset({date(2026, 12, 25)}))
COMPLAINT = Category(id="road", label_id="Jalan", label_en="Road")
FIRE = Category(id="fire", label_id="Kebakaran", label_en="Fire", emergency=True)


def wib(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(
    ("at", "start"),
    [
        (wib(23, 9, 15), wib(23, 9, 15)),  # Wednesday, open
        (wib(23, 7, 59), wib(23, 8)),  # before opening
        (wib(23, 16), wib(24, 8)),  # closing time itself is closed
        (wib(24, 17), wib(28, 8)),  # Thursday evening: Friday is Christmas, then the weekend
        (wib(26, 10), wib(28, 8)),  # Saturday
    ],
)
def test_the_office_clock_starts_at_the_next_opening(at: datetime, start: datetime) -> None:
    assert CALENDAR.working_start(at) == start


def test_office_time_carries_over_closing_weekends_and_holidays() -> None:
    assert CALENDAR.add_working_time(wib(24, 15, 30), timedelta(hours=1)) == wib(28, 8, 30)
    assert CALENDAR.add_working_time(wib(23, 10), timedelta(hours=2)) == wib(23, 12)
    assert CALENDAR.add_working_time(wib(23, 15), timedelta(hours=1)) == wib(23, 16)  # exactly at closing
    assert CALENDAR.closing_of(wib(23, 16)) == wib(23, 16)


def test_a_complaint_is_due_the_same_working_day() -> None:
    levels = schedule(wib(23, 10), COMPLAINT, CALENDAR)  # acknowledge 60 office minutes, escalate 60
    assert levels[Deadline.ACKNOWLEDGE] == (wib(23, 11), wib(23, 12))
    assert levels[Deadline.RESOLVE] == (wib(23, 16), wib(24, 9))  # level 2 the next morning, not at night


def test_a_complaint_made_after_hours_is_due_the_next_working_day() -> None:
    levels = schedule(wib(24, 20), COMPLAINT, CALENDAR)
    assert levels[Deadline.ACKNOWLEDGE][0] == wib(28, 9)
    assert levels[Deadline.RESOLVE][0] == wib(28, 16)


def test_an_emergency_runs_on_the_wall_clock_at_night_and_on_holidays() -> None:
    created = wib(25, 2)  # Christmas, 02:00
    levels = schedule(created, FIRE, CALENDAR)  # 2 min, 240 min, escalate 10
    assert levels[Deadline.ACKNOWLEDGE] == (wib(25, 2, 2), wib(25, 2, 12))
    assert levels[Deadline.RESOLVE] == (wib(25, 6), wib(25, 6, 10))


def test_a_category_sets_its_own_limits_and_an_emergency_needs_a_resolve_limit() -> None:
    quick = Category(
        id="fire",
        label_id="K",
        label_en="F",
        emergency=True,
        limits=TimeLimits(acknowledge_minutes=0.05, resolve_minutes=1, escalate_minutes=0.05),
    )
    levels = schedule(wib(23, 3), quick, CALENDAR)
    assert levels[Deadline.ACKNOWLEDGE] == (wib(23, 3) + timedelta(seconds=3), wib(23, 3) + timedelta(seconds=6))
    with pytest.raises(ValidationError, match="needs resolve_minutes"):
        Category(id="fire", label_id="K", label_en="F", emergency=True, limits=TimeLimits(acknowledge_minutes=2))
    with pytest.raises(ValidationError, match="shorter than acknowledge"):
        TimeLimits(acknowledge_minutes=10, resolve_minutes=5)
    with pytest.raises(ValidationError):
        TimeLimits(acknowledge_minutes=0)


def test_escalations_come_level_by_level_once_and_stop_when_the_deadline_is_met() -> None:
    levels = schedule(wib(23, 3), FIRE, CALENDAR)
    both = frozenset(Deadline)
    assert escalations_due(levels, both, frozenset(), wib(23, 3, 1)) == []
    assert escalations_due(levels, both, frozenset(), wib(23, 3, 2)) == [
        Escalation(Deadline.ACKNOWLEDGE, 1, wib(23, 3, 2))
    ]
    reached = frozenset({(Deadline.ACKNOWLEDGE, 1)})
    assert escalations_due(levels, both, reached, wib(23, 3, 5)) == []  # recorded once
    assert escalations_due(levels, both, reached, wib(23, 3, 12)) == [
        Escalation(Deadline.ACKNOWLEDGE, 2, wib(23, 3, 12))
    ]
    # Acknowledged: the acknowledge deadline no longer escalates; the resolve one still runs.
    resolve_only = frozenset({Deadline.RESOLVE})
    assert escalations_due(levels, resolve_only, frozenset(), wib(23, 3, 30)) == []
    assert [e.level for e in escalations_due(levels, resolve_only, frozenset(), wib(23, 8))] == [1, 2]
    assert escalations_due(levels, frozenset(), frozenset(), wib(23, 23)) == []


def test_a_calendar_without_working_days_is_refused() -> None:
    weekend_only = TimeWindow(days=["sat"], start="08:00", end="16:00", skip_holidays=True)
    saturdays = frozenset(date(2026, 12, 26) + timedelta(weeks=n) for n in range(60))
    with pytest.raises(NoWorkingDay):
        WorkCalendar(WIB, weekend_only, saturdays).working_start(wib(23, 9))
