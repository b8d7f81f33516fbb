"""The room's reports: what each figure means, the one rule that decides how a call ended, and the report's shape.

Every consumer (the reports, the wallboard, the API) counts calls by :data:`OUTCOME_RULE`; the store turns the same
ordered rule into SQL (store/reports.py), so a call is never "answered" in one place and "abandoned" in another.

Definitions (what a 112 supervisor answers to the Bupati for):

- **offered**: a call that reached the room (``calls.offered_at``) within the range, read in the room's time zone
  (a call at 23:30 WIB on the 31st belongs to the 31st, although it is the 31st 16:30 UTC). Every offered call has
  exactly one outcome below, in this order:
- **answered**: an operator answered it (``operator_answered_at``). The service's own answer at intake (the
  greeting, before the queue) is not an operator answer.
- **phantom abandoned**: the caller hung up while waiting for an operator (``abandoned_at``), sooner than the
  room's threshold (``[reports] phantom_abandon_seconds``, default 5 s) after the call was offered: a misdial or a
  pocket call. Counted apart; left out of the abandon rate and of the service level.
- **abandoned**: the caller hung up while waiting for an operator, after the threshold. These calls are on the
  callback list.
- **waiting**: not answered, not abandoned and not yet ended (still in intake or in the queue).
- **unanswered**: ended without an operator answer and without a queue abandon: the caller hung up during intake,
  the call overflowed to the supervisors or the backup number, or the fail-safe dialplan handled it.
- **answer time**: from offered to the operator's answer (what the caller waited, intake included), for answered
  calls; percentiles are PostgreSQL's ``percentile_cont`` (interpolated).
- **service level** (NFPA 1225: 90 % within 10 s; NENA-STA-020.1: 90 % within 15 s, 95 % within 20 s): calls
  answered within the threshold, divided by the calls that count: answered + abandoned + unanswered (a phantom
  abandon is no call the room could have answered; a waiting call has no outcome yet). "met" when the share reaches
  the target; none when no call counts.
- **categories**: the category of the call's incident (the operator's classification). Groups: *valid emergency*
  (an incident category marked ``emergency``), *information* (``information``), *non-emergency complaint* (any other
  incident category that is not an emergency: road, electricity, water, non_emergency, ...), *prank*, *silent*
  (ghost), *wrong number*, *test* (the call outcomes), *other* (a category no longer in the routing table). An
  answered call without an incident is *unclassified*.
- **agency (OPD)**: an agency the call was dispatched to (a ``dispatch_attempt`` on the timeline); it *acknowledged*
  when it answered (``agency_answered``); acknowledgement time: first attempt to that agency -> its answer.
  Processing time: operator answer -> first dispatch attempt. A call dispatched to two agencies counts for each.
- **operator**: the queue member who answered; talk time from app_queue's AgentComplete. Operator time
  (reports/operator_time.py): *logged in* and *paused* (by reason) from the queue's member events kept in
  ``operator_presence``, clipped to the range (and to the report's time for today); *wrap-up*: the queue's wrap-up
  time after each call (``[queue] wrapup_seconds``), cut short by the operator's next call; *idle*: logged in, not
  paused, not talking, not in wrap-up (ringing included).
- **callbacks**: calls of the range put on the callback list, by status and outcome.
- **breaches** (issue 15's time limits): agency tickets that missed their acknowledge or resolve limit, counted in
  the range in which they missed it (the limit's first escalation level was reached then, ``ticket_escalations``),
  whenever the call came; by agency and ticket category, and in total. Later escalation levels of the same miss are
  not counted again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from ntpd112.routing.categories import Category, CategoryKind, category_index, default_categories
from ntpd112.routing.tables import RoutingTable

MAX_RANGE_DAYS = 366


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    PHANTOM_ABANDONED = "phantom_abandoned"
    ABANDONED = "abandoned"
    WAITING = "waiting"
    UNANSWERED = "unanswered"


class Condition(StrEnum):
    """The facts the rule tests, named so the store can state each one in SQL."""

    OPERATOR_ANSWERED = "operator_answered"  # operator_answered_at is set
    LEFT_QUEUE_BEFORE_THRESHOLD = "left_queue_before_threshold"  # abandoned_at - offered_at < threshold
    LEFT_QUEUE = "left_queue"  # abandoned_at is set
    NOT_ENDED = "not_ended"  # ended_at is not set
    OTHERWISE = "otherwise"


#: The rule: the first condition that holds decides the outcome.
OUTCOME_RULE: tuple[tuple[Condition, CallOutcome], ...] = (
    (Condition.OPERATOR_ANSWERED, CallOutcome.ANSWERED),
    (Condition.LEFT_QUEUE_BEFORE_THRESHOLD, CallOutcome.PHANTOM_ABANDONED),
    (Condition.LEFT_QUEUE, CallOutcome.ABANDONED),
    (Condition.NOT_ENDED, CallOutcome.WAITING),
    (Condition.OTHERWISE, CallOutcome.UNANSWERED),
)


@dataclass(frozen=True)
class CallFacts:
    offered_at: datetime | None
    operator_answered_at: datetime | None
    abandoned_at: datetime | None
    ended_at: datetime | None


def _conditions(facts: CallFacts, phantom_seconds: float) -> Mapping[Condition, Callable[[], bool]]:
    def left_early() -> bool:
        if facts.abandoned_at is None or facts.offered_at is None:
            return False
        return (facts.abandoned_at - facts.offered_at).total_seconds() < phantom_seconds

    return {
        Condition.OPERATOR_ANSWERED: lambda: facts.operator_answered_at is not None,
        Condition.LEFT_QUEUE_BEFORE_THRESHOLD: left_early,
        Condition.LEFT_QUEUE: lambda: facts.abandoned_at is not None,
        Condition.NOT_ENDED: lambda: facts.ended_at is None,
        Condition.OTHERWISE: lambda: True,
    }


def classify_call(facts: CallFacts, phantom_seconds: float) -> CallOutcome:
    conditions = _conditions(facts, phantom_seconds)
    return next(outcome for condition, outcome in OUTCOME_RULE if conditions[condition]())


def answer_seconds(facts: CallFacts) -> float | None:
    """What the caller waited for an operator, intake included; never negative (clocks of two writers)."""
    if facts.operator_answered_at is None or facts.offered_at is None:
        return None
    return max(0.0, (facts.operator_answered_at - facts.offered_at).total_seconds())


@dataclass(frozen=True)
class ServiceLevelTarget:
    standard: str
    within_seconds: int
    target_share: float


SERVICE_LEVEL_TARGETS = (
    ServiceLevelTarget("NFPA 1225", 10, 0.90),
    ServiceLevelTarget("NENA-STA-020.1", 15, 0.90),
    ServiceLevelTarget("NENA-STA-020.1", 20, 0.95),
)
#: The outcomes a service level divides by (see the module's docstring).
SERVICE_LEVEL_OUTCOMES = (CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.UNANSWERED)


class RecapGroup(StrEnum):
    VALID_EMERGENCY = "valid_emergency"
    INFORMATION = "information"
    NON_EMERGENCY_COMPLAINT = "non_emergency_complaint"
    PRANK = "prank"
    SILENT = "silent"
    WRONG_NUMBER = "wrong_number"
    TEST = "test"
    OTHER = "other"


_OUTCOME_GROUPS = {
    "prank": RecapGroup.PRANK,
    "silent": RecapGroup.SILENT,
    "wrong_number": RecapGroup.WRONG_NUMBER,
    "test": RecapGroup.TEST,
}


def recap_group(category: Category | None) -> RecapGroup:
    """Where a category counts in the recap; None: a category the routing table no longer knows."""
    if category is None:
        return RecapGroup.OTHER
    if category.kind is CategoryKind.OUTCOME:
        return _OUTCOME_GROUPS.get(category.id, RecapGroup.OTHER)
    if category.emergency:
        return RecapGroup.VALID_EMERGENCY
    return RecapGroup.INFORMATION if category.id == "information" else RecapGroup.NON_EMERGENCY_COMPLAINT


def category_rows(counts: Iterable[tuple[str, int]], categories: Sequence[Category]) -> list[CategoryRow]:
    """Calls per incident category, labelled and grouped, in the routing table's order (unknown ones last)."""
    known = category_index(categories)
    order = {category_id: index for index, category_id in enumerate(known)}
    rows = [
        CategoryRow(
            category=category_id,
            label=known[category_id].label_id if category_id in known else category_id,
            group=recap_group(known.get(category_id)),
            calls=count,
        )
        for category_id, count in counts
    ]
    return sorted(rows, key=lambda row: (order.get(row.category, len(order)), row.category))


