"""The admins' agency form: it adds or changes an agency with its desk, numbers, contacts, limits and the rule
routing its categories to it, through the table's own checks; and an agency's limits replace its categories'."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ntpd112.routing.agency_edit import AgencyForm, apply_agency, form_of, handled_rule_id, routed_by
from ntpd112.routing.deadlines import Deadline, calendar_of, schedule
from ntpd112.routing.defaults import default_table
from ntpd112.routing.matching import match
from ntpd112.routing.tables import RoutingTableError
from ntpd112.routing.validation import load_table

WIB = ZoneInfo("Asia/Jakarta")
PUPR = {
    "id": "pupr",
    "name": "Dinas PUPR",
    "kind": "transport",
    "desks": ["pupr-desk1", "pupr-desk2"],
    "numbers": ["0215550001"],
    "head": {"name": "Kepala Dinas PUPR", "phone": "+6281100000010"},
    "duty": [{"name": "Piket PUPR", "phone": "081100000011"}],
    "duty_number": "0215550002",
    "limits": {"road": {"acknowledge_minutes": 15, "resolve_minutes": 120}},
    "categories": ["road"],
}


def test_a_new_agency_gets_its_targets_and_a_rule_that_routes_its_categories_to_it_first() -> None:
    table = apply_agency(default_table(), AgencyForm.model_validate(PUPR))
    agency = table.agency("pupr")
    assert agency is not None and agency.head is not None and agency.duty[0].name == "Piket PUPR"
    assert [t.id for t in table.targets if t.agency == "pupr"] == ["pupr-desk", "pupr-0215550001"]
    rule = table.rule(handled_rule_id("pupr"))
    assert (
        rule is not None and rule.priority == 1 and [s.target for s in rule.chain] == ["pupr-desk", "pupr-0215550001"]
    )
    # Office hours on a Wednesday: road calls now go to PUPR's desk before Dishub's rule.
    decision = match(table, "road", None, datetime(2026, 12, 23, 10, tzinfo=WIB))
    assert decision.rule_id == "opd-pupr"
    assert form_of(table, "pupr") == AgencyForm.model_validate(PUPR)


def test_changing_an_agency_keeps_its_other_targets_and_the_rules_that_use_them() -> None:
    table = default_table()
    form = form_of(table, "damkar")
    assert form is not None and form.numbers == ["113"] and form.categories == []
    changed = apply_agency(table, form.model_copy(update={"name": "Damkar Kabupaten", "desks": ["damkar-desk1"]}))
    assert changed.agency("damkar").name == "Damkar Kabupaten"  # type: ignore[union-attr]
    assert changed.target("damkar-desk").endpoints == ["damkar-desk1"]  # type: ignore[union-attr]
    assert changed.rule("fire") == table.rule("fire")
    assert routed_by(changed, "damkar") == ["fire", "fallen-tree-day", "fallen-tree"]


def test_a_number_still_used_by_a_rule_cannot_be_removed_and_the_refusal_names_the_rule() -> None:
    form = form_of(default_table(), "damkar")
    assert form is not None
    with pytest.raises(RoutingTableError) as refused:
        apply_agency(default_table(), form.model_copy(update={"numbers": []}))
    assert [str(i) for i in refused.value.issues] == ["rules[fire].chain[1].target: unknown target 'damkar-113'"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"categories": ["no_such"]}, "rules[opd-pupr].categories[0]"),
        ({"categories": ["prank"]}, "rules[opd-pupr].categories[0]"),
        ({"limits": {"fire": {"acknowledge_minutes": 2}}}, "agencies[pupr].limits.fire"),
        ({"limits": {"nothing": {"acknowledge_minutes": 2}}}, "agencies[pupr].limits.nothing"),
        ({"desks": [], "numbers": []}, "agencies[pupr].categories"),
    ],
)
def test_a_form_that_breaks_the_table_is_refused_naming_the_field(change: dict[str, object], where: str) -> None:
    with pytest.raises(RoutingTableError) as refused:
        apply_agency(default_table(), AgencyForm.model_validate({**PUPR, **change}))
    assert any(str(issue).startswith(where) for issue in refused.value.issues), refused.value.issues


@pytest.mark.parametrize(
    "change",
    [
        {"id": "Bad Id"},
        {"id": "a" * 41},  # `<id>-desk` and `opd-<id>` must stay valid ids
        {"desks": ["desk&other"]},
        {"numbers": ["113,1"]},
        {"name": "line\nbreak"},
        {"webhook": {"url": "https://user:pw@gateway.example/112"}},
        {"webhook": {"url": "ftp://gateway.example/112"}},
        {"head": {"name": "Kadis", "phone": "=1+2"}},
        {"limits": {"road": {"acknowledge_minutes": 0}}},
        # The duty number ends up in a dial string (PJSIP/<number>@<trunk>): digits only, 3 to 15.
        {"duty_number": "0215550002&PJSIP/evil"},
        {"duty_number": "+6221555"},
        {"duty_number": "12"},
        {"duty_number": "1" * 16},
        {"duty_number": ""},
        {"secret": "x"},
    ],
)
def test_the_form_refuses_values_that_could_reach_the_dialplan_or_a_gateway(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AgencyForm.model_validate({**PUPR, **change})


def test_the_form_sets_changes_and_clears_the_duty_number_rung_for_tickets() -> None:
    table = apply_agency(default_table(), AgencyForm.model_validate(PUPR))
    assert table.agency("pupr").duty_number == "0215550002"  # type: ignore[union-attr]
    damkar = form_of(table, "damkar")
    assert damkar is not None and damkar.duty_number is None
    rung = apply_agency(table, damkar.model_copy(update={"duty_number": "113"}))
    assert rung.agency("damkar").duty_number == "113"  # type: ignore[union-attr]
    assert form_of(rung, "damkar").duty_number == "113"  # type: ignore[union-attr]
    cleared = apply_agency(rung, damkar)
    assert cleared.agency("damkar").duty_number is None  # type: ignore[union-attr]


def test_an_agency_s_own_limits_replace_its_category_s() -> None:
    table = apply_agency(default_table(), AgencyForm.model_validate(PUPR))
    road = table.category("road")
    assert road is not None
    created = datetime(2026, 12, 23, 9, tzinfo=WIB)
    own = schedule(created, road, calendar_of(table), table.time_limits(road, "pupr"))
    default = schedule(created, road, calendar_of(table), table.time_limits(road, "dishub"))
    assert own[Deadline.ACKNOWLEDGE][0] == datetime(2026, 12, 23, 9, 15, tzinfo=WIB)
    assert default[Deadline.ACKNOWLEDGE][0] == datetime(2026, 12, 23, 10, tzinfo=WIB)


def test_a_stored_table_without_the_new_agency_fields_still_loads() -> None:
    raw = default_table().model_dump(mode="json")
    for agency in raw["agencies"]:
        del agency["duty"], agency["limits"]
    assert load_table(raw).agency("damkar").duty == []  # type: ignore[union-attr]
