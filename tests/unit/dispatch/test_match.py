from __future__ import annotations

from datetime import date

import pytest

from ntpd112.routing.matching import DecisionKind, RuleVerdict, explain, match
from tests.unit.dispatch.builders import OFFICE, at, rule, table

NIGHT = {"start": "22:00", "end": "06:00"}
AFTER_HOURS = {"message": "Kantor PDAM buka Senin-Jumat 08.00-16.00.", "ticket_agency": "pdam"}


def chain_ids(decision: object) -> list[str]:
    return [step.target.id for step in decision.chain]  # type: ignore[attr-defined]


def test_priority_beats_specificity() -> None:
    t = table(
        rule("area-specific", ["fire"], areas=["Cibinong"], chain=("fire-desk",)),
        rule("catch-all", "*", chain=("police-desk",), priority=5),
    )
    decision = match(t, "fire", "Cibinong", at("mon", "10:00"))
    assert decision.rule_id == "catch-all"
    assert decision.kind is DecisionKind.ROUTE


def test_area_specific_beats_wildcard_at_equal_priority() -> None:
    t = table(
        rule("any-area", ["fire"], chain=("fire-desk",)),
        rule("cibinong", ["fire"], areas=["Cibinong"], chain=("police-desk",)),
    )
    assert match(t, "fire", "Cibinong", at("mon", "10:00")).rule_id == "cibinong"
    assert match(t, "fire", "Bojonggede", at("mon", "10:00")).rule_id == "any-area"
    assert match(t, "fire", None, at("mon", "10:00")).rule_id == "any-area"


def test_area_specific_with_category_wildcard_beats_category_specific_any_area() -> None:
    # tie-break 2 (area) comes before tie-break 3 (category)
    t = table(
        rule("fire-anywhere", ["fire"], chain=("fire-desk",)),
        rule("cibinong-all", "*", areas=["Cibinong"], chain=("police-desk",)),
    )
    assert match(t, "fire", "Cibinong", at("mon", "10:00")).rule_id == "cibinong-all"


def test_category_specific_beats_category_wildcard() -> None:
    t = table(
        rule("everything", "*", chain=("police-desk",)),
        rule("fire", ["fire"], chain=("fire-desk",)),
    )
    assert match(t, "fire", None, at("mon", "10:00")).rule_id == "fire"
    assert match(t, "crime", None, at("mon", "10:00")).rule_id == "everything"


def test_rule_order_breaks_remaining_ties() -> None:
    t = table(rule("first", ["fire"], chain=("fire-desk",)), rule("second", ["fire", "crime"]))
    assert match(t, "fire", None, at("mon", "10:00")).rule_id == "first"
    t2 = table(rule("second", ["fire", "crime"]), rule("first", ["fire"], chain=("fire-desk",)))
    assert match(t2, "fire", None, at("mon", "10:00")).rule_id == "second"


def test_negative_priority_ranks_below_default_zero() -> None:
    t = table(rule("low", ["fire"], priority=-5), rule("normal", "*", chain=("fire-desk",)))
    assert match(t, "fire", None, at("mon", "10:00")).rule_id == "normal"


def test_area_match_is_case_and_space_insensitive_and_codes_work() -> None:
    t = table(rule("kec", ["crime"], areas=["Bogor  Tengah", "32.01.05"]))
    assert match(t, "crime", " bogor tengah ", at("mon", "10:00")).rule_id == "kec"
    assert match(t, "crime", "32.01.05", at("mon", "10:00")).rule_id == "kec"
    assert match(t, "crime", "32.01.06", at("mon", "10:00")).kind is DecisionKind.DEFAULT
    assert match(t, "crime", "   ", at("mon", "10:00")).area is None


def test_unknown_area_only_matches_wildcard_rules() -> None:
    t = table(rule("kec", ["crime"], areas=["Cibinong"]))
    decision = match(t, "crime", None, at("mon", "10:00"))
    assert decision.kind is DecisionKind.DEFAULT
    assert decision.checks[0].verdict is RuleVerdict.NOT_APPLICABLE
    assert "area unknown" in decision.checks[0].reason


