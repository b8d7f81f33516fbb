"""Property tests: matching is total and deterministic, and agrees with an independent model of the spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.pbx.routes_dialplan import render_dialplan
from ntpd112.routing.categories import default_categories
from ntpd112.routing.defaults import default_table
from ntpd112.routing.matching import DecisionKind, RuleVerdict, match
from ntpd112.routing.tables import RoutingTable, Rule
from ntpd112.routing.validation import load_table
from ntpd112.routing.windows import WEEKDAYS, TimeWindow
from tests.unit.dispatch.builders import raw_table

DEFAULT = default_table()
CATEGORIES = {c.id: c for c in default_categories()}
DISPATCHABLE = [c.id for c in default_categories() if c.dispatch]
NON_EMERGENCY = [c for c in DISPATCHABLE if not CATEGORIES[c].emergency]
AREAS = ["Cibinong", "Bogor Tengah", "32.01.05"]
TARGETS = ["police-desk", "police-110", "fire-desk", "hq", "pdam-desk"]

zones: st.SearchStrategy[tzinfo | None] = st.sampled_from(
    [
        None,
        UTC,
        timezone(timedelta(hours=-11)),
        timezone(timedelta(hours=14)),
        ZoneInfo("Asia/Jakarta"),
    ]
)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones)  # type: ignore[arg-type]
areas = st.one_of(st.none(), st.sampled_from(AREAS), st.text(max_size=20))
any_category = st.one_of(st.sampled_from(list(CATEGORIES)), st.text(max_size=12))


@settings(deadline=None)
@given(category=any_category, area=areas, at=moments)
def test_default_table_match_is_total(category: str, area: str | None, at: datetime) -> None:
    decision = match(DEFAULT, category, area, at)
    cat = CATEGORIES.get(category)
    if cat is not None and not cat.dispatch:
        assert decision.kind is DecisionKind.NO_DISPATCH
        return
    if decision.kind is DecisionKind.AFTER_HOURS:
        assert cat is not None
        assert not cat.emergency
        assert decision.message
        assert decision.ticket_agency is not None
        assert DEFAULT.agency(decision.ticket_agency) is not None
    else:
        assert decision.kind in (DecisionKind.ROUTE, DecisionKind.DEFAULT)
        assert decision.chain
    if cat is not None and cat.emergency:
        assert decision.kind is DecisionKind.ROUTE  # every emergency has an always-on rule
    assert decision == match(DEFAULT, category, area, at)
    if cat is not None:
        assert sorted(c.rule_id for c in decision.checks) == sorted(r.id for r in DEFAULT.rules)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(1, 1440).filter(lambda e: e != start))
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    return {"days": days, "start": _hhmm(start), "end": _hhmm(end)}


@st.composite
def tables(draw: st.DrawFn) -> RoutingTable:
    count = draw(st.integers(0, 6))
    rules = []
    for index in range(count):
        wins = draw(st.lists(windows(), max_size=2))
        after_hours = bool(wins) and draw(st.booleans())
        pool = NON_EMERGENCY if after_hours else DISPATCHABLE
        categories: Any = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        if not after_hours and draw(st.booleans()):
            categories = "*"
        rule: dict[str, Any] = {
            "id": f"r{index}",
            "categories": categories,
            "areas": draw(st.one_of(st.just("*"), st.lists(st.sampled_from(AREAS), min_size=1, unique=True))),
            "windows": wins,
            "priority": draw(st.integers(-2, 2)),
            "chain": [{"target": t} for t in draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3))],
        }
        if after_hours:
            rule["outside_hours"] = {"message": "Tutup.", "ticket_agency": "pdam"}
        if index + 1 < count and draw(st.booleans()):
            rule["then"] = f"r{draw(st.integers(index + 1, count - 1))}"  # forward only: never a loop
        rules.append(rule)
    return load_table(raw_table(*rules))


def _week_minute(local: datetime) -> int:
    return local.weekday() * 1440 + local.hour * 60 + local.minute


def _oracle_active(window: TimeWindow, local: datetime) -> bool:
    """Windows as intervals on a circular week of 10080 minutes: an independent model of contains()."""
    now = _week_minute(local)
    start, end = window.start_minute, window.end_minute
    length = end - start if end > start else 1440 - start + end
    for day in window.days:
        first = WEEKDAYS.index(day) * 1440 + start
        if (now - first) % 10080 < length:
            return True
    return False


def _oracle(table: RoutingTable, category: str, area: str | None, local: datetime) -> tuple[DecisionKind, str | None]:
    def applies(rule: Rule) -> bool:
        cat_ok = rule.categories == ["*"] or category in rule.categories
        area_ok = rule.areas == ["*"] or (area is not None and area.lower() in [a.lower() for a in rule.areas])
        return cat_ok and area_ok

    ranked = sorted(
        (r for r in table.rules if applies(r)),
        key=lambda r: (-r.priority, r.areas == ["*"], r.categories == ["*"], table.rules.index(r)),
    )
    for rule in ranked:
        if not rule.windows or any(_oracle_active(w, local) for w in rule.windows):
            return DecisionKind.ROUTE, rule.id
        if rule.outside_hours is not None:
            return DecisionKind.AFTER_HOURS, rule.id
    return DecisionKind.DEFAULT, None


@settings(deadline=None, max_examples=300)
@given(
    table=tables(),
    category=st.sampled_from(DISPATCHABLE),
    area=st.one_of(st.none(), st.sampled_from(AREAS)),
    at=moments,
)
def test_match_agrees_with_the_spec_model(table: RoutingTable, category: str, area: str | None, at: datetime) -> None:
    decision = match(table, category, area, at)
    local = decision.local_time
    assert (decision.kind, decision.rule_id) == _oracle(table, category, area, local)
    if decision.kind is not DecisionKind.AFTER_HOURS:
        assert decision.chain
    selected = [c for c in decision.checks if c.verdict in (RuleVerdict.SELECTED, RuleVerdict.AFTER_HOURS)]
    assert len(selected) == (0 if decision.kind is DecisionKind.DEFAULT else 1)
    assert len(decision.checks) == len(table.rules)


@settings(deadline=None)
@given(table=tables())
def test_random_tables_roundtrip_and_render(table: RoutingTable) -> None:
    assert RoutingTable.model_validate_json(table.model_dump_json()) == table
    text = render_dialplan(table)
    assert text.count("exten => cat-") == len(DISPATCHABLE)


@given(window=windows(), at=moments)
def test_window_across_midnight_is_two_windows(window: dict[str, Any], at: datetime) -> None:
    w = TimeWindow.model_validate(window)
    local = at.replace(tzinfo=None)
    assert w.contains(local) == _oracle_active(w, local)
    if w.crosses_midnight:
        evening = TimeWindow(days=w.days, start=w.start, end="24:00")
        following = [WEEKDAYS[(WEEKDAYS.index(d) + 1) % 7] for d in w.days]
        morning = TimeWindow(days=following, start="00:00", end=w.end)
        assert w.contains(local) == (evening.contains(local) or morning.contains(local))
