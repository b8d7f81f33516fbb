"""One agency (OPD) as the admins' screen edits it, and the routing table that results (pure domain, no I/O).

An agency's form owns, in the routing table:

* the agency itself (name, kind, webhook, head, people on duty, duty number, its own time limits per category);
* its desk hunt group ``<id>-desk`` (the PJSIP endpoints of its desks), when it has desks;
* its external numbers (one target per number through the agency trunk; an existing target keeps its id);
* the rule ``opd-<id>`` that routes the categories it handles to it first (desk, then numbers), at priority 1 so
  it comes before the starting table's rules (priority 0) for those categories.

Everything else in the table (other rules, other targets of the agency) is left as it is. The result is validated
whole by `load_table`, as a table from the CLI is: a number still used by another rule cannot be removed, a
category must exist, and so on, each refusal naming its section, item and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ntpd112.routing.agencies import (
    DEFAULT_AGENCY_TRUNK,
    SLUG_PATTERN,
    AgencyKind,
    Contact,
    DialNumber,
    EndpointName,
    Webhook,
)
from ntpd112.routing.categories import CategoryId, Label, TimeLimits
from ntpd112.routing.tables import RoutingTable, RoutingTableError, TableIssue
from ntpd112.routing.validation import load_table

__all__ = [
    "AgencyForm",
    "apply_agency",
    "desk_id",
    "form_of",
    "handled_rule_id",
    "raw_item_id",
    "routed_by",
]

# Short enough that `<id>-desk`, `opd-<id>` and `<id>-<15 digits>` are still valid ids (64 characters).
MAX_FORM_ID = 40
HANDLED_PRIORITY = 1
FormId = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=MAX_FORM_ID)]


def desk_id(agency_id: str) -> str:
    return f"{agency_id}-desk"


def handled_rule_id(agency_id: str) -> str:
    return f"opd-{agency_id}"


class AgencyForm(BaseModel):
    """What the admin edits about one agency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: FormId
    name: Label
    kind: AgencyKind = AgencyKind.OTHER
    #: PJSIP endpoints of the agency's desks (rung all at once); empty: no desk.
    desks: list[EndpointName] = Field(default_factory=list, max_length=32)
    #: Numbers dialled through `trunk` (110, 113, a local number).
    numbers: list[DialNumber] = Field(default_factory=list, max_length=10)
    trunk: EndpointName = DEFAULT_AGENCY_TRUNK
    webhook: Webhook | None = None
    head: Contact | None = None
    duty: list[Contact] = Field(default_factory=list, max_length=10)
    #: The phone rung when a ticket is made for the agency or escalates (routing/agencies.py); None: not rung.
    #: The form owns it: a form without it clears it, as it clears a head or a webhook.
    duty_number: DialNumber | None = None
    limits: dict[CategoryId, TimeLimits] = Field(default_factory=dict, max_length=64)
    #: Categories routed to this agency first (rule `opd-<id>`); empty: no such rule.
    categories: list[CategoryId] = Field(default_factory=list, max_length=64)


def _targets_of(table: RoutingTable, agency_id: str) -> tuple[list[str], list[str], str]:
    """The form's desks, numbers and trunk, read from the agency's targets."""
    desks: list[str] = []
    numbers: list[str] = []
    trunk = DEFAULT_AGENCY_TRUNK
    for target in table.targets:
        if target.agency != agency_id:
            continue
        if target.kind == "hunt_group" and target.id == desk_id(agency_id):
            desks = list(target.endpoints)
        elif target.kind == "external":
            if not numbers:
                trunk = target.trunk
            numbers.append(target.number)
    return desks, numbers, trunk


def form_of(table: RoutingTable, agency_id: str) -> AgencyForm | None:
    agency = table.agency(agency_id)
    if agency is None:
        return None
    desks, numbers, trunk = _targets_of(table, agency_id)
    rule = table.rule(handled_rule_id(agency_id))
    return AgencyForm.model_construct(
        id=agency.id,
        name=agency.name,
        kind=agency.kind,
        desks=desks,
        numbers=numbers,
        trunk=trunk,
        webhook=agency.webhook,
        head=agency.head,
        duty=list(agency.duty),
        duty_number=agency.duty_number,
        limits=dict(agency.limits),
        categories=list(rule.categories) if rule is not None else [],
    )


