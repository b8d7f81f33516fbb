"""Which chain a call takes: `match`, `explain`, the chain of a rule and the fail-safe routes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import (
    BaseModel,
    ConfigDict,
)

from ntpd112.routing.agencies import (
    HuntGroup,
    Target,
)
from ntpd112.routing.tables import ChainStep, RoutingTable, Rule
from ntpd112.routing.windows import local_text


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


def resolve_chain(table: RoutingTable, chain: Sequence[ChainStep], rule_id: str | None) -> list[RouteStep]:
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
        steps += resolve_chain(table, current.chain, current.id)
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


def rank_key(rule: Rule, position: int) -> tuple[int, int, int, int]:
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
        f"category {category!r}, area {area_text!r}, {local_text(local)} {table.timezone}, "
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
        return decision(DecisionKind.DEFAULT, None, resolve_chain(table, table.default_chain, None), [])

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
    candidates.sort(key=lambda item: rank_key(item[1], item[0]))

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
        return decision(DecisionKind.DEFAULT, None, resolve_chain(table, table.default_chain, None), checks)
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
                    (bool(r.windows), rank_key(r, position), r)
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
