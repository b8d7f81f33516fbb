"""Every way a routing table is refused names where (rule and field) and refuses the table whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from ntpd112.routing.defaults import default_table
from ntpd112.routing.tables import RoutingTable, RoutingTableError, TableIssue, validate_table
from ntpd112.routing.validation import load_table
from tests.unit.dispatch.builders import OFFICE, raw_table, rule

AFTER_HOURS = {"message": "Tutup.", "ticket_agency": "pdam"}


def issues_of(raw: dict[str, Any]) -> list[TableIssue]:
    with pytest.raises(RoutingTableError) as caught:
        load_table(raw)
    return list(caught.value.issues)


def only_issue(raw: dict[str, Any]) -> TableIssue:
    issues = issues_of(raw)
    assert len(issues) == 1, issues
    return issues[0]


def test_default_table_is_valid() -> None:
    assert validate_table(default_table()) == []


def test_unknown_category() -> None:
    issue = only_issue(raw_table(rule("ok", ["fire"]), rule("bad", ["fire", "flood"])))
    assert (issue.section, issue.rule, issue.field) == ("rules", "bad", "categories[1]")
    assert "unknown category 'flood'" in issue.message
    assert str(issue) == "rules[bad].categories[1]: unknown category 'flood'"


def test_badly_spelled_category_id() -> None:
    issue = only_issue(raw_table(rule("bad", ["Fire!"])))
    assert (issue.rule, issue.field) == ("bad", "categories[0]")


def test_call_outcome_in_a_rule() -> None:
    issue = only_issue(raw_table(rule("pranks", ["prank"])))
    assert (issue.rule, issue.field) == ("pranks", "categories[0]")
    assert "call outcome" in issue.message


def test_wildcard_must_stand_alone() -> None:
    issue = only_issue(raw_table(rule("mixed", ["*", "fire"])))
    assert (issue.rule, issue.field) == ("mixed", "categories")
    assert "'*' must stand alone" in issue.message


def test_empty_category_and_area_lists() -> None:
    issues = issues_of(raw_table(rule("no-cats", []), rule("no-areas", ["fire"], areas=[])))
    assert {(i.rule, i.field) for i in issues} == {("no-cats", "categories"), ("no-areas", "areas")}


def test_unknown_target() -> None:
    issue = only_issue(raw_table(rule("fire", ["fire"], chain=("fire-desk", "fire-113"))))
    assert (issue.rule, issue.field) == ("fire", "chain[1].target")
    assert "unknown target 'fire-113'" in issue.message


def test_empty_chain() -> None:
    issue = only_issue(raw_table(rule("fire", ["fire"], chain=())))
    assert (issue.rule, issue.field) == ("fire", "chain")
    assert "empty chain" in issue.message


def test_empty_default_chain() -> None:
    issue = only_issue(raw_table(default_chain=[]))
    assert (issue.section, issue.rule, issue.field) == ("table", None, "default_chain")
    assert "empty chain" in issue.message
    assert str(issue).startswith("default_chain: ")


def test_default_chain_unknown_target() -> None:
    issue = only_issue(raw_table(default_chain=[{"target": "nobody"}]))
    assert (issue.section, issue.field) == ("table", "default_chain[0].target")


def test_duplicate_rule_id() -> None:
    issue = only_issue(raw_table(rule("fire", ["fire"]), rule("fire", ["crime"])))
    assert (issue.rule, issue.field) == ("fire", "id")
    assert "duplicate" in issue.message


@pytest.mark.parametrize("timeout", [0, 4, 301, 3600])
def test_step_timeout_out_of_range(timeout: int) -> None:
    raw = raw_table({"id": "fire", "categories": ["fire"], "chain": [{"target": "fire-desk", "timeout": timeout}]})
    issue = only_issue(raw)
    assert (issue.rule, issue.field) == ("fire", "chain[0].timeout")
    assert "out of range 5..300" in issue.message


def test_target_timeout_out_of_range_names_the_target() -> None:
    raw = raw_table(rule("fire", ["fire"]))
    raw["targets"][2]["timeout"] = 900
    issue = only_issue(raw)
    assert (issue.section, issue.item, issue.field) == ("targets", "fire-desk", "timeout")
    assert issue.rule is None


@pytest.mark.parametrize(("start", "end", "field"), [("25:00", "06:00", "start"), ("08:00", "16:61", "end")])
def test_bad_time(start: str, end: str, field: str) -> None:
    issue = only_issue(raw_table(rule("night", ["fire"], windows=[OFFICE, {"start": start, "end": end}])))
    assert (issue.rule, issue.field) == ("night", f"windows[1].{field}")
    assert "bad time" in issue.message


def test_empty_window() -> None:
    issue = only_issue(raw_table(rule("never", ["fire"], windows=[{"start": "09:00", "end": "09:00"}])))
    assert (issue.rule, issue.field) == ("never", "windows[0]")


@pytest.mark.parametrize(
    ("rules", "where"),
    [
        ([rule("a", ["fire"], then="a")], ("a", "loop: a -> a")),
        ([rule("a", ["fire"], then="b"), rule("b", ["crime"], then="a")], ("a", "loop: a -> b -> a")),
        (
            [rule("x", ["water"], then="a"), rule("a", ["fire"], then="b"), rule("b", ["crime"], then="c"),
             rule("c", ["road"], then="a")],
            ("a", "loop: a -> b -> c -> a"),
        ),
    ],
)  # fmt: skip
def test_then_loops_are_refused_once_per_cycle(rules: list[dict[str, Any]], where: tuple[str, str]) -> None:
    issue = only_issue(raw_table(*rules))
    assert (issue.rule, issue.field, issue.message) == (where[0], "then", where[1])


def test_then_unknown_rule() -> None:
    issue = only_issue(raw_table(rule("a", ["fire"], then="ghost")))
    assert (issue.rule, issue.field) == ("a", "then")
    assert "unknown rule 'ghost'" in issue.message


def test_outside_hours_needs_windows() -> None:
    issue = only_issue(raw_table(rule("water", ["water"], outside_hours=AFTER_HOURS)))
    assert (issue.rule, issue.field) == ("water", "outside_hours")


@pytest.mark.parametrize("categories", [["water", "fire"], "*"])
def test_outside_hours_refused_for_emergencies(categories: Any) -> None:
    issue = only_issue(raw_table(rule("office", categories, windows=[OFFICE], outside_hours=AFTER_HOURS)))
    assert (issue.rule, issue.field) == ("office", "outside_hours")
    assert "fire" in issue.message
    assert "24 hours" in issue.message


def test_outside_hours_unknown_agency() -> None:
    hours = {"message": "Tutup.", "ticket_agency": "pln"}
    issue = only_issue(raw_table(rule("water", ["water"], windows=[OFFICE], outside_hours=hours)))
    assert (issue.rule, issue.field) == ("water", "outside_hours.ticket_agency")


def test_outside_hours_message_must_be_one_line() -> None:
    hours = {"message": "Tutup.\nexten => s,1,Hangup()", "ticket_agency": "pdam"}
    issue = only_issue(raw_table(rule("water", ["water"], windows=[OFFICE], outside_hours=hours)))
    assert (issue.rule, issue.field) == ("water", "outside_hours.message")


def test_target_with_unknown_agency() -> None:
    raw = raw_table()
    raw["targets"].append({"kind": "external", "id": "pln-123", "agency": "pln", "number": "123", "trunk": "t"})
    issue = only_issue(raw)
    assert (issue.section, issue.item, issue.field) == ("targets", "pln-123", "agency")


def test_duplicate_target_agency_category_ids() -> None:
    raw = raw_table()
    raw["targets"].append(dict(raw["targets"][0]))
    raw["agencies"].append(dict(raw["agencies"][0]))
    raw["categories"] = [
        {"id": "fire", "label_id": "Kebakaran", "label_en": "Fire", "emergency": True},
        {"id": "fire", "label_id": "Api", "label_en": "Fire", "emergency": True},
    ]
    issues = issues_of(raw)
    assert {(i.section, i.item, i.field) for i in issues} == {
        ("targets", "police-desk", "id"),
        ("agencies", "police", "id"),
        ("categories", "fire", "id"),
    }


def test_bad_endpoint_names_the_target_and_field() -> None:
    raw = raw_table()
    raw["targets"][0]["endpoints"] = ["pol1", "pol2&PJSIP/evil"]
    issue = only_issue(raw)
    assert (issue.section, issue.item, issue.field) == ("targets", "police-desk", "endpoints[1]")


def test_rule_without_id_is_named_by_position() -> None:
    raw = raw_table(rule("ok", ["fire"]), {"categories": ["fire"], "chain": [{"target": "hq"}]})
    issue = only_issue(raw)
    assert (issue.rule, issue.field) == ("#1", "id")


def test_unknown_field_refused() -> None:
    issue = only_issue(raw_table(rule("fire", ["fire"], prio=3)))
    assert (issue.rule, issue.field) == ("fire", "prio")


def test_unknown_timezone_and_bad_version() -> None:
    issues = issues_of(raw_table(timezone="Asia/Atlantis", version=0))
    assert {(i.section, i.field) for i in issues} == {("table", "timezone"), ("table", "version")}


def test_many_problems_reported_together() -> None:
    raw = raw_table(
        rule("a", ["flood"]),
        rule("b", ["fire"], chain=("nobody",)),
        rule("c", ["crime"], then="d"),
        rule("d", ["crime"], then="c"),
    )
    issues = issues_of(raw)
    assert [(i.rule, i.field) for i in issues] == [
        ("a", "categories[0]"),
        ("b", "chain[0].target"),
        ("c", "then"),
    ]


def test_error_text_lists_every_issue() -> None:
    with pytest.raises(RoutingTableError) as caught:
        load_table(raw_table(rule("a", ["flood"]), rule("b", ["fire"], chain=("nobody",))))
    text = str(caught.value)
    assert text.splitlines() == [
        "invalid routing table:",
        "  rules[a].categories[0]: unknown category 'flood'",
        "  rules[b].chain[0].target: unknown target 'nobody'",
    ]


def test_invalid_json_and_non_object() -> None:
    assert "invalid JSON" in only_issue_text("{not json")
    assert "must be a JSON object" in only_issue_text("[1, 2]")


def only_issue_text(data: str) -> str:
    with pytest.raises(RoutingTableError) as caught:
        load_table(data)
    assert len(caught.value.issues) == 1
    return str(caught.value.issues[0])


def test_model_validate_json_refuses_too() -> None:
    text = json.dumps(raw_table(rule("a", ["fire"], then="a")))
    with pytest.raises(ValidationError, match=r"rules\[a\]\.then: loop: a -> a"):
        RoutingTable.model_validate_json(text)


def test_refused_whole_nothing_partially_applied() -> None:
    good = load_table(raw_table(rule("fire", ["fire"])))
    bad = raw_table(rule("fire", ["fire"], chain=("fire-desk",)), rule("crime", ["crime"], chain=()))
    with pytest.raises(RoutingTableError):
        load_table(bad)
    assert good.rules[0].chain[0].target == "police-desk"  # the previous table is untouched
    with pytest.raises(ValidationError):
        good.rules[0].priority = 5  # type: ignore[misc]


def test_validate_table_on_constructed_table() -> None:
    good = default_table()
    broken = RoutingTable.model_construct(
        **{**dict(good), "rules": [*good.rules, good.rules[0].model_copy(update={"then": "nowhere"})]}
    )
    issues = validate_table(broken)
    assert {(i.rule, i.field) for i in issues} == {("medical", "id"), ("medical", "then")}
