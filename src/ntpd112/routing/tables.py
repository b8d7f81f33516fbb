"""The routing table model: rules, chains, the table and its whole-table validation (pure domain, no I/O).

See the package docstring for matching and time-window semantics.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ntpd112.routing.agencies import (
    Agency,
    Contact,
    ExternalNumber,
    HuntGroup,
    Slug,
    Target,
    Timeout,
)
from ntpd112.routing.categories import CATEGORY_ID_PATTERN, Category, TimeLimits, default_categories
from ntpd112.routing.windows import WORKDAYS, TimeWindow

WILDCARD = "*"

#: A category reference in a rule: a category id or ``*``.
CategoryRef = Annotated[str, StringConstraints(pattern=r"^(\*|" + CATEGORY_ID_PATTERN[1:-1] + r")$")]
#: An area (kecamatan code such as ``32.01.05`` or name such as ``Cibinong``) or ``*``. Compared
#: case-insensitively with whitespace collapsed.
AreaRef = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^(\*|\w[\w .'/-]*)$")]
#: Text for a caller or a ticket: no control characters.
Message = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$")]


def _norm_area(area: str) -> str:
    return " ".join(area.split()).casefold()


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


class Camat(BaseModel):
    """The camat (head of a kecamatan) told when a ticket of that kecamatan escalates to its second level."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kecamatan: AreaRef
    contact: Contact

    def serves(self, area: str | None) -> bool:
        return area is not None and _norm_area(area) == _norm_area(self.kecamatan)


def default_office_hours() -> TimeWindow:
    return TimeWindow(days=list(WORKDAYS), start="08:00", end="16:00", skip_holidays=True)


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
    #: The working day of the offices (OPD), in `timezone`, off on `holidays` when it skips them: non-emergency
    #: tickets are due within it (routing/deadlines.py).
    office_hours: TimeWindow = Field(default_factory=default_office_hours)
    camats: list[Camat] = Field(default_factory=list)

    @field_validator("office_hours")
    @classmethod
    def _office_hours_in_one_day(cls, value: TimeWindow) -> TimeWindow:
        if value.crosses_midnight:
            raise ValueError("office hours end on the day they start")
        return value

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

    def camat(self, kecamatan: str | None) -> Camat | None:
        return next((c for c in self.camats if c.serves(kecamatan)), None)

    def time_limits(self, category: Category, agency_id: str | None) -> TimeLimits:
        """The limits a ticket of `category` for the agency runs on: the agency's own if it sets some."""
        agency = self.agency(agency_id) if agency_id is not None else None
        if agency is not None and category.id in agency.limits:
            return agency.limits[category.id]
        return category.time_limits


def _duplicates(section: str, ids: Sequence[str], field: str = "id") -> list[TableIssue]:
    seen: set[str] = set()
    issues = []
    for item_id in ids:
        if item_id in seen:
            issues.append(TableIssue(section, item_id, field, f"duplicate {field} {item_id!r}"))
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
    issues += _duplicates("camats", [_norm_area(c.kecamatan) for c in table.camats], "kecamatan")

    categories = {c.id: c for c in table.categories}
    agency_ids = {a.id for a in table.agencies}
    target_ids = {t.id for t in table.targets}
    rule_ids = {r.id for r in table.rules}

    for agency in table.agencies:
        for cat_id, limits in agency.limits.items():
            category = categories.get(cat_id)
            if category is None or not category.dispatch:
                issues.append(TableIssue("agencies", agency.id, f"limits.{cat_id}", f"no incident category {cat_id!r}"))
            elif category.emergency and limits.resolve_minutes is None:
                # As for a category's own limits: an emergency is not due "by the end of the working day".
                issues.append(
                    TableIssue("agencies", agency.id, f"limits.{cat_id}", "an emergency category needs resolve_minutes")
                )

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


class TableSource(Protocol):
    """Where the routing table in force comes from (the routing service keeps it current)."""

    async def current_table(self) -> RoutingTable: ...