def test_overlapping_windows_inactive_rule_passes_on() -> None:
    t = table(
        rule("night-crew", ["fire"], windows=[NIGHT], priority=10, chain=("police-desk",)),
        rule("day-crew", ["fire"], chain=("fire-desk",)),
    )
    assert match(t, "fire", None, at("tue", "23:00")).rule_id == "night-crew"
    assert match(t, "fire", None, at("wed", "05:59")).rule_id == "night-crew"
    decision = match(t, "fire", None, at("wed", "06:00"))
    assert decision.rule_id == "day-crew"
    verdicts = {c.rule_id: c.verdict for c in decision.checks}
    assert verdicts == {"night-crew": RuleVerdict.INACTIVE, "day-crew": RuleVerdict.SELECTED}


def test_weekday_and_weekend_rules() -> None:
    weekend = {"days": ["sat", "sun"], "start": "00:00", "end": "24:00"}
    t = table(
        rule("weekend", ["crime"], windows=[weekend], priority=1, chain=("police-110",)),
        rule(
            "weekday",
            ["crime"],
            windows=[{**OFFICE, "start": "00:00", "end": "24:00"}],
            chain=("police-desk",),
        ),
    )
    assert match(t, "crime", None, at("fri", "23:59")).rule_id == "weekday"
    assert match(t, "crime", None, at("sat", "00:00")).rule_id == "weekend"
    assert match(t, "crime", None, at("sun", "23:59")).rule_id == "weekend"
    assert match(t, "crime", None, at("mon", "00:00")).rule_id == "weekday"


def test_several_windows_any_matches() -> None:
    t = table(
        rule(
            "split",
            ["crime"],
            windows=[{"start": "06:00", "end": "09:00"}, {"start": "17:00", "end": "20:00"}],
        )
    )
    assert match(t, "crime", None, at("mon", "08:00")).kind is DecisionKind.ROUTE
    assert match(t, "crime", None, at("mon", "12:00")).kind is DecisionKind.DEFAULT
    assert match(t, "crime", None, at("mon", "19:59")).kind is DecisionKind.ROUTE


def test_non_emergency_outside_hours_gets_message_and_ticket() -> None:
    t = table(rule("water", ["water"], windows=[OFFICE], chain=("pdam-desk",), outside_hours=AFTER_HOURS))
    inside = match(t, "water", "Cibinong", at("tue", "09:00"))
    assert inside.kind is DecisionKind.ROUTE
    assert chain_ids(inside) == ["pdam-desk"]
    outside = match(t, "water", "Cibinong", at("sat", "09:00"))
    assert outside.kind is DecisionKind.AFTER_HOURS
    assert outside.rule_id == "water"
    assert outside.chain == []
    assert outside.message == AFTER_HOURS["message"]
    assert outside.ticket_agency == "pdam"
    assert outside.checks[0].verdict is RuleVerdict.AFTER_HOURS


def test_after_hours_on_a_holiday() -> None:
    t = table(
        rule("water", ["water"], windows=[{**OFFICE, "skip_holidays": True}], chain=("pdam-desk",),
             outside_hours=AFTER_HOURS),
        holidays=["2026-11-25"],
    )  # fmt: skip
    assert match(t, "water", None, at("wed", "10:00")).kind is DecisionKind.AFTER_HOURS
    assert match(t, "water", None, at("thu", "10:00")).kind is DecisionKind.ROUTE
    assert t.holidays == [date(2026, 11, 25)]


def test_higher_ranked_active_rule_wins_over_after_hours() -> None:
    t = table(
        rule("hotline", ["water"], priority=1, chain=("hq",)),
        rule("water", ["water"], windows=[OFFICE], chain=("pdam-desk",), outside_hours=AFTER_HOURS),
    )
    decision = match(t, "water", None, at("sat", "10:00"))
    assert decision.kind is DecisionKind.ROUTE
    assert decision.rule_id == "hotline"
    assert decision.checks[1].verdict is RuleVerdict.OUTRANKED


def test_higher_ranked_after_hours_rule_claims_the_call() -> None:
    t = table(
        rule("water", ["water"], windows=[OFFICE], chain=("pdam-desk",), outside_hours=AFTER_HOURS),
        rule("catch-all", "*", chain=("hq",)),
    )
    assert match(t, "water", None, at("sat", "10:00")).kind is DecisionKind.AFTER_HOURS


