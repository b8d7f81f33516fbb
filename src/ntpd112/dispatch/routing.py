"""Routing tables: validation, matching, explanation, diff and the fail-safe dialplan (pure domain, no I/O).

A :class:`RoutingTable` is what admins edit (stored as JSON: ``RoutingTable.model_validate_json`` /
``model_dump_json``, or :func:`load_table` for errors that name the rule and field). It holds the categories
in use, the agency directory, the dispatch targets, the rules and a default chain.

Matching (:func:`match`)
    A rule is a *candidate* for a call when its categories contain the call's category (or are ``*``) and its
    areas contain the call's area (or are ``*``; an unknown area only matches ``*``). Candidates are ranked
    by:

    1. ``priority``, higher first;
    2. area-specific before area wildcard;
    3. category-specific before category wildcard;
    4. order in the table, earlier first.

    The ranked candidates are walked in order. The first one whose time windows contain the local time (a rule
    without windows is always active) is selected and its chain is the route. A candidate that is not active
    passes the call on to the next one, unless it has an ``outside_hours`` action: then the decision is
    ``after_hours`` (a message for the caller and a ticket for the agency). ``outside_hours`` is refused on
    rules that cover an emergency category, so an emergency never gets a ticket instead of a transfer. When no
    candidate applies, the table's ``default_chain`` (the 112 supervisors) is the route. Call outcomes (prank,
    silent, ...) are never routed (``no_dispatch``).

Time windows
    ``days`` + ``start``-``end`` in the table's timezone (default Asia/Jakarta), minute resolution, ``start``
    inclusive and ``end`` exclusive; ``end`` may be ``24:00``. A window whose end is before its start crosses
    midnight and belongs to the day it starts on: ``fri 22:00-06:00`` covers Friday 22:00 to Saturday 06:00.
    ``skip_holidays`` makes the window inactive on the table's ``holidays`` (dates of the starting day).

Continuations
    ``then: <rule id>`` appends that rule's chain (and its continuation) after a rule's own chain. Unknown
    references and loops are refused.

Fail-safe dialplan (:func:`render_dialplan`)
    See the function. It ignores time windows and areas because Asterisk routes alone while the service is
    down.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ntpd112.dispatch.agencies import (
    DIAL_NUMBER_PATTERN,
    ENDPOINT_PATTERN,
    Agency,
    ExternalNumber,
    HuntGroup,
    RingStrategy,
    Slug,
    Target,
    Timeout,
    default_agencies,
    default_targets,
)
from ntpd112.dispatch.categories import CATEGORY_ID_PATTERN, Category, default_categories

__all__ = [
    "DIALPLAN_CONTEXT",
    "WEEKDAYS",
    "WILDCARD",
    "WORKDAYS",
    "ChainStep",
    "DecisionKind",
    "DialplanRenderError",
    "FailsafeRoute",
    "OutsideHours",
    "RouteDecision",
    "RouteStep",
    "RoutingTable",
    "RoutingTableError",
    "Rule",
    "RuleCheck",
    "RuleVerdict",
    "TableIssue",
    "TimeWindow",
    "Weekday",
    "default_table",
    "diff",
    "explain",
    "failsafe_routes",
    "fingerprint",
    "load_table",
    "match",
    "render_dialplan",
    "rule_chain",
    "validate_table",
]

WILDCARD = "*"
DIALPLAN_CONTEXT = "ntpd112-routes"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")

_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_MINUTES_PER_DAY = 24 * 60

#: A category reference in a rule: a category id or ``*``.
CategoryRef = Annotated[str, StringConstraints(pattern=r"^(\*|" + CATEGORY_ID_PATTERN[1:-1] + r")$")]
#: An area (kecamatan code such as ``32.01.05`` or name such as ``Cibinong``) or ``*``. Compared
#: case-insensitively with whitespace collapsed.
AreaRef = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^(\*|\w[\w .'/-]*)$")]
#: Text for a caller or a ticket: no control characters.
Message = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")]


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


def _norm_area(area: str) -> str:
    return " ".join(area.split()).casefold()


def _local_text(local: datetime) -> str:
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


class ChainStep(BaseModel):
    """One target of a chain; ``timeout`` overrides the target's own ring time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: Slug
    timeout: Timeout | None = None


