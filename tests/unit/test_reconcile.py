"""Folding Asterisk's CDR rows into call facts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from ntpd112.calls.reconcile import endpoint_of, fold_cdrs
from ntpd112.store.models import AsteriskCdr


def _at(second: int) -> datetime:
    return datetime(2026, 11, 22, 10, 0, second, tzinfo=UTC)


def test_endpoint_of_channel_names() -> None:
    assert endpoint_of("PJSIP/trunk-xl-0000002d") == "trunk-xl"
    assert endpoint_of("PJSIP/op1-00000003") == "op1"
    assert endpoint_of("PJSIP/agency-trunk-00000001") == "agency-trunk"
    assert endpoint_of("Local/x@y-0001;1") is None
    assert endpoint_of(None) is None


def test_rows_of_one_caller_fold_into_one_call_with_the_operator_who_answered() -> None:
    rows = [
        AsteriskCdr(
            uniqueid="1.1",
            linkedid="1.1",
            channel="PJSIP/trunk-xl-01",
            dstchannel="PJSIP/op1-02",
            disposition="NO ANSWER",
            src="0812",
            start=_at(0),
            answer=_at(1),
            end=_at(10),
            sequence=1,
        ),
        AsteriskCdr(
            uniqueid="1.1",
            linkedid="1.1",
            channel="PJSIP/trunk-xl-01",
            dstchannel="PJSIP/op2-03",
            disposition="ANSWERED",
            src="0812",
            start=_at(10),
            answer=_at(12),
            end=_at(40),
            sequence=2,
            userfield="ntpd112-failsafe",
        ),
        # The operator's own leg and an agency trunk leg are not calls to 112.
        AsteriskCdr(uniqueid="1.2", channel="PJSIP/op2-03", disposition="ANSWERED", sequence=3),
        AsteriskCdr(
            uniqueid="1.3",
            channel="PJSIP/trunk-xl-04",
            dstchannel="PJSIP/agency-trunk-05",
            disposition="ANSWERED",
            start=_at(5),
            end=_at(6),
            sequence=4,
        ),
    ]
    calls = fold_cdrs(rows, frozenset({"op1", "op2"}))
    assert set(calls) == {"1.1", "1.3"}
    call = calls["1.1"]
    assert (call.start, call.answer, call.end) == (_at(0), _at(1), _at(40))
    assert call.operators == ["op2"] and call.failsafe and call.src == "0812"
    assert calls["1.3"].operators == []  # a trunk is not an operator
