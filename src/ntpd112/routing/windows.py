"""Time windows of routing rules: days, start and end in the table's time zone (pure)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")

_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_MINUTES_PER_DAY = 24 * 60


def _parse_hhmm(value: str, *, allow_24: bool) -> int:
    if allow_24 and value == "24:00":
        return _MINUTES_PER_DAY
    found = _TIME_RE.fullmatch(value)
    if found is None:
        extra = " or 24:00" if allow_24 else ""
        raise ValueError(f"bad time {value!r}: expected HH:MM from 00:00 to 23:59{extra}")
    return int(found[1]) * 60 + int(found[2])


def _days_text(days: Sequence[str]) -> str:
    if tuple(days) == WEEKDAYS:
        return "daily"
    if tuple(days) == WORKDAYS:
        return "mon-fri"
    return ",".join(days)


def local_text(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"


class TimeWindow(BaseModel):
    """When a rule is active: on ``days``, from ``start`` (inclusive) to ``end`` (exclusive), local time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: str
    end: str
    skip_holidays: bool = False

    @field_validator("days")
    @classmethod
    def _canonical_days(cls, value: list[Weekday]) -> list[Weekday]:
        if not value:
            raise ValueError("a time window needs at least one day")
        wanted = set(value)
        return [day for day in WEEKDAYS if day in wanted]

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: str) -> str:
        _parse_hhmm(value, allow_24=False)
        return value

    @field_validator("end")
    @classmethod
    def _check_end(cls, value: str) -> str:
        _parse_hhmm(value, allow_24=True)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start_minute == self.end_minute:
            raise ValueError(
                f"bad time: window {self.start}-{self.end} is empty or ambiguous; use 00:00-24:00 for a whole day"
            )
        return self

    @property
    def start_minute(self) -> int:
        return _parse_hhmm(self.start, allow_24=False)

    @property
    def end_minute(self) -> int:
        return _parse_hhmm(self.end, allow_24=True)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute < self.start_minute

    def describe(self) -> str:
        text = f"{_days_text(self.days)} {self.start}-{self.end}"
        return text + (" except holidays" if self.skip_holidays else "")

    def contains(self, local: datetime, holidays: Collection[date] = ()) -> bool:
        """Whether the wall-clock time ``local`` falls inside this window."""
        minute = local.hour * 60 + local.minute
        today = local.date()
        start, end = self.start_minute, self.end_minute
        if not self.crosses_midnight:
            return start <= minute < end and self._day_ok(today, holidays)
        if minute >= start:
            return self._day_ok(today, holidays)
        if minute < end:  # the tail of a window that started yesterday
            return self._day_ok(today - timedelta(days=1), holidays)
        return False

    def _day_ok(self, day: date, holidays: Collection[date]) -> bool:
        if self.skip_holidays and day in holidays:
            return False
        return WEEKDAYS[day.weekday()] in self.days
