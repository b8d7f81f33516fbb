from __future__ import annotations

import pytest
from pydantic import ValidationError

from ntpd112.routing.categories import (
    CALL_OUTCOMES,
    INCIDENT_CATEGORIES,
    Category,
    CategoryKind,
    Severity,
    category_index,
    default_categories,
)

EXPECTED_INCIDENTS = [
    "medical",
    "fire",
    "disaster",
    "security",
    "crime",
    "traffic_accident",
    "road",
    "fallen_tree",
    "violence_women_children",
    "electricity",
    "water",
    "non_emergency",
    "information",
]


def test_default_incident_categories_in_order() -> None:
    assert [c.id for c in INCIDENT_CATEGORIES] == EXPECTED_INCIDENTS


def test_call_outcomes_need_no_dispatch() -> None:
    assert [c.id for c in CALL_OUTCOMES] == ["prank", "silent", "wrong_number", "test"]
    for outcome in CALL_OUTCOMES:
        assert outcome.kind is CategoryKind.OUTCOME
        assert not outcome.dispatch
        assert not outcome.emergency


def test_default_categories_is_incidents_then_outcomes_and_fresh() -> None:
    cats = default_categories()
    assert [c.id for c in cats] == [*EXPECTED_INCIDENTS, "prank", "silent", "wrong_number", "test"]
    cats.clear()
    assert len(default_categories()) == 17


@pytest.mark.parametrize(
    ("cat_id", "emergency"),
    [
        ("medical", True),
        ("fire", True),
        ("disaster", True),
        ("security", True),
        ("crime", True),
        ("traffic_accident", True),
        ("fallen_tree", True),
        ("violence_women_children", True),
        ("road", False),
        ("electricity", False),
        ("water", False),
        ("non_emergency", False),
        ("information", False),
    ],
)
def test_emergency_flags(cat_id: str, emergency: bool) -> None:
    cat = category_index(default_categories())[cat_id]
    assert cat.emergency is emergency
    assert cat.dispatch


def test_every_category_has_both_labels() -> None:
    for cat in default_categories():
        assert cat.label_id.strip()
        assert cat.label_en.strip()
        assert cat.label_id != cat.label_en or cat.id == "test"


def test_severity_ranks_and_labels() -> None:
    ordered = sorted(Severity, key=lambda s: s.rank, reverse=True)
    assert ordered == [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
    assert Severity.CRITICAL.label_id == "Kritis"
    assert Severity.LOW.label_en == "Low"
    assert Severity("high") is Severity.HIGH


@pytest.mark.parametrize("bad", ["Fire", "fire-x", "1fire", "", "fire,1", "fire\n", "a" * 41, "kebakaran hutan"])
def test_category_id_must_be_a_safe_slug(bad: str) -> None:
    with pytest.raises(ValidationError):
        Category(id=bad, label_id="x", label_en="x")


def test_label_refuses_control_characters() -> None:
    with pytest.raises(ValidationError):
        Category(id="flood", label_id="Banjir\nexten", label_en="Flood")


def test_outcome_cannot_be_emergency() -> None:
    with pytest.raises(ValidationError, match="cannot be an emergency"):
        Category(id="hoax", label_id="Hoaks", label_en="Hoax", kind=CategoryKind.OUTCOME, emergency=True)


def test_custom_category_roundtrip() -> None:
    cat = Category(id="flood", label_id="Banjir", label_en="Flood", emergency=True, default_severity=Severity.HIGH)
    assert Category.model_validate_json(cat.model_dump_json()) == cat


def test_category_index_keeps_first() -> None:
    a = Category(id="x", label_id="a", label_en="a")
    b = Category(id="x", label_id="b", label_en="b")
    assert category_index([a, b])["x"] is a