class OutsideHours(BaseModel):
    """What a non-emergency rule does outside its windows: tell the caller, open a ticket for the agency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message: Message
    ticket_agency: Slug


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    description: str = Field(default="", max_length=200)
    #: Category ids, or ``"*"`` (also accepted as ``["*"]``) for every dispatchable category.
    categories: list[CategoryRef]
    #: Kecamatan codes or names, or ``"*"`` for any area (including an unknown one).
    areas: list[AreaRef] = Field(default_factory=lambda: [WILDCARD])
    #: Empty: always active.
    windows: list[TimeWindow] = Field(default_factory=list)
    priority: int = Field(default=0, ge=-1000, le=1000)
    chain: list[ChainStep] = Field(max_length=20)
    then: Slug | None = None
    outside_hours: OutsideHours | None = None

    @field_validator("categories", "areas", mode="before")
    @classmethod
    def _wildcard_string(cls, value: object) -> object:
        return [WILDCARD] if value == WILDCARD else value

    @field_validator("categories", "areas")
    @classmethod
    def _wildcard_alone(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value:
            raise ValueError(f"no {info.field_name}: list them or use '*'")
        if WILDCARD in value and len(value) > 1:
            raise ValueError("'*' must stand alone")
        seen: set[str] = set()
        unique: list[str] = []
        for item in value:
            key = _norm_area(item)
            if key not in seen:
                seen.add(key)
                unique.append(item)
        return unique

    @field_validator("chain")
    @classmethod
    def _chain_not_empty(cls, value: list[ChainStep]) -> list[ChainStep]:
        if not value:
            raise ValueError("empty chain: a rule needs at least one target")
        return value

    @property
    def any_category(self) -> bool:
        return self.categories == [WILDCARD]

    @property
    def any_area(self) -> bool:
        return self.areas == [WILDCARD]

    def matches_category(self, category: str) -> bool:
        return self.any_category or category in self.categories

    def matches_area(self, area: str | None) -> bool:
        if self.any_area:
            return True
        if area is None:
            return False
        wanted = _norm_area(area)
        return any(_norm_area(a) == wanted for a in self.areas)

    def active_at(self, local: datetime, holidays: Collection[date] = ()) -> bool:
        return not self.windows or any(w.contains(local, holidays) for w in self.windows)

    def describe_windows(self) -> str:
        return "; ".join(w.describe() for w in self.windows) if self.windows else "always"


@dataclass(frozen=True)
class TableIssue:
    """One reason a routing table is refused: where (section, item id, field) and why."""

    section: str  # "rules", "targets", "agencies", "categories" or "table"
    item: str | None  # id of the rule/target/...; "#<index>" when it has no usable id
    field: str  # e.g. "chain[1].target"; "" for the item as a whole
    message: str

    @property
    def rule(self) -> str | None:
        return self.item if self.section == "rules" else None

    def __str__(self) -> str:
        where = self.section if self.item is None else f"{self.section}[{self.item}]"
        if self.section == "table":
            where = self.field or "table"
        elif self.field:
            where = f"{where}.{self.field}"
        return f"{where}: {self.message}"


class RoutingTableError(ValueError):
    """A routing table was refused; ``issues`` lists every problem found. Nothing is applied."""

    def __init__(self, issues: Sequence[TableIssue]) -> None:
        self.issues: tuple[TableIssue, ...] = tuple(issues)
        super().__init__("invalid routing table:\n" + "\n".join(f"  {issue}" for issue in self.issues))


class RoutingTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Increases with every accepted change; the version the service and the dialplan were built from.
    version: int = Field(default=1, ge=1)
    timezone: str = "Asia/Jakarta"
    #: Public holidays: windows with ``skip_holidays`` are inactive on these dates.
    holidays: list[date] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=default_categories)
    agencies: list[Agency]
    targets: list[Target]
    rules: list[Rule]
    #: Route when no rule applies (for example the 112 supervisors).
    default_chain: list[ChainStep]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("default_chain")
    @classmethod
    def _default_chain_not_empty(cls, value: list[ChainStep]) -> list[ChainStep]:
        if not value:
            raise ValueError("empty chain: the default chain needs at least one target")
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> RoutingTable:
        issues = validate_table(self)
        if issues:
            raise RoutingTableError(issues)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def target(self, target_id: str) -> HuntGroup | ExternalNumber | None:
        return next((t for t in self.targets if t.id == target_id), None)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)


# ------------------------------------------------------------------------------------------------------------
# Validation


def _duplicates(section: str, ids: Sequence[str]) -> list[TableIssue]:
    seen: set[str] = set()
    issues = []
    for item_id in ids:
        if item_id in seen:
            issues.append(TableIssue(section, item_id, "id", f"duplicate id {item_id!r}"))
        seen.add(item_id)
    return issues


def _chain_issues(
    section: str, item: str | None, field: str, chain: Sequence[ChainStep], target_ids: Collection[str]
) -> list[TableIssue]:
    issues = []
    if not chain:
        issues.append(TableIssue(section, item, field, "empty chain"))
    for index, step in enumerate(chain):
        if step.target not in target_ids:
            issues.append(TableIssue(section, item, f"{field}[{index}].target", f"unknown target {step.target!r}"))
    return issues


def _loop_issues(rules: Sequence[Rule]) -> list[TableIssue]:
    then_of = {rule.id: rule.then for rule in rules}
    reported: set[frozenset[str]] = set()
    issues = []
    for rule in rules:
        path = [rule.id]
        current = rule.then
        while current is not None and current in then_of:
            if current in path:
                cycle = path[path.index(current) :]
                key = frozenset(cycle)
                if key not in reported and cycle[0] == rule.id:
                    reported.add(key)
                    text = " -> ".join([*cycle, current])
                    issues.append(TableIssue("rules", rule.id, "then", f"loop: {text}"))
                break
            path.append(current)
            current = then_of[current]
    return issues


def validate_table(table: RoutingTable) -> list[TableIssue]:
    """Cross-reference checks of a table whose fields are individually valid; [] when the table is good.

    Duplicate ids, unknown categories/agencies/targets/continuations, call outcomes in rules,
    ``outside_hours`` on rules without windows or covering an emergency category, empty chains and ``then``
    loops. (Field checks such as bad times and timeouts are done by the models themselves; :func:`load_table`
    reports both.)
    """
    issues: list[TableIssue] = []
    issues += _duplicates("categories", [c.id for c in table.categories])
    issues += _duplicates("agencies", [a.id for a in table.agencies])
    issues += _duplicates("targets", [t.id for t in table.targets])
    issues += _duplicates("rules", [r.id for r in table.rules])

    categories = {c.id: c for c in table.categories}
    agency_ids = {a.id for a in table.agencies}
    target_ids = {t.id for t in table.targets}
    rule_ids = {r.id for r in table.rules}

    for target in table.targets:
        if target.agency not in agency_ids:
            issues.append(TableIssue("targets", target.id, "agency", f"unknown agency {target.agency!r}"))

    for rule in table.rules:
        for index, cat_id in enumerate(rule.categories):
            if cat_id == WILDCARD:
                continue
            category = categories.get(cat_id)
            if category is None:
                issues.append(TableIssue("rules", rule.id, f"categories[{index}]", f"unknown category {cat_id!r}"))
            elif not category.dispatch:
                issues.append(
                    TableIssue(
                        "rules",
                        rule.id,
                        f"categories[{index}]",
                        f"{cat_id!r} is a call outcome and is never dispatched",
                    )
                )
        issues += _chain_issues("rules", rule.id, "chain", rule.chain, target_ids)
        if rule.then is not None and rule.then not in rule_ids:
            issues.append(TableIssue("rules", rule.id, "then", f"unknown rule {rule.then!r}"))
        if rule.outside_hours is not None:
            if not rule.windows:
                issues.append(
                    TableIssue("rules", rule.id, "outside_hours", "outside_hours needs time windows to be outside of")
                )
            covered = [c for c in table.categories if c.dispatch and rule.matches_category(c.id)]
            emergencies = [c.id for c in covered if c.emergency]
            if emergencies:
                issues.append(
                    TableIssue(
                        "rules",
                        rule.id,
                        "outside_hours",
                        "emergency categories are handled 24 hours and cannot get an after-hours ticket: "
                        + ", ".join(emergencies),
                    )
                )
            if rule.outside_hours.ticket_agency not in agency_ids:
                issues.append(
                    TableIssue(
                        "rules",
                        rule.id,
                        "outside_hours.ticket_agency",
                        f"unknown agency {rule.outside_hours.ticket_agency!r}",
                    )
                )

    issues += _loop_issues(table.rules)
    issues += _chain_issues("table", None, "default_chain", table.default_chain, target_ids)
    return issues


_ITEM_SECTIONS = ("rules", "targets", "agencies", "categories")
_UNION_TAGS = frozenset({"hunt_group", "external"})


def _field_path(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _raw_item_id(raw: object, section: str, index: int) -> str:
    if isinstance(raw, Mapping):
        items = raw.get(section)
        if isinstance(items, list) and 0 <= index < len(items):
            item = items[index]
            if isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"]:
                return str(item["id"])
    return f"#{index}"


def _issues_from_validation_error(exc: ValidationError, raw: object) -> list[TableIssue]:
    issues: list[TableIssue] = []
    for error in exc.errors():
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, RoutingTableError):
            issues.extend(inner.issues)
            continue
        message = str(inner) if isinstance(inner, Exception) else error["msg"]
        parts = [p for p in error["loc"] if p not in _UNION_TAGS]
        if len(parts) >= 2 and parts[0] in _ITEM_SECTIONS and isinstance(parts[1], int):
            section = str(parts[0])
            issues.append(TableIssue(section, _raw_item_id(raw, section, parts[1]), _field_path(parts[2:]), message))
        else:
            issues.append(TableIssue("table", None, _field_path(parts), message))
    return issues


def load_table(data: str | bytes | Mapping[str, Any]) -> RoutingTable:
    """Parse and validate a routing table (JSON text or an already decoded mapping).

    Raises :class:`RoutingTableError` listing every issue, each naming the rule (or target, agency, ...) and
    the field. A table is accepted whole or refused whole.
    """
    raw: object
    if isinstance(data, str | bytes):
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise RoutingTableError([TableIssue("table", None, "", f"invalid JSON: {exc}")]) from None
    else:
        raw = data
    if not isinstance(raw, Mapping):
        raise RoutingTableError([TableIssue("table", None, "", "a routing table must be a JSON object")])
    try:
        return RoutingTable.model_validate(raw)
    except ValidationError as exc:
        raise RoutingTableError(_issues_from_validation_error(exc, raw)) from None


def fingerprint(table: RoutingTable) -> str:
    """SHA-256 of the table's canonical JSON: identifies exactly what a route decision was made with."""
    return hashlib.sha256(table.model_dump_json().encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Matching


class RouteStep(BaseModel):
    """A resolved chain entry: the target, the ring time to use and the rule it came from (None: default
    chain)."""

    model_config = ConfigDict(frozen=True)

    target: Target
    timeout: int
    rule_id: str | None

    def describe(self) -> str:
        target = self.target
        if isinstance(target, HuntGroup):
            how = f"{target.strategy.value} " + " ".join(target.endpoints)
        else:
            how = f"{target.number} via {target.trunk}"
        return f"{target.id} [{target.agency}: {how}] {self.timeout}s"


def _resolve(table: RoutingTable, chain: Sequence[ChainStep], rule_id: str | None) -> list[RouteStep]:
    steps = []
    for step in chain:
        target = table.target(step.target)
        if target is None:  # only possible for a table that bypassed validation (model_construct)
            continue
        timeout = step.timeout if step.timeout is not None else target.timeout
        steps.append(RouteStep(target=target, timeout=timeout, rule_id=rule_id))
    return steps


def rule_chain(table: RoutingTable, rule: Rule) -> list[RouteStep]:
    """The rule's chain followed by its ``then`` continuations (a loop, refused by validation, is cut)."""
    steps: list[RouteStep] = []
    seen: set[str] = set()
    current: Rule | None = rule
    while current is not None and current.id not in seen:
        seen.add(current.id)
        steps += _resolve(table, current.chain, current.id)
        current = table.rule(current.then) if current.then is not None else None
    return steps


class DecisionKind(StrEnum):
    ROUTE = "route"  # a rule's chain
    AFTER_HOURS = "after_hours"  # a non-emergency outside its hours: message + ticket
    DEFAULT = "default"  # no rule applied: the table's default chain
    NO_DISPATCH = "no_dispatch"  # a call outcome (prank, silent, ...)


class RuleVerdict(StrEnum):
    SELECTED = "selected"
    AFTER_HOURS = "after_hours"
    INACTIVE = "inactive"  # candidate, outside its windows, passed on
    OUTRANKED = "outranked"  # candidate, not reached because a higher-ranked one decided
    NOT_APPLICABLE = "not_applicable"  # category or area does not match


class RuleCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: str
    position: int  # 0-based index in the table
    rank: int | None  # 1-based rank among candidates
    verdict: RuleVerdict
    reason: str


class RouteDecision(BaseModel):
    """What happens to a call; ``explanation`` is what ``routes explain`` prints."""

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    category: str
    area: str | None
    local_time: datetime
    table_version: int
    rule_id: str | None
    chain: list[RouteStep]
    message: str | None = None
    ticket_agency: str | None = None
    checks: list[RuleCheck]
    explanation: list[str]


def _rank_key(rule: Rule, position: int) -> tuple[int, int, int, int]:
    return (-rule.priority, 1 if rule.any_area else 0, 1 if rule.any_category else 0, position)


def _specificity(rule: Rule) -> str:
    area = "area wildcard" if rule.any_area else "area-specific"
    category = "category wildcard" if rule.any_category else "category-specific"
    return f"priority {rule.priority}, {area}, {category}"


def _to_local(table: RoutingTable, at: datetime) -> datetime:
    tz = table.tz
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def match(table: RoutingTable, category: str, area: str | None, at: datetime) -> RouteDecision:
    """Decide the route for a call of ``category`` from ``area`` (None: unknown) at ``at``.

    ``at`` is converted to the table's timezone; a naive datetime is taken as local time there. Deterministic
    and total: an unknown category gets the default chain, it never raises for a valid table.
    """
    local = _to_local(table, at)
    area_text = None if area is None else " ".join(area.split()) or None
    lines = [
        f"category {category!r}, area {area_text!r}, {_local_text(local)} {table.timezone}, "
        f"table version {table.version}"
    ]
    cat = table.category(category)

    def decision(
        kind: DecisionKind,
        rule_id: str | None,
        chain: list[RouteStep],
        checks: list[RuleCheck],
        message: str | None = None,
        ticket_agency: str | None = None,
    ) -> RouteDecision:
        return RouteDecision(
            kind=kind,
            category=category,
            area=area_text,
            local_time=local,
            table_version=table.version,
            rule_id=rule_id,
            chain=chain,
            message=message,
            ticket_agency=ticket_agency,
            checks=checks,
            explanation=lines,
        )

    if cat is not None and not cat.dispatch:
        lines.append(f"{category!r} is a call outcome: no dispatch")
        return decision(DecisionKind.NO_DISPATCH, None, [], [])
    if cat is None:
        lines.append(f"unknown category {category!r}: no rule considered")
        lines.append("decision: default chain")
        return decision(DecisionKind.DEFAULT, None, _resolve(table, table.default_chain, None), [])

    candidates: list[tuple[int, Rule]] = []
    not_applicable: list[RuleCheck] = []
    for position, rule in enumerate(table.rules):
        if not rule.matches_category(category):
            reason = f"category {category!r} not in {', '.join(rule.categories)}"
        elif not rule.matches_area(area_text):
            areas = ", ".join(rule.areas)
            if area_text is None:
                reason = f"area unknown, rule is only for {areas}"
            else:
                reason = f"area {area_text!r} not in {areas}"
        else:
            candidates.append((position, rule))
            continue
        not_applicable.append(
            RuleCheck(
                rule_id=rule.id,
                position=position,
                rank=None,
                verdict=RuleVerdict.NOT_APPLICABLE,
                reason=reason,
            )
        )
    candidates.sort(key=lambda item: _rank_key(item[1], item[0]))

    checks: list[RuleCheck] = []
    chosen: tuple[DecisionKind, Rule] | None = None
    for rank, (position, rule) in enumerate(candidates, start=1):
        spec = _specificity(rule)
        if chosen is not None:
            verdict, reason = RuleVerdict.OUTRANKED, f"{spec}; not reached"
        elif rule.active_at(local, table.holidays):
            verdict, reason = RuleVerdict.SELECTED, f"{spec}; active ({rule.describe_windows()})"
            chosen = (DecisionKind.ROUTE, rule)
        elif rule.outside_hours is not None and not cat.emergency:
            verdict = RuleVerdict.AFTER_HOURS
            reason = f"{spec}; outside its hours ({rule.describe_windows()}): after-hours action"
            chosen = (DecisionKind.AFTER_HOURS, rule)
        else:
            verdict = RuleVerdict.INACTIVE
            reason = f"{spec}; outside its hours ({rule.describe_windows()}): passed on"
        checks.append(RuleCheck(rule_id=rule.id, position=position, rank=rank, verdict=verdict, reason=reason))
    checks += not_applicable
    lines += [
        f"rule {c.rule_id!r}: {c.verdict.value}" + (f" (rank {c.rank})" if c.rank is not None else "") + f": {c.reason}"
        for c in checks
    ]

    if chosen is None:
        lines.append("decision: no rule applies, default chain")
        return decision(DecisionKind.DEFAULT, None, _resolve(table, table.default_chain, None), checks)
    kind, rule = chosen
    if kind is DecisionKind.AFTER_HOURS and rule.outside_hours is not None:
        action = rule.outside_hours
        lines.append(f"decision: after hours by rule {rule.id!r}: message, ticket for {action.ticket_agency!r}")
        return decision(kind, rule.id, [], checks, message=action.message, ticket_agency=action.ticket_agency)
    lines.append(f"decision: route by rule {rule.id!r}")
    return decision(DecisionKind.ROUTE, rule.id, rule_chain(table, rule), checks)


def explain(table: RoutingTable, category: str, area: str | None, at: datetime) -> str:
    """Text answer to 'what would happen to category X from area Y at time T' (``routes explain``)."""
    result = match(table, category, area, at)
    lines = list(result.explanation)
    if result.kind is DecisionKind.AFTER_HOURS:
        lines.append(f"message: {result.message}")
        lines.append(f"ticket: {result.ticket_agency}")
    for index, step in enumerate(result.chain, start=1):
        lines.append(f"  {index}. {step.describe()}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------------
# Diff


def _fmt(field: str, value: object) -> str:
    if value is None:
        return "none"
    if field in ("chain", "default_chain") and isinstance(value, list):
        return " > ".join(
            str(step["target"]) + (f" {step['timeout']}s" if step.get("timeout") is not None else "")
            for step in value
            if isinstance(step, dict)
        )
    if field == "windows" and isinstance(value, list):
        return "; ".join(TimeWindow.model_validate(w).describe() for w in value) or "always"
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, bool | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _summary(item: BaseModel) -> str:
    data = item.model_dump(mode="json")
    shown = [f"{key} {_fmt(key, value)}" for key, value in data.items() if key != "id"]
    return "; ".join(shown)


def _diff_section(kind: str, old: Sequence[BaseModel], new: Sequence[BaseModel]) -> list[str]:
    def by_id(items: Sequence[BaseModel]) -> dict[str, dict[str, Any]]:
        return {str(getattr(item, "id", "")): item.model_dump(mode="json") for item in items}

    old_map, new_map = by_id(old), by_id(new)
    changes = [f"{kind} removed: {item_id!r}" for item_id in old_map if item_id not in new_map]
    for item in new:
        item_id = str(getattr(item, "id", ""))
        if item_id not in old_map:
            changes.append(f"{kind} added: {item_id!r} ({_summary(item)})")
            continue
        before, after = old_map[item_id], new_map[item_id]
        for field in dict.fromkeys([*before, *after]):
            if before.get(field) != after.get(field):
                was, now = _fmt(field, before.get(field)), _fmt(field, after.get(field))
                changes.append(f"{kind} {item_id!r}: {field} {was} -> {now}")
    return changes


def diff(old: RoutingTable, new: RoutingTable) -> list[str]:
    """Human-readable list of what changed from ``old`` to ``new`` (empty when they are equal)."""
    changes: list[str] = []
    if old.version != new.version:
        changes.append(f"version: {old.version} -> {new.version}")
    if old.timezone != new.timezone:
        changes.append(f"timezone: {old.timezone} -> {new.timezone}")
    added = sorted(set(new.holidays) - set(old.holidays))
    removed = sorted(set(old.holidays) - set(new.holidays))
    if added:
        changes.append("holidays added: " + ", ".join(d.isoformat() for d in added))
    if removed:
        changes.append("holidays removed: " + ", ".join(d.isoformat() for d in removed))
    changes += _diff_section("category", old.categories, new.categories)
    changes += _diff_section("agency", old.agencies, new.agencies)
    changes += _diff_section("target", old.targets, new.targets)
    changes += _diff_section("rule", old.rules, new.rules)
    new_ids = {r.id for r in new.rules}
    old_ids = {r.id for r in old.rules}
    old_order = [r.id for r in old.rules if r.id in new_ids]
    new_order = [r.id for r in new.rules if r.id in old_ids]
    if old_order != new_order:
        changes.append(f"rule order: {', '.join(old_order)} -> {', '.join(new_order)}")
    old_default = [s.model_dump(mode="json") for s in old.default_chain]
    new_default = [s.model_dump(mode="json") for s in new.default_chain]
    if old_default != new_default:
        changes.append(f"default_chain: {_fmt('default_chain', old_default)} -> {_fmt('default_chain', new_default)}")
    return changes


# ------------------------------------------------------------------------------------------------------------
# Fail-safe dialplan


class DialplanRenderError(ValueError):
    """A value that would reach the dialplan is not safe (only possible when validation was bypassed)."""


@dataclass(frozen=True)
class FailsafeRoute:
    """The chain the fail-safe dialplan uses for one category; ``rule_id`` None means the default chain."""

    category: str
    emergency: bool
    rule_id: str | None
    steps: tuple[RouteStep, ...]


def failsafe_routes(table: RoutingTable) -> list[FailsafeRoute]:
    """For every dispatchable category, the route the dialplan takes while the service is down.

    The area is unknown and time is ignored, so: an emergency category takes the best-ranked rule (same
    ranking as :func:`match`) among area-wildcard rules without time windows, else among area-wildcard rules
    with windows (ignoring them); with no such rule, the default chain. A non-emergency category always takes
    the default chain: its agencies' desks may be closed and no ticket can be opened without the service.
    """
    routes = []
    for category in table.categories:
        if not category.dispatch:
            continue
        rule: Rule | None = None
        if category.emergency:
            ranked = sorted(
                (
                    (bool(r.windows), _rank_key(r, position), r)
                    for position, r in enumerate(table.rules)
                    if r.any_area and r.matches_category(category.id)
                ),
                key=lambda item: (item[0], item[1]),
            )
            rule = ranked[0][2] if ranked else None
        steps = tuple(rule_chain(table, rule)) if rule is not None else ()
        routes.append(
            FailsafeRoute(
                category=category.id,
                emergency=category.emergency,
                rule_id=rule.id if rule else None,
                steps=steps,
            )
        )
    return routes


_SAFE_TOKEN = {
    "category": re.compile(CATEGORY_ID_PATTERN[1:-1]),
    "rule": re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?"),
    "endpoint": re.compile(ENDPOINT_PATTERN[1:-1]),
    "number": re.compile(DIAL_NUMBER_PATTERN[1:-1]),
}


def _safe(kind: str, value: object) -> str:
    # Defence in depth: the models already refuse these values, but a table built with model_construct() or
    # mutated after validation must still never put dialplan syntax into the file Asterisk executes.
    if not isinstance(value, str) or _SAFE_TOKEN[kind].fullmatch(value) is None:
        raise DialplanRenderError(f"unsafe {kind} for the dialplan: {value!r}")
    return value


def _safe_int(kind: str, value: object, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise DialplanRenderError(f"unsafe {kind} for the dialplan: {value!r}")
    return value


def _dial_lines(step: RouteStep) -> list[str]:
    target = step.target
    timeout = _safe_int("timeout", step.timeout, 3600)
    if isinstance(target, ExternalNumber):
        devices = [f"PJSIP/{_safe('number', target.number)}@{_safe('endpoint', target.trunk)}"]
    elif target.strategy is RingStrategy.RINGALL:
        devices = ["&".join(f"PJSIP/{_safe('endpoint', e)}" for e in target.endpoints)]
    else:
        devices = [f"PJSIP/{_safe('endpoint', e)}" for e in target.endpoints]
    lines = []
    for device in devices:
        lines.append(f" same => n,Dial({device},{timeout})")
        lines.append(' same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)')
    return lines


def render_dialplan(table: RoutingTable) -> str:
    """Render the fail-safe routes as an Asterisk dialplan include, context ``ntpd112-routes``.

    Format (one extension per dispatchable category, plus ``default``)::

        [ntpd112-routes]
        exten => cat-medical,1,NoOp(ntpd112 fail-safe: category medical, rule medical)
         same => n,Dial(PJSIP/psc119-desk1&PJSIP/psc119-desk2,30)     ; hunt group, ringall
         same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
         same => n,Dial(PJSIP/119@agency-trunk,30)                   ; external number via trunk
         same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
         same => n,Gosub(ntpd112-routes,default,1)                   ; chain exhausted
         same => n,Return(${GOSUB_RETVAL})
         same => n(done),Return(${DIALSTATUS})

    A ``linear`` hunt group gives one ``Dial`` per endpoint, each with the full timeout. Call it as a
    subroutine, ``Gosub(ntpd112-routes,cat-<category>,1)``: it returns (``GOSUB_RETVAL`` = last DIALSTATUS)
    only when nobody answered, so the including dialplan decides what comes next (for example back to the
    queue). When a target answers, ``Dial`` without the ``g`` option ends the caller's dialplan when the
    bridge ends; the ``GotoIf`` after each ``Dial`` only guards against that changing. Time windows and areas
    are ignored (see :func:`failsafe_routes`): emergencies route 24 hours, non-emergency categories go to
    ``default``.

    Every interpolated value (category and rule ids, endpoint and trunk names, numbers, timeouts, version) is
    re-checked against a strict pattern here, so nothing can inject dialplan syntax;
    :class:`DialplanRenderError` otherwise. Extension names use ``-`` only in the fixed ``cat-`` prefix:
    Asterisk ignores dashes when matching extensions, and category ids contain none, so no two categories can
    collide.
    """
    version = _safe_int("version", table.version, 2**63)
    lines = [
        f"; ntpd112 fail-safe routes, generated from routing table version {version}"
        f" (sha256 {fingerprint(table)[:16]}).",
        "; Do not edit: ntpd112 rewrites this file whenever the routing table changes.",
        "; Use: Gosub(ntpd112-routes,cat-<category>,1); returns only when nobody answered.",
        "; Time windows and areas are ignored: emergencies route 24 hours, other categories go to 'default'.",
        "",
        f"[{DIALPLAN_CONTEXT}]",
    ]
    for route in failsafe_routes(table):
        category = _safe("category", route.category)
        if route.rule_id is None:
            why = "emergency, no area-wide rule" if route.emergency else "not an emergency"
            lines.append(f"exten => cat-{category},1,NoOp(ntpd112 fail-safe: category {category}, {why})")
            lines.append(f" same => n,Gosub({DIALPLAN_CONTEXT},default,1)")
            lines.append(" same => n,Return(${GOSUB_RETVAL})")
        else:
            rule_id = _safe("rule", route.rule_id)
            lines.append(f"exten => cat-{category},1,NoOp(ntpd112 fail-safe: category {category}, rule {rule_id})")
            for step in route.steps:
                lines += _dial_lines(step)
            lines.append(f" same => n,Gosub({DIALPLAN_CONTEXT},default,1)")
            lines.append(" same => n,Return(${GOSUB_RETVAL})")
            lines.append(" same => n(done),Return(${DIALSTATUS})")
        lines.append("")
    lines.append("exten => default,1,NoOp(ntpd112 fail-safe: default chain)")
    for step in _resolve(table, table.default_chain, None):
        lines += _dial_lines(step)
    lines.append(" same => n(done),Return(${DIALSTATUS})")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------------
# Default table

_OFFICE_HOURS = TimeWindow(days=list(WORKDAYS), start="08:00", end="16:00", skip_holidays=True)


def _steps(*targets: str) -> list[ChainStep]:
    return [ChainStep(target=t) for t in targets]


def _office_rule(rule_id: str, category: str, chain: list[ChainStep], agency: str, whom: str) -> Rule:
    return Rule(
        id=rule_id,
        description=f"{category}: office hours only",
        categories=[category],
        windows=[_OFFICE_HOURS],
        chain=chain,
        outside_hours=OutsideHours(
            message=(
                "Layanan pengaduan non-darurat dilayani Senin-Jumat pukul 08.00-16.00 WIB. "
                f"Laporan Anda sudah dicatat dan akan ditindaklanjuti oleh {whom} pada jam kerja."
            ),
            ticket_agency=agency,
        ),
    )


def default_table() -> RoutingTable:
    """A complete starting table: every default category has a rule; unmatched calls go to the supervisors."""
    rules = [
        Rule(id="medical", categories=["medical"], chain=_steps("psc119-desk", "psc119-119", "rsud-desk")),
        Rule(id="fire", categories=["fire"], chain=_steps("damkar-desk", "damkar-113", "bpbd-desk")),
        Rule(
            id="disaster",
            categories=["disaster"],
            chain=_steps("bpbd-desk", "bpbd-117", "basarnas-115", "pmi-desk"),
        ),
        Rule(id="security", categories=["security"], chain=_steps("satpolpp-desk", "polres-desk", "polres-110")),
        Rule(id="crime", categories=["crime"], chain=_steps("polres-desk", "polres-110")),
        Rule(
            id="traffic-accident",
            description="police first, then the ambulance chain",
            categories=["traffic_accident"],
            chain=_steps("polres-desk", "polres-110"),
            then="medical",
        ),
        Rule(
            id="fallen-tree-day",
            description="DLHK crews during office hours",
            categories=["fallen_tree"],
            windows=[TimeWindow(days=list(WORKDAYS), start="07:30", end="16:00")],
            priority=10,
            chain=_steps("dlhk-desk", "damkar-desk"),
        ),
        Rule(id="fallen-tree", categories=["fallen_tree"], chain=_steps("damkar-desk", "bpbd-desk")),
        Rule(
            id="violence-women-children",
            categories=["violence_women_children"],
            chain=_steps("dp3a-desk", "polres-desk", "polres-110"),
        ),
        Rule(
            id="electricity",
            description="PLN 123 answers 24 hours",
            categories=["electricity"],
            chain=_steps("pln-123", "pln-desk"),
        ),
        _office_rule("road", "road", _steps("dishub-desk"), "dishub", "Dinas Perhubungan"),
        _office_rule("water", "water", _steps("pdam-desk"), "pdam", "PDAM"),
        _office_rule("non-emergency", "non_emergency", _steps("supervisor"), "ntpd112", "petugas NTPD 112"),
        _office_rule("information", "information", _steps("supervisor"), "ntpd112", "petugas NTPD 112"),
    ]
    return RoutingTable(
        version=1,
        agencies=default_agencies(),
        targets=default_targets(),
        rules=rules,
        default_chain=_steps("supervisor"),
    )
