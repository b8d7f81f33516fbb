from __future__ import annotations

from datetime import datetime

from ntpd112.routing.defaults import default_table
from ntpd112.routing.diff import diff
from ntpd112.routing.matching import DecisionKind, match
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import fingerprint, load_table
from tests.unit.dispatch.builders import OFFICE, raw_table, rule, table


def test_no_changes() -> None:
    assert diff(default_table(), default_table()) == []


def test_rule_changes_are_listed_field_by_field() -> None:
    old = table(rule("fire", ["fire"], chain=("fire-desk",)), rule("crime", ["crime"]))
    new = table(
        rule("crime", ["crime"]),
        {"id": "fire", "categories": ["fire"], "priority": 5,
         "chain": [{"target": "fire-desk"}, {"target": "police-110", "timeout": 15}], "windows": [OFFICE]},
        version=2,
    )  # fmt: skip
    assert diff(old, new) == [
        "version: 1 -> 2",
        "rule 'fire': windows always -> mon-fri 08:00-16:00",
        "rule 'fire': priority 0 -> 5",
        "rule 'fire': chain fire-desk -> fire-desk > police-110 15s",
        "rule order: fire, crime -> crime, fire",
    ]


def test_rules_added_and_removed() -> None:
    old = table(rule("fire", ["fire"]), rule("old", ["crime"]))
    new = table(rule("fire", ["fire"]), rule("kec", ["crime"], areas=["Cibinong"], chain=("police-110",)))
    changes = diff(old, new)
    assert changes[0] == "rule removed: 'old'"
    assert changes[1].startswith("rule added: 'kec' (")
    assert "areas Cibinong" in changes[1]
    assert "chain police-110" in changes[1]
    assert len(changes) == 2


def test_targets_agencies_holidays_timezone_default_chain() -> None:
    old_raw = raw_table(rule("fire", ["fire"]))
    new_raw = raw_table(
        rule("fire", ["fire"]),
        holidays=["2026-12-25"],
        timezone="Asia/Makassar",
        default_chain=[{"target": "hq"}, {"target": "police-110"}],
    )
    new_raw["targets"][1]["number"] = "112110"
    new_raw["agencies"].append({"id": "pmi", "name": "PMI", "kind": "red_cross"})
    changes = diff(load_table(old_raw), load_table(new_raw))
    assert changes == [
        "timezone: Asia/Jakarta -> Asia/Makassar",
        "holidays added: 2026-12-25",
        'agency added: \'pmi\' (name "PMI"; kind "red_cross")',
        'target \'police-110\': number "110" -> "112110"',
        "default_chain: hq -> hq > police-110",
    ]
    assert diff(load_table(new_raw), load_table(old_raw))[1] == "holidays removed: 2026-12-25"


def test_category_changes() -> None:
    old_raw = raw_table()
    new_raw = raw_table()
    new_raw["categories"] = [c.model_dump(mode="json") for c in load_table(old_raw).categories]
    new_raw["categories"][6]["emergency"] = True  # road becomes 24 hours
    changes = diff(load_table(old_raw), load_table(new_raw))
    assert changes == ["category 'road': emergency False -> True"]


def test_json_roundtrip_of_default_table() -> None:
    original = default_table()
    text = original.model_dump_json(indent=2)
    assert RoutingTable.model_validate_json(text) == original
    assert load_table(text) == original
    assert load_table(text.encode()) == original
    assert fingerprint(load_table(text)) == fingerprint(original)


def test_wildcards_accepted_as_string_or_list() -> None:
    a = table(rule("all", "*"))
    b = table(rule("all", ["*"], areas="*"))
    assert a == b
    assert a.rules[0].any_category
    assert a.rules[0].any_area


def test_fingerprint_changes_with_content() -> None:
    a = table(rule("fire", ["fire"]))
    b = table(rule("fire", ["fire"], priority=1))
    assert fingerprint(a) != fingerprint(b)
    assert len(fingerprint(a)) == 64


def test_default_table_covers_every_dispatchable_category() -> None:
    t = default_table()
    named = {c for r in t.rules for c in r.categories}
    for category in t.categories:
        if category.dispatch:
            assert category.id in named, category.id
            decision = match(t, category.id, None, datetime(2026, 11, 23, 10, 0))  # Monday 10:00
            assert decision.kind is DecisionKind.ROUTE, category.id
        else:
            assert category.id not in named


def test_default_table_non_emergency_after_hours_and_holidays() -> None:
    t = default_table()
    sunday = datetime(2026, 11, 29, 10, 0)
    for category, agency in [("water", "pdam"), ("road", "dishub"), ("non_emergency", "ntpd112")]:
        decision = match(t, category, "Cibinong", sunday)
        assert decision.kind is DecisionKind.AFTER_HOURS
        assert decision.ticket_agency == agency
        assert decision.message
    # PLN 123 answers 24 hours
    assert match(t, "electricity", None, sunday).kind is DecisionKind.ROUTE
    holiday = load_table({**t.model_dump(mode="json"), "holidays": ["2026-11-23"]})
    assert match(holiday, "water", None, datetime(2026, 11, 23, 10, 0)).kind is DecisionKind.AFTER_HOURS


def test_default_table_fallen_tree_day_and_night() -> None:
    t = default_table()
    day = match(t, "fallen_tree", None, datetime(2026, 11, 24, 9, 0))
    night = match(t, "fallen_tree", None, datetime(2026, 11, 24, 21, 0))
    assert (day.rule_id, day.chain[0].target.id) == ("fallen-tree-day", "dlhk-desk")
    assert (night.rule_id, night.chain[0].target.id) == ("fallen-tree", "damkar-desk")


def test_office_hours_camats_limits_and_webhooks_show_in_the_diff() -> None:
    old = default_table()
    data = old.model_dump(mode="json")
    data["office_hours"] = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:30", "end": "15:30"}
    data["camats"] = [{"kecamatan": "Legok", "contact": {"name": "Camat Legok", "phone": "+6281100000009"}}]
    for category in data["categories"]:
        if category["id"] == "fire":
            category["limits"] = {"acknowledge_minutes": 1, "resolve_minutes": 120}
    for agency in data["agencies"]:
        if agency["id"] == "damkar":
            agency["webhook"] = {"url": "https://wa.pemda.example/112"}
    changes = diff(old, RoutingTable.model_validate(data))
    assert "office_hours: mon-fri 08:00-16:00 except holidays -> mon-fri 07:30-15:30" in changes
    assert 'camat of Legok: none -> {"name": "Camat Legok", "phone": "+6281100000009"}' in changes
    assert any(
        line.startswith("category 'fire': limits none -> ") and '"resolve_minutes": 120.0' in line for line in changes
    )
    assert any(line.startswith("agency 'damkar': webhook none -> ") and "wa.pemda.example" in line for line in changes)
