"""From an operator's request to the chain to ring (pure): the target or agency the operator named, or the routing
table's rule for the incident's category and area at this moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ntpd112.dispatch.models import DispatchError, DispatchMode, DispatchRequest
from ntpd112.routing.matching import DecisionKind, RouteDecision, RouteStep, match
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.incidents import IncidentView


@dataclass(frozen=True)
class DispatchPlan:
    mode: DispatchMode
    decision: RouteDecision | None  # None: the operator named a target or an agency
    steps: tuple[RouteStep, ...]
    by: str  # who asked; only they (or a supervisor) may change the dispatch
    category: str | None  # the incident's; None: dispatched by target or agency before any classification


def plan_dispatch(
    table: RoutingTable, incident: IncidentView | None, request: DispatchRequest, by: str, now: datetime
) -> DispatchPlan:
    """Raises DispatchError when the request names something the table does not have, or nothing is to be rung."""
    decision, steps = _choose_chain(table, incident, request, now)
    category = incident.category if incident else None
    return DispatchPlan(request.mode, decision, tuple(steps), by, category)


def _choose_chain(
    table: RoutingTable, incident: IncidentView | None, request: DispatchRequest, now: datetime
) -> tuple[RouteDecision | None, list[RouteStep]]:
    if request.target is not None:
        target = table.target(request.target)
        if target is None:
            raise DispatchError(422, "unknown_target", f"no target {request.target!r} in the routing table")
        return None, [RouteStep(target=target, timeout=target.timeout, rule_id=None)]
    if request.agency is not None:
        if table.agency(request.agency) is None:
            raise DispatchError(422, "unknown_agency", f"no agency {request.agency!r} in the routing table")
        steps = [
            RouteStep(target=t, timeout=t.timeout, rule_id=None) for t in table.targets if t.agency == request.agency
        ]
        if not steps:
            raise DispatchError(422, "agency_unreachable", f"agency {request.agency!r} has no targets")
        return None, steps
    category = request.category or (incident.category if incident else None)
    if category is None:
        raise DispatchError(409, "not_classified", "classify the call first (or give a category or target)")
    if table.category(category) is None:
        raise DispatchError(422, "unknown_category", f"category {category!r} is not in the routing table")
    decision = match(table, category, incident.area if incident else None, now)
    if decision.kind is DecisionKind.NO_DISPATCH:
        raise DispatchError(409, "not_dispatchable", f"{category!r} is a call outcome: nothing to dispatch")
    return decision, decision.chain
