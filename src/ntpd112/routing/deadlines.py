"""When a ticket is due and when it escalates (pure: the time is always a parameter, never read from a clock).

Two deadlines per ticket, from its category's limits (categories.TimeLimits):

* acknowledge: an agency must take the ticket (status acknowledged or later);
* resolve: an agency must settle it (resolved, or closed, rejected, cancelled).

Emergency categories run on the wall clock, 24 hours. Other categories run in office hours only (the table's
`office_hours` in its `timezone`, off on its `holidays` when the window skips them): a complaint made at 17:00 on a
Friday is due to be acknowledged an hour after the office opens on Monday, and resolved by Monday's closing time (the
end of the working day in which it was acknowledged-due), unless the category sets `resolve_minutes`.

A missed deadline escalates to level 1 at once, and to level 2 (the head of the agency and the camat)
`escalate_minutes` later while it is still missed (in office time for non-emergencies too: nobody is rung at night
about a pothole).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ntpd112.routing.categories import Category, TimeLimits
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.windows import WEEKDAYS, TimeWindow

MAX_LEVEL = 2
# How far ahead a working day is looked for; a calendar with none in a year is a configuration error.
_MAX_DAYS_AHEAD = 370


class Deadline(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


class NoWorkingDay(ValueError):
    """The work calendar has no working day in the coming year (every day a holiday or off)."""


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    hours: TimeWindow  # within one day (the routing table refuses office hours across midnight)
    holidays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if self.hours.skip_holidays and day in self.holidays:
            return False
        return WEEKDAYS[day.weekday()] in self.hours.days

    def _opening(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(minutes=self.hours.start_minute)

    def _closing(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(minutes=self.hours.end_minute)

    def working_start(self, at: datetime) -> datetime:
        """`at` when the office is open then, else the next opening."""
        today = at.astimezone(self.tz).date()
        for offset in range(_MAX_DAYS_AHEAD):
            day = today + timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            if offset > 0 or at < self._opening(day):
                return self._opening(day)
            if at < self._closing(day):
                return at
        raise NoWorkingDay("no working day in the coming year: check office_hours and holidays")

    def add_working_time(self, at: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of office time after `at` has passed (counted from the next opening when closed)."""
        current, remaining = self.working_start(at), duration
        while True:
            closing = self._closing(current.astimezone(self.tz).date())
            if current + remaining <= closing:
                return current + remaining
            remaining -= closing - current
            current = self.working_start(closing)

    def closing_of(self, at: datetime) -> datetime:
        """The closing time of the working day `at` (a moment inside office hours, its closing included) is in."""
        return self._closing((at - timedelta(microseconds=1)).astimezone(self.tz).date())


def calendar_of(table: RoutingTable) -> WorkCalendar:
    return WorkCalendar(table.tz, table.office_hours, frozenset(table.holidays))


@dataclass(frozen=True)
class Escalation:
    deadline: Deadline
    level: int
    at: datetime  # when this level was reached


def schedule(
    created_at: datetime, category: Category, calendar: WorkCalendar, limits: TimeLimits | None = None
) -> dict[Deadline, tuple[datetime, ...]]:
    """Per deadline, when each escalation level is reached: (level 1 = the deadline itself, level 2, ...).

    `limits`: the agency's own for this category (RoutingTable.time_limits); default the category's."""
    limits = limits or category.time_limits
    acknowledge = timedelta(minutes=limits.acknowledge_minutes)
    step = timedelta(minutes=limits.escalate_minutes)
    if category.emergency:
        assert limits.resolve_minutes is not None
        due = {
            Deadline.ACKNOWLEDGE: created_at + acknowledge,
            Deadline.RESOLVE: created_at + timedelta(minutes=limits.resolve_minutes),
        }
        return {deadline: tuple(at + step * n for n in range(MAX_LEVEL)) for deadline, at in due.items()}
    acknowledge_due = calendar.add_working_time(created_at, acknowledge)
    if limits.resolve_minutes is None:
        resolve_due = calendar.closing_of(acknowledge_due)
    else:
        resolve_due = calendar.add_working_time(created_at, timedelta(minutes=limits.resolve_minutes))
    levels: dict[Deadline, tuple[datetime, ...]] = {}
    for deadline, at in ((Deadline.ACKNOWLEDGE, acknowledge_due), (Deadline.RESOLVE, resolve_due)):
        times = [at]
        for _ in range(MAX_LEVEL - 1):
            times.append(calendar.add_working_time(times[-1], step))
        levels[deadline] = tuple(times)
    return levels


def escalations_due(
    levels: dict[Deadline, tuple[datetime, ...]],
    missed: frozenset[Deadline],
    reached: frozenset[tuple[Deadline, int]],
    now: datetime,
) -> list[Escalation]:
    """The escalations to make now, lowest level first: for each deadline still `missed` (the ticket is not yet
    acknowledged, or not yet resolved), each level whose time has come and that is not `reached` already."""
    due = []
    for deadline in Deadline:
        if deadline not in missed:
            continue
        for level, at in enumerate(levels[deadline], start=1):
            if at <= now and (deadline, level) not in reached:
                due.append(Escalation(deadline, level, at))
    return due
