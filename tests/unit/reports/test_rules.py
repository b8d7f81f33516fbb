"""The pure rules of the reports: how a call ended, answer time, service levels, recap groups, the day range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ntpd112.reports.rules import (
    OUTCOME_RULE,
    SERVICE_LEVEL_TARGETS,
    CallFacts,
    CallOutcome,
    Condition,
    RangeError,
    RecapGroup,
    ReportRange,
    answer_seconds,
    classify_call,
    recap_group,
    report_names,
    service_level,
)
from ntpd112.routing.categories import category_index, default_categories

T0 = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def facts(answered: float | None = None, abandoned: float | None = None, ended: float | None = None) -> CallFacts:
    def at(offset: float | None) -> datetime | None:
        return None if offset is None else T0 + timedelta(seconds=offset)

    return CallFacts(offered_at=T0, operator_answered_at=at(answered), abandoned_at=at(abandoned), ended_at=at(ended))


@pytest.mark.parametrize(
    ("call", "outcome"),
    [
        (facts(answered=8, ended=90), CallOutcome.ANSWERED),
        # app_queue's abandon and an operator answer on one call (a callback, a requeue): the operator answered.
        (facts(answered=30, abandoned=12, ended=90), CallOutcome.ANSWERED),
        (facts(abandoned=4.9, ended=5), CallOutcome.PHANTOM_ABANDONED),
        (facts(abandoned=5.0, ended=6), CallOutcome.ABANDONED),  # the threshold itself is a real abandon
        (facts(abandoned=40, ended=41), CallOutcome.ABANDONED),
        (facts(), CallOutcome.WAITING),
        (facts(ended=3), CallOutcome.UNANSWERED),  # hung up during intake, or overflowed past the queue
    ],
)
def test_each_call_has_one_outcome_decided_in_the_rules_order(call: CallFacts, outcome: CallOutcome) -> None:
    assert classify_call(call, phantom_seconds=5) is outcome


def test_a_zero_threshold_counts_no_phantom_and_a_call_without_offer_time_is_a_real_abandon() -> None:
    assert classify_call(facts(abandoned=0.5, ended=1), phantom_seconds=0) is CallOutcome.ABANDONED
    no_offer = CallFacts(offered_at=None, operator_answered_at=None, abandoned_at=T0, ended_at=T0)
    assert classify_call(no_offer, phantom_seconds=5) is CallOutcome.ABANDONED


def test_the_rule_names_every_outcome_once_and_ends_with_otherwise() -> None:
    assert sorted(o for _, o in OUTCOME_RULE) == sorted(CallOutcome)
    assert [c for c, _ in OUTCOME_RULE] == list(Condition)
    assert OUTCOME_RULE[-1][0] is Condition.OTHERWISE


def test_answer_time_runs_from_the_offer_intake_included_and_is_never_negative() -> None:
    assert answer_seconds(facts(answered=12.5)) == 12.5
    assert answer_seconds(facts(answered=-0.2)) == 0.0  # two writers' clocks
    assert answer_seconds(facts(abandoned=3)) is None


def test_service_level_meets_its_target_exactly_at_the_line() -> None:
    nfpa, nena15, nena20 = SERVICE_LEVEL_TARGETS
    assert (nfpa.within_seconds, nfpa.target_share) == (10, 0.90)
    assert (nena15.within_seconds, nena15.target_share, nena20.within_seconds, nena20.target_share) == (
        15,
        0.90,
        20,
        0.95,
    )
    exactly = service_level(nfpa, 9, 10)
    assert (exactly.share, exactly.met) == (0.9, True)
    assert service_level(nena20, 18, 19).met is False  # 94.7 % < 95 %
    nothing = service_level(nfpa, 0, 0)
    assert (nothing.share, nothing.met) == (None, None)


def test_recap_groups_follow_the_category_flags() -> None:
    known = category_index(default_categories())
    assert recap_group(known["medical"]) is RecapGroup.VALID_EMERGENCY
    assert recap_group(known["fallen_tree"]) is RecapGroup.VALID_EMERGENCY  # emergency=true in the default table
    assert recap_group(known["information"]) is RecapGroup.INFORMATION
    for complaint in ("road", "electricity", "water", "non_emergency"):
        assert recap_group(known[complaint]) is RecapGroup.NON_EMERGENCY_COMPLAINT
    for outcome in ("prank", "silent", "wrong_number", "test"):
        assert recap_group(known[outcome]).value == outcome
    assert recap_group(None) is RecapGroup.OTHER
    categories, agencies = report_names(None)
    assert [c.id for c in categories] == list(known) and agencies == {}


def test_a_range_is_whole_days_in_the_rooms_zone() -> None:
    wib = ReportRange(date(2026, 11, 30), date(2026, 11, 30), "Asia/Jakarta")
    assert wib.start == datetime(2026, 11, 29, 17, tzinfo=UTC)
    assert wib.end == datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert wib.end > T0  # 23:30 WIB on the 30th: still the 30th
    wit = ReportRange(date(2026, 11, 1), date(2026, 11, 30), "Asia/Jayapura")
    assert (wit.start, wit.end) == (datetime(2026, 10, 31, 15, tzinfo=UTC), datetime(2026, 11, 30, 15, tzinfo=UTC))


def test_a_range_is_refused_backwards_or_longer_than_366_days() -> None:
    ReportRange(date(2024, 1, 1), date(2024, 12, 31), "Asia/Makassar")  # a leap year: 366 days
    with pytest.raises(RangeError):
        ReportRange(date(2024, 1, 1), date(2025, 1, 1), "Asia/Makassar")
    with pytest.raises(RangeError):
        ReportRange(date(2026, 11, 2), date(2026, 11, 1), "Asia/Makassar")