def routed_by(table: RoutingTable, agency_id: str) -> list[str]:
    """Ids of the rules (other than the agency's own) whose chain reaches one of the agency's targets."""
    mine = {t.id for t in table.targets if t.agency == agency_id}
    own = handled_rule_id(agency_id)
    return [r.id for r in table.rules if r.id != own and any(step.target in mine for step in r.chain)]


def _replace(items: list[dict[str, Any]], item_id: str, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    """`items` with the one of `item_id` replaced in place by `new` (appended when absent; removed when None)."""
    out: list[dict[str, Any]] = []
    found = False
    for item in items:
        if item.get("id") == item_id:
            found = True
            if new is not None:
                out.append(new)
        else:
            out.append(item)
    if not found and new is not None:
        out.append(new)
    return out


def _targets(raw_targets: list[dict[str, Any]], form: AgencyForm) -> tuple[list[dict[str, Any]], list[str]]:
    """The table's targets with the form's desk and numbers; and the ids of the form's targets, desk first."""
    desk = None
    if form.desks:
        old = next((t for t in raw_targets if t["id"] == desk_id(form.id)), {})
        desk = {**old, "kind": "hunt_group", "id": desk_id(form.id), "agency": form.id, "endpoints": form.desks}
    targets = _replace(raw_targets, desk_id(form.id), desk)
    kept: dict[str, str] = {}  # number -> id of the target that already dials it
    out: list[dict[str, Any]] = []
    for target in targets:
        if target.get("kind") == "external" and target.get("agency") == form.id:
            if target["number"] not in form.numbers or target["number"] in kept:
                continue  # removed (a rule still using it is refused by the table's checks)
            kept[target["number"]] = target["id"]
            target = {**target, "trunk": form.trunk}
        out.append(target)
    for number in form.numbers:
        if number not in kept:
            kept[number] = f"{form.id}-{number}"
            out.append(
                {"kind": "external", "id": kept[number], "agency": form.id, "number": number, "trunk": form.trunk}
            )
    ids = ([desk_id(form.id)] if desk else []) + [kept[n] for n in dict.fromkeys(form.numbers)]
    return out, ids


def apply_agency(table: RoutingTable, form: AgencyForm) -> RoutingTable:
    """`table` with the agency of `form` added or changed; raises RoutingTableError naming every problem."""
    raw = table.model_dump(mode="json")
    old_agency: dict[str, Any] = next((a for a in raw["agencies"] if a["id"] == form.id), {})
    agency = {
        **old_agency,
        "id": form.id,
        "name": form.name,
        "kind": form.kind.value,
        "webhook": form.webhook.model_dump(mode="json") if form.webhook else None,
        "head": form.head.model_dump(mode="json") if form.head else None,
        "duty": [c.model_dump(mode="json") for c in form.duty],
        "duty_number": form.duty_number,
        "limits": {k: v.model_dump(mode="json") for k, v in form.limits.items()},
    }
    raw["agencies"] = _replace(raw["agencies"], form.id, agency)
    raw["targets"], chain = _targets(raw["targets"], form)
    rule = None
    if form.categories:
        if not chain:
            raise RoutingTableError(
                [
                    TableIssue(
                        "agencies", form.id, "categories", "the agency needs a desk or a number to handle categories"
                    )
                ]
            )
        old_rule: dict[str, Any] = next((r for r in raw["rules"] if r["id"] == handled_rule_id(form.id)), {})
        rule = {
            **old_rule,
            "id": handled_rule_id(form.id),
            "description": f"handled by {form.name} (agency screen)"[:200],
            "categories": list(dict.fromkeys(form.categories)),
            "priority": old_rule.get("priority", HANDLED_PRIORITY),
            "chain": [{"target": target} for target in chain],
        }
    raw["rules"] = _replace(raw["rules"], handled_rule_id(form.id), rule)
    return load_table(raw)


def raw_item_id(raw: object) -> str | None:
    """The id a raw form claims, for naming it in a refusal."""
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
        return str(raw["id"])[: MAX_FORM_ID + 10]
    return None
