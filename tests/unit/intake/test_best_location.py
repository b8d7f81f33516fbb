"""Choosing the best location among a call's fixes."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.best_location import (
    TIER_AML_OTHER,
    TIER_DEVICE_GNSS,
    TIER_NETWORK_CELL,
    TIER_OPERATOR,
    TIER_PIDF,
    UNKNOWN_ACCURACY_M,
    effective_radius_m,
    is_better,
    source_tier,
)
from ntpd112.intake.geoloc import LocationFix, LocationSource

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def choose_best(fixes: Iterable[LocationFix], now: datetime) -> LocationFix | None:
    """The best fix, or None when there is none. Among equals, the earliest in ``fixes`` wins (the fold the
    service does as fixes arrive one by one)."""
    best: LocationFix | None = None
    for fix in fixes:
        if is_better(fix, best, now):
            best = fix
    return best


def fix(
    source: LocationSource = "aml",
    radius: float | None = 50.0,
    age: timedelta | None = timedelta(seconds=10),
    method: str | None = "gnss",
    lat: float = -6.2,
) -> LocationFix:
    return LocationFix(
        source=source,
        lat=lat,
        lon=106.8,
        radius_m=radius,
        method=method,
        measured_at=None if age is None else NOW - age,
        raw="test",
    )


def test_smaller_radius_wins() -> None:
    precise = fix(radius=10.0)
    coarse = fix(radius=500.0)
    assert choose_best([coarse, precise], NOW) is precise
    assert is_better(precise, coarse, NOW) is True
    assert is_better(coarse, precise, NOW) is False


def test_stale_fix_is_penalised_beyond_five_minutes() -> None:
    old_gnss = fix(radius=10.0, age=timedelta(minutes=40))
    fresh_cell = fix(source="cell", radius=1000.0, method="cell", age=timedelta(seconds=0))
    # 10 m + 2 m/s * 35 min = 4210 m > 1000 m.
    assert effective_radius_m(old_gnss, NOW) == 10.0 + 2.0 * 35 * 60
    assert choose_best([old_gnss, fresh_cell], NOW) is fresh_cell
    assert effective_radius_m(fix(radius=10.0, age=timedelta(minutes=4)), NOW) == 10.0


def test_future_fix_counts_as_fresh() -> None:
    assert effective_radius_m(fix(radius=30.0, age=timedelta(minutes=-3)), NOW) == 30.0


def test_point_without_radius_counts_as_unknown_accuracy() -> None:
    point = fix(source="pidf", radius=None, method="Manual")
    assert effective_radius_m(point, NOW) == UNKNOWN_ACCURACY_M
    assert choose_best([point, fix(source="cell", radius=3000.0, method="cell")], NOW) is point
    assert choose_best([point, fix(radius=100.0)], NOW) is not point


def test_source_tiers() -> None:
    assert source_tier(fix(source="aml", method="gnss")) == TIER_DEVICE_GNSS
    assert source_tier(fix(source="pidf", method="A-GPS")) == TIER_DEVICE_GNSS
    assert source_tier(fix(source="pidf", method="Cell")) == TIER_PIDF
    assert source_tier(fix(source="aml", method="wifi")) == TIER_PIDF
    assert source_tier(fix(source="aml", method="cell")) == TIER_AML_OTHER
    assert source_tier(fix(source="cell", method="cell")) == TIER_NETWORK_CELL


def test_equal_radius_breaks_ties_by_source() -> None:
    gnss = fix(source="aml", method="gnss", radius=100.0)
    pidf = fix(source="pidf", method="Cell", radius=100.0)
    aml_cell = fix(source="aml", method="cell", radius=100.0)
    network = fix(source="cell", method="cell", radius=100.0)
    assert choose_best([network, aml_cell, pidf, gnss], NOW) is gnss
    assert choose_best([network, aml_cell, pidf], NOW) is pidf
    assert choose_best([network, aml_cell], NOW) is aml_cell


def test_equal_rank_prefers_newer_then_keeps_current() -> None:
    older = fix(age=timedelta(seconds=60))
    newer = fix(age=timedelta(seconds=5))
    assert choose_best([older, newer], NOW) is newer
    twin = fix()
    assert is_better(twin, fix(), NOW) is False


def test_empty_and_first() -> None:
    assert choose_best([], NOW) is None
    only = fix()
    assert is_better(only, None, NOW) is True
    assert choose_best([only], NOW) is only


fixes = st.builds(
    fix,
    source=st.sampled_from(["cell", "pidf", "aml"]),
    radius=st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
    age=st.one_of(st.none(), st.timedeltas(timedelta(minutes=-10), timedelta(hours=3))),
    method=st.sampled_from([None, "gnss", "wifi", "cell", "GPS", "Manual"]),
    lat=st.floats(-10, 10, allow_nan=False),
)


@settings(max_examples=300)
@given(st.lists(fixes, max_size=12))
def test_choose_best_is_the_fold_of_is_better_and_the_minimum(candidates: list[LocationFix]) -> None:
    best = choose_best(candidates, NOW)
    current = None
    for candidate in candidates:
        if is_better(candidate, current, NOW):
            current = candidate
    assert best is current
    if candidates:
        assert best is not None
        assert all(not is_better(other, best, NOW) for other in candidates)
        assert effective_radius_m(best, NOW) == min(effective_radius_m(c, NOW) for c in candidates)


@settings(max_examples=200)
@given(st.lists(fixes, min_size=1, max_size=8), st.randoms())
def test_best_rank_does_not_depend_on_order(candidates: list[LocationFix], rnd: random.Random) -> None:
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    first = choose_best(candidates, NOW)
    second = choose_best(shuffled, NOW)
    assert first is not None and second is not None
    assert not is_better(first, second, NOW) and not is_better(second, first, NOW)


def test_an_operator_pin_becomes_the_best_location_and_later_fixes_compete_with_it() -> None:
    gnss = fix(source="aml", method="gnss", radius=5.0)
    pin = fix(source="operator", method="manual", radius=50.0, age=timedelta(0))
    assert source_tier(pin) == TIER_OPERATOR
    # Placed: the pin wins even over a more precise fix (the operator heard where the caller is).
    assert is_better(pin, gnss, NOW) is True
    # Afterwards the rule holds: a more precise fix replaces it, a coarser or equal one does not.
    assert is_better(fix(source="aml", method="gnss", radius=10.0), pin, NOW) is True
    assert is_better(fix(source="cell", method="cell", radius=800.0), pin, NOW) is False
    assert is_better(fix(source="aml", method="gnss", radius=50.0, age=timedelta(0)), pin, NOW) is False