def report_names(table: RoutingTable | None) -> tuple[list[Category], dict[str, str]]:
    """The categories and agency names a report uses: the routing table's in force (None: no table yet)."""
    if table is None:
        return default_categories(), {}
    return list(table.categories), {agency.id: agency.name for agency in table.agencies}


class RangeError(ValueError):
    pass


@dataclass(frozen=True)
class ReportRange:
    """Whole days from `first` to `last` (inclusive) in the room's time zone."""

    first: date
    last: date
    timezone: str

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise RangeError("the range starts after it ends (from > to)")
        if (self.last - self.first).days + 1 > MAX_RANGE_DAYS:
            raise RangeError(f"a report covers at most {MAX_RANGE_DAYS} days")
        ZoneInfo(self.timezone)  # an unknown zone fails here, not in the query

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), ZoneInfo(self.timezone))

    @property
    def start(self) -> datetime:
        return self._midnight(self.first)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return self._midnight(self.last + timedelta(days=1))


# -- the report ----------------------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Flow(_Row):
    """How the offered calls ended; offered is the sum of the five outcomes."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    phantom_abandoned: int = 0
    unanswered: int = 0
    waiting: int = 0


def flow_of(counts: Mapping[CallOutcome, int]) -> Flow:
    return Flow(offered=sum(counts.values()), **{outcome.value: counts.get(outcome, 0) for outcome in CallOutcome})


class Totals(Flow):
    valid_emergencies: int = 0
    information: int = 0
    non_emergency_complaints: int = 0
    prank: int = 0
    silent: int = 0
    wrong_number: int = 0
    test: int = 0
    other_category: int = 0
    unclassified_answered: int = 0
    dispatched: int = 0  # calls dispatched to at least one agency
    acknowledged_by_agency: int = 0  # calls at least one agency answered
    # Agency tickets that missed a time limit in the range (by when they missed it; see BreachRow).
    breached_acknowledge: int = 0
    breached_resolve: int = 0


class AnswerTimes(_Row):
    answered: int
    p50_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None
    mean_seconds: float | None
    max_seconds: float | None


class ServiceLevel(_Row):
    standard: str
    within_seconds: int
    target_share: float
    answered_within: int
    counted: int
    share: float | None
    met: bool | None


def service_level(target: ServiceLevelTarget, answered_within: int, counted: int) -> ServiceLevel:
    share = answered_within / counted if counted else None
    # Rounded before comparing: 9 of 10 is 90 % exactly, whatever the float division says.
    met = None if share is None else round(share, 9) >= target.target_share
    return ServiceLevel(
        standard=target.standard,
        within_seconds=target.within_seconds,
        target_share=target.target_share,
        answered_within=answered_within,
        counted=counted,
        share=None if share is None else round(share, 4),
        met=met,
    )


class CategoryRow(_Row):
    category: str
    label: str
    group: RecapGroup
    calls: int


class AgencyRow(_Row):
    agency: str
    label: str
    dispatched: int
    acknowledged: int
    ack_p50_seconds: float | None


class BreachRow(_Row):
    """Agency tickets of one agency and category that missed a time limit (routing/deadlines.py) in the range: a
    ticket counts for a limit when it reached that limit's first escalation level (ticket_escalations, level 1) at
    a moment inside the range, whenever it was opened; one ticket may miss both limits."""

    agency: str
    category: str
    agency_label: str
    category_label: str
    acknowledge: int  # not acknowledged in time
    resolve: int  # not resolved in time


class AreaRow(Flow):
    kecamatan: str | None
    kelurahan: str | None


class OperatorRow(_Row):
    operator: str
    handled: int
    talk_seconds: float
    mean_talk_seconds: float | None
    mean_answer_seconds: float | None
    # Operator time (see the module's docstring); None: no presence recorded for the operator in the range.
    logged_in_seconds: float | None = None
    wrap_up_seconds: float | None = None
    pause_seconds: float | None = None
    idle_seconds: float | None = None


class OperatorPauseRow(_Row):
    operator: str
    reason: str
    seconds: float


class TrunkRow(Flow):
    trunk: str | None
    carrier: str | None


class HourRow(Flow):
    hour: int  # 0-23, room time


class WeekdayRow(Flow):
    weekday: int  # ISO: 1 Monday ... 7 Sunday, room time
    name: str


class DayRow(Flow):
    day: date  # room time


class ProcessingTimes(_Row):
    dispatched: int
    p50_seconds: float | None
    p90_seconds: float | None


class CallbackRow(_Row):
    status: str
    outcome: str | None
    calls: int


WEEKDAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


class Report(_Row):
    schema_version: Literal[1] = 1
    pemda: str
    period_from: date
    period_to: date
    timezone: str
    phantom_abandon_seconds: float
    generated_at: datetime
    totals: Totals
    answer_times: AnswerTimes
    service_levels: list[ServiceLevel]
    processing: ProcessingTimes
    by_category: list[CategoryRow]
    by_agency: list[AgencyRow]
    by_area: list[AreaRow]
    by_operator: list[OperatorRow]
    operator_pauses: list[OperatorPauseRow] = []
    by_trunk: list[TrunkRow]
    by_hour: list[HourRow]
    by_weekday: list[WeekdayRow]
    by_day: list[DayRow]
    callbacks: list[CallbackRow]
    breaches: list[BreachRow] = []


def seconds(value: float | None) -> float | None:
    """Durations in the report: to the tenth of a second; None stays None (no call to measure)."""
    return None if value is None or math.isnan(value) else round(value, 1)