def test_emergency_without_a_matching_rule_goes_to_default_chain() -> None:
    t = table(rule("water", ["water"], chain=("pdam-desk",)))
    decision = match(t, "fire", None, at("sun", "03:00"))
    assert decision.kind is DecisionKind.DEFAULT
    assert decision.rule_id is None
    assert chain_ids(decision) == ["hq"]
    assert decision.chain[0].rule_id is None


def test_unknown_category_gets_default_chain() -> None:
    decision = match(table(), "alien_landing", None, at("mon", "10:00"))
    assert decision.kind is DecisionKind.DEFAULT
    assert chain_ids(decision) == ["hq"]
    assert "unknown category" in decision.explanation[1]


@pytest.mark.parametrize("outcome", ["prank", "silent", "wrong_number", "test"])
def test_call_outcomes_are_not_dispatched(outcome: str) -> None:
    decision = match(table(rule("all", "*")), outcome, None, at("mon", "10:00"))
    assert decision.kind is DecisionKind.NO_DISPATCH
    assert decision.chain == []


def test_then_continuation_appends_chains_with_their_rule_ids() -> None:
    t = table(
        rule("accident", ["traffic_accident"], chain=("police-desk", "police-110"), then="ambulance"),
        rule("ambulance", ["medical"], chain=("fire-desk",), then="supervisors"),
        rule("supervisors", ["information"], chain=("hq",)),
    )
    decision = match(t, "traffic_accident", None, at("mon", "10:00"))
    assert chain_ids(decision) == ["police-desk", "police-110", "fire-desk", "hq"]
    assert [s.rule_id for s in decision.chain] == ["accident", "accident", "ambulance", "supervisors"]


def test_step_timeout_overrides_target_timeout() -> None:
    t = table(
        {
            "id": "fire",
            "categories": ["fire"],
            "chain": [{"target": "fire-desk"}, {"target": "police-110", "timeout": 45}],
        }
    )
    decision = match(t, "fire", None, at("mon", "10:00"))
    assert [s.timeout for s in decision.chain] == [20, 45]


def test_explanation_covers_every_rule_once_in_rank_order() -> None:
    t = table(
        rule("a", ["crime"], priority=1, windows=[NIGHT]),
        rule("b", ["fire"]),
        rule("c", "*"),
        rule("d", ["crime"], areas=["Cibinong"]),
    )
    decision = match(t, "crime", "Cibinong", at("mon", "10:00"))
    assert decision.rule_id == "d"
    assert [(c.rule_id, c.rank, c.verdict) for c in decision.checks] == [
        ("a", 1, RuleVerdict.INACTIVE),
        ("d", 2, RuleVerdict.SELECTED),
        ("c", 3, RuleVerdict.OUTRANKED),
        ("b", None, RuleVerdict.NOT_APPLICABLE),
    ]
    assert [c.position for c in decision.checks] == [0, 3, 2, 1]
    text = "\n".join(decision.explanation)
    assert "table version 1" in text
    assert "mon 2026-11-23 10:00 Asia/Jakarta" in text
    assert "rule 'b': not_applicable: category 'crime' not in fire" in text
    assert text.endswith("decision: route by rule 'd'")


def test_explain_text() -> None:
    t = table(
        rule("fire", ["fire"], chain=("fire-desk", "police-110")),
        rule("water", ["water"], windows=[OFFICE], chain=("pdam-desk",), outside_hours=AFTER_HOURS),
    )
    text = explain(t, "fire", "Cibinong", at("mon", "10:00"))
    assert "  1. fire-desk [fire: linear fire1 fire2] 20s" in text
    assert "  2. police-110 [police: 110 via agency-trunk] 30s" in text
    after = explain(t, "water", None, at("sun", "10:00"))
    assert "message: Kantor PDAM buka" in after
    assert "ticket: pdam" in after


def test_match_is_deterministic() -> None:
    t = table(rule("a", "*"), rule("b", ["fire"], areas=["X"]), rule("c", ["fire"], priority=2, windows=[NIGHT]))
    first = match(t, "fire", "X", at("thu", "23:30"))
    assert all(match(t, "fire", "X", at("thu", "23:30")) == first for _ in range(5))
