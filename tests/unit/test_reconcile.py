"""Folding Asterisk's CDR rows into call facts (pure)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from ntpd112.calls.reconcile import (
    CdrCall,
    CdrLegRow,
    Reconciler,
    clid_name,
    fold_cdrs,
    missing_call_fields,
    unseen_call_fields,
)
from ntpd112.calls.release import CdrRelease, cdr_release, cut_off_reason
from ntpd112.intake.numbering import CallerNumbering
from ntpd112.pbx.asterisk_config import Trunk, TrunkTable
from ntpd112.pbx.queue_log import QueuedCall
from ntpd112.sip_names import endpoint_of
from ntpd112.store.models import Call


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
        CdrLegRow(
            uniqueid="1.1",
            linkedid="1.1",
            channel="PJSIP/trunk-xl-01",
            dstchannel="PJSIP/op1-02",
            disposition="NO ANSWER",
            src="0812",
            start=_at(0),
            answer=_at(1),
            end=_at(10),
        ),
        CdrLegRow(
            uniqueid="1.1",
            linkedid="1.1",
            channel="PJSIP/trunk-xl-01",
            dstchannel="PJSIP/op2-03",
            disposition="ANSWERED",
            src="0812",
            start=_at(10),
            answer=_at(12),
            end=_at(40),
            userfield="ntpd112-failsafe",
        ),
        # The operator's own leg and an agency trunk leg are not calls to 112.
        CdrLegRow(uniqueid="1.2", channel="PJSIP/op2-03", disposition="ANSWERED"),
        CdrLegRow(
            uniqueid="1.3",
            channel="PJSIP/trunk-xl-04",
            dstchannel="PJSIP/agency-trunk-05",
            disposition="ANSWERED",
            start=_at(5),
            end=_at(6),
        ),
    ]
    calls = fold_cdrs(rows, frozenset({"op1", "op2"}))
    assert set(calls) == {"1.1", "1.3"}
    call = calls["1.1"]
    assert (call.start, call.answer, call.end) == (_at(0), _at(1), _at(40))
    assert call.operators == ["op2"] and call.failsafe and call.src == "0812"
    assert calls["1.3"].operators == []  # a trunk is not an operator


@pytest.mark.parametrize(
    ("number_format", "caller_number"),
    [("international", "+62215551234"), ("national_without_prefix", "+6262215551234"), ("auto", None)],
)
def test_a_call_known_only_from_its_cdr_reads_the_caller_number_in_the_trunks_format(
    number_format: str, caller_number: str | None
) -> None:
    numbering = CallerNumbering(format=number_format)  # type: ignore[arg-type]
    trunks = TrunkTable(
        trunk=(Trunk(name="xl", operator="XL", network="mobile", match=("192.0.2.1",), numbers=numbering),)
    )
    cdr = CdrCall("1.1", linkedid="1.1", channel="PJSIP/trunk-xl-01", src="62215551234", start=_at(0))
    fields = unseen_call_fields(cdr, trunks)
    assert (fields["caller_number"], fields["caller_number_raw"]) == (caller_number, "62215551234")
    assert (fields["trunk"], fields["carrier"], fields["offered_at"]) == ("xl", "XL", _at(0))


XL = TrunkTable(trunk=(Trunk(name="xl", operator="XL", network="mobile", match=("192.0.2.1",)),))
ENDED_CDR = CdrCall(
    "1.1",
    linkedid="1.1",
    channel="PJSIP/trunk-xl-01",
    src="081234567890",
    start=_at(0),
    answer=_at(1),
    end=_at(40),
    operators=["op2"],
)


def test_a_call_never_seen_gets_its_whole_record_from_the_cdr() -> None:
    fields = missing_call_fields(ENDED_CDR, None, XL)
    assert fields["caller_number"] == "+6281234567890"
    assert (fields["offered_at"], fields["answered_at"], fields["ended_at"]) == (_at(0), _at(1), _at(40))
    assert (fields["operator"], fields["handled_by"], fields["dialed_number"]) == ("op2", "service", "112")


@pytest.mark.parametrize(
    ("clid", "name"),
    [
        ('"Budi Santoso" <081234567890>', "Budi Santoso"),
        ("Budi <081234567890>", "Budi"),
        ("<081234567890>", None),
        ('"" <081234567890>', None),
        ("081234567890", None),
        (None, None),
    ],
)
def test_the_display_name_is_read_from_the_cdr_caller_id(clid: str | None, name: str | None) -> None:
    assert clid_name(clid) == name


def test_a_call_the_service_never_saw_gets_the_callers_display_name_from_the_cdr() -> None:
    # Found by the fault harness: calls reconciled after a service kill had no caller name.
    cdr = dataclasses.replace(ENDED_CDR, clid='"Budi Santoso" <081234567890>')
    assert missing_call_fields(cdr, None, XL)["caller_name"] == "Budi Santoso"


def test_a_row_without_identity_gets_only_its_empty_fields_filled() -> None:
    # The row a restarted service wrote for a call it found in the queue: the end was recorded live.
    row = Call(id=None, uniqueid="1.1", ended_at=_at(41), caller_name="Budi")
    fields = missing_call_fields(ENDED_CDR, row, XL)
    assert fields["caller_number"] == "+6281234567890"
    assert (fields["trunk"], fields["carrier"], fields["offered_at"], fields["answered_at"]) == (
        "xl",
        "XL",
        _at(0),
        _at(1),
    )
    # Facts recorded live are never replaced; unknown facts are not written as nulls.
    assert "ended_at" not in fields and "caller_name" not in fields
    assert all(value is not None for value in fields.values())


def test_a_complete_row_needs_nothing() -> None:
    complete = Call(id=None, uniqueid="1.1", **missing_call_fields(ENDED_CDR, None, XL), caller_name="Budi")
    assert missing_call_fields(ENDED_CDR, complete, XL) == {}


class _SpoolingJournal:
    spooling = True


async def test_reconciliation_waits_for_the_spool_to_be_written_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # A restart with records of ended calls still in the spool: reconciling first would record their ends twice.
    journal = _SpoolingJournal()
    reconciler = Reconciler(
        None,  # type: ignore[arg-type]  # the databases are not reached: run_once is replaced
        None,  # type: ignore[arg-type]
        journal,  # type: ignore[arg-type]
        XL,
        lambda _: False,
        interval=3600,
        lookback=timedelta(hours=1),
    )
    runs: list[bool] = []

    async def run_once() -> int:
        runs.append(journal.spooling)
        return 0

    monkeypatch.setattr(reconciler, "run_once", run_once)
    monkeypatch.setattr("ntpd112.calls.reconcile.SPOOL_RECHECK_SECONDS", 0.01)
    await reconciler.start()
    try:
        await asyncio.sleep(0.1)
        assert runs == []
        journal.spooling = False
        for _ in range(100):
            if runs:
                break
            await asyncio.sleep(0.01)
        assert runs == [False]
    finally:
        await reconciler.stop()


# -- callers cut off while the service was down (the dialplan's release mark in the CDR userfield) ----------------


@pytest.mark.parametrize(
    ("userfield", "release"),
    [
        (None, None),
        ("ntpd112-failsafe", None),  # written before the dialplan marked releases: nothing to judge
        ("ntpd112-release=?", CdrRelease()),
        ("ntpd112-release=? ntpd112-failsafe", CdrRelease()),
        ("ntpd112-release=? ntpd112-failsafe ntpd112-release=44/none", CdrRelease(44, "none")),
        ("ntpd112-release=? ntpd112-release=16/caller", CdrRelease(16, "caller")),
        ("ntpd112-release=? ntpd112-release=/other", CdrRelease(None, "other")),
        ("ntpd112-release=? ntpd112-release=16/somebody", CdrRelease()),  # not a mark the handler writes
    ],
)
def test_the_release_mark_is_read_from_the_cdr_userfield(userfield: str | None, release: CdrRelease | None) -> None:
    assert cdr_release(userfield) == release


@pytest.mark.parametrize(
    ("release", "answered", "operator_hung_up", "reason"),
    [
        (None, False, False, None),
        (CdrRelease(16, "caller"), False, False, None),  # the caller hung up
        (CdrRelease(16, "caller"), True, False, None),
        (CdrRelease(16, "other"), True, False, None),  # the operator's side ended the call
        (CdrRelease(16, "none"), True, True, None),  # the queue log says the operator hung up
        (CdrRelease(), True, False, "asterisk_restart"),  # the handler never ran
        (CdrRelease(), False, False, "asterisk_restart"),
        (CdrRelease(44, "none"), True, False, "no_media"),
        (CdrRelease(44, "none"), False, False, "no_media"),
        (CdrRelease(16, "none"), False, False, "cut_off"),  # when in doubt, call back
        (CdrRelease(16, "other"), False, False, "cut_off"),
    ],
)
def test_a_caller_released_by_nobody_they_talked_to_is_cut_off(
    release: CdrRelease | None, answered: bool, operator_hung_up: bool, reason: str | None
) -> None:
    assert cut_off_reason(release, operator_answered=answered, operator_hung_up=operator_hung_up) == reason


def test_the_release_mark_of_the_last_leg_is_the_one_folded() -> None:
    rows = [
        CdrLegRow(uniqueid="1.1", channel="PJSIP/trunk-xl-01", userfield=field, end=_at(second))
        for second, field in ((5, "ntpd112-release=?"), (9, "ntpd112-release=? ntpd112-release=44/none"))
    ]
    assert fold_cdrs(rows, frozenset())["1.1"].release == CdrRelease(44, "none")
    assert fold_cdrs(list(reversed(rows)), frozenset())["1.1"].release == CdrRelease(44, "none")


def test_a_dead_line_the_service_did_not_see_goes_on_the_callback_list_once() -> None:
    cdr = dataclasses.replace(ENDED_CDR, operators=[], release=CdrRelease(44, "none"))
    fields = missing_call_fields(cdr, None, XL)
    assert (fields["callback_status"], fields["callback_reason"]) == ("pending", "no_media")
    # Once on the row, the next run finds nothing to fill.
    assert missing_call_fields(cdr, Call(id=None, uniqueid="1.1", caller_name="Budi", **fields), XL) == {}


def test_a_call_whose_end_the_service_recorded_live_is_not_judged_from_its_cdr() -> None:
    cdr = dataclasses.replace(ENDED_CDR, release=CdrRelease())
    row = Call(id=None, uniqueid="1.1", ended_at=_at(41), caller_name="Budi")
    assert "callback_status" not in missing_call_fields(cdr, row, XL)


@pytest.mark.parametrize(
    ("release", "reason"), [(CdrRelease(16, "caller"), "abandoned"), (CdrRelease(44, "none"), "no_media")]
)
def test_a_caller_released_while_waiting_is_abandoned_only_when_they_hung_up(release: CdrRelease, reason: str) -> None:
    # app_queue logs an ABANDON for any release while waiting, the media timeout's too.
    cdr = dataclasses.replace(ENDED_CDR, operators=[], release=release)
    queued = QueuedCall("1.1", last_at=_at(30), abandoned_at=_at(30), wait_seconds=29.0)
    assert missing_call_fields(cdr, None, XL, queued)["callback_reason"] == reason


def test_a_call_the_operator_ended_is_not_called_back() -> None:
    cdr = dataclasses.replace(ENDED_CDR, release=CdrRelease(16, "none"))
    queued = QueuedCall("1.1", last_at=_at(40), operator="op2", operator_answered_at=_at(5), operator_hung_up=True)
    assert "callback_status" not in missing_call_fields(cdr, None, XL, queued)
