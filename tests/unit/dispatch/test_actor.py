"""The dispatch actor's transitions against in-memory ARI and AMI (tests/unit/dispatch/fakes.py): what it does to
the channels and bridges, what it writes on the timeline and the incident, and the state it ends in. The same
flows run end to end against Asterisk in tests/integration/test_dispatch_live.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ntpd112.dispatch import transitions
from ntpd112.dispatch.models import DispatchError, DispatchMode, DispatchRequest
from ntpd112.pbx.names import (
    DISPATCH_CALLER_VARIABLE,
    DISPATCH_CONTEXT,
    ENTRY_EXTENSION,
    HOLD_MUSIC_CLASS,
    QUEUE_CONTEXT,
)
from tests.unit.dispatch.fakes import (
    ANI,
    BUDI,
    CALL_ID,
    CALLER,
    CALLER_NAME,
    OPERATOR,
    OPERATOR_NAME,
    Rig,
    incident,
    leg,
)

BLIND, ATTENDED, CONFERENCE = DispatchMode.BLIND, DispatchMode.ATTENDED, DispatchMode.CONFERENCE
BRIDGE = "bridge-1"  # the caller's bridge: the first the actor creates
CONSULT = "bridge-2"  # attended: the second
BUSY, NO_ANSWER = 17, 19


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    rig.incidents.incident = incident("fire")
    yield rig
    await rig.service.stop()


def outcomes(rig: Rig) -> list[tuple[str, str | None]]:
    view = rig.view()
    assert view is not None
    return [(a.target, a.outcome) for a in view.attempts]


# -- taking the call over ---------------------------------------------------------------------------------------


async def test_the_take_over_redirects_caller_and_operator_together_and_bridges_them(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")

    setvar, redirect = (a for a in rig.ami.actions if a["Action"] in ("Setvar", "Redirect"))
    assert setvar == {
        "Action": "Setvar",
        "Channel": OPERATOR_NAME,
        "Variable": DISPATCH_CALLER_VARIABLE,
        "Value": CALLER,
    }
    assert (redirect["Channel"], redirect["ExtraChannel"]) == (CALLER_NAME, OPERATOR_NAME)
    assert redirect["Context"] == redirect["ExtraContext"] == DISPATCH_CONTEXT
    assert rig.ari.requests[:3] == [
        ("create_bridge", BRIDGE),
        ("add_to_bridge", BRIDGE, CALLER),
        ("add_to_bridge", BRIDGE, OPERATOR),
    ]
    assert rig.journal.types()[:2] == ["dispatch_holding", "dispatch_requested"]


async def test_a_caller_talking_with_nobody_is_not_taken_over(rig: Rig) -> None:
    rig.ami.bridge_peer = ""

    with pytest.raises(DispatchError) as refused:
        await rig.dispatch(BLIND, agency="police")

    assert refused.value.error_id == "not_with_operator"
    assert "Redirect" not in rig.ami.names()
    assert rig.view() is None
    assert rig.ari.requests == []


async def test_channels_that_never_reach_stasis_send_the_caller_back_to_the_queue(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transitions, "READY_TIMEOUT", 0.01)

    with pytest.raises(DispatchError) as refused:
        await rig.service.dispatch(CALL_ID, DispatchRequest(mode=BLIND, agency="police"), ANI)  # nobody enters Stasis

    assert refused.value.error_id == "dispatch_failed"
    [failed] = rig.journal.of("dispatch_failed")
    assert "could not take the call over" in failed["reason"]
    assert ("continue_in_dialplan", CALLER, QUEUE_CONTEXT, ENTRY_EXTENSION) in rig.ari.requests
    assert rig.view() is None


# -- blind ------------------------------------------------------------------------------------------------------


async def test_blind_transfer_answered_by_the_first_target(rig: Rig) -> None:
    view = await rig.dispatch(BLIND, agency="police")

    assert view.state == "ringing" and view.requested_by == ANI
    assert [a.devices for a in view.attempts] == [["PJSIP/pol1", "PJSIP/pol2"], ["PJSIP/110@agency-trunk"]]
    assert ("hangup", OPERATOR, "normal") in rig.ari.requests  # blind: the operator's part is over
    assert ("start_bridge_moh", BRIDGE, HOLD_MUSIC_CLASS) in rig.ari.requests
    assert rig.ari.of("originate") == [
        (leg(1, 0), "PJSIP/pol1", f"dispatch,agency,{CALLER}", 35),  # ring timer 30 s, Asterisk's backstop +5
        (leg(1, 1), "PJSIP/pol2", f"dispatch,agency,{CALLER}", 35),
    ]
    assert [t.when - rig.clock.now for t in rig.clock.pending] == [30]

    rig.clock.advance(4)
    await rig.answer(leg(1, 1))

    assert rig.state() == "connected"
    assert outcomes(rig) == [("police-desk", "answered"), ("police-110", None)]
    assert ("hangup", leg(1, 0), "answered_elsewhere") in rig.ari.requests
    assert rig.ari.requests[-2:] == [("stop_bridge_moh", BRIDGE), ("add_to_bridge", BRIDGE, leg(1, 1))]
    assert rig.clock.pending == []  # the ring timer is off
    assert rig.journal.types() == [
        "dispatch_holding",
        "dispatch_requested",
        "operator_left",
        "dispatch_attempt",
        "dispatch_attempt_ended",
        "agency_answered",
    ]
    [ended] = rig.journal.of("dispatch_attempt_ended")
    assert (ended["outcome"], ended["ring_seconds"], ended["causes"]) == ("answered", 4.0, [])
    assert rig.journal.of("dispatch_requested")[0]["decision"] == "override"
    assert rig.incidents.statuses == ["dispatched", "acknowledged"]
    assert rig.tickets.handed == [("police", True)]  # the agency that answered has the incident's ticket


async def test_a_routed_dispatch_walks_the_rules_chain_one_desk_after_the_other(rig: Rig) -> None:
    view = await rig.dispatch(BLIND)  # the incident's category: fire

    assert view.decision == "route" and view.rule_id == "fire"
    assert [a.target for a in view.attempts] == ["fire-desk", "fire-desk", "police-110"]
    assert rig.ari.of("originate")[-1][:2] == (leg(1), "PJSIP/fire1")

    await rig.ring_timeout()

    assert rig.ari.of("originate")[-1][:2] == (leg(2), "PJSIP/fire2")  # linear: the next desk of the same group


async def test_no_answer_falls_back_to_the_next_target(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")

    await rig.ring_timeout()

    assert ("hangup", leg(1, 0), "no_answer") in rig.ari.requests
    assert ("hangup", leg(1, 1), "no_answer") in rig.ari.requests
    assert rig.ari.of("originate")[-1] == (leg(2), "PJSIP/110@agency-trunk", f"dispatch,agency,{CALLER}", 35)
    assert outcomes(rig) == [("police-desk", "no_answer"), ("police-110", None)]
    assert rig.journal.of("dispatch_attempt_ended")[0]["ring_seconds"] == 30.0
    assert rig.state() == "ringing"

    await rig.answer(leg(2))

    assert outcomes(rig) == [("police-desk", "no_answer"), ("police-110", "answered")]
    assert rig.state() == "connected"


async def test_busy_falls_back_once_every_desk_of_the_attempt_is_busy(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")

    await rig.hang_up(leg(1, 0), BUSY)
    assert outcomes(rig) == [("police-desk", None), ("police-110", None)]  # pol2 still rings

    await rig.hang_up(leg(1, 1), BUSY)

    assert outcomes(rig) == [("police-desk", "busy"), ("police-110", None)]
    assert rig.journal.of("dispatch_attempt_ended")[0]["causes"] == [BUSY, BUSY]
    assert rig.ari.of("originate")[-1][0] == leg(2)
    assert not any(r[0] == "hangup" and r[1].startswith(f"{CALLER}-d1") for r in rig.ari.requests)
    [timer] = rig.clock.pending  # the first attempt's timer is off, the second's runs
    assert timer.when - rig.clock.now == 30


async def test_a_late_ring_timer_of_an_attempt_already_over_is_ignored(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")
    first_timer = rig.clock.pending[0]
    await rig.hang_up(leg(1, 0), NO_ANSWER)
    await rig.hang_up(leg(1, 1), NO_ANSWER)

    first_timer.callback()  # fires anyway (it was already queued when cancelled)
    await rig.settle()

    assert outcomes(rig) == [("police-desk", "no_answer"), ("police-110", None)]


async def test_an_exhausted_blind_chain_sends_the_caller_back_to_the_queue(rig: Rig) -> None:
    rig.ari.unreachable = {"PJSIP/110@agency-trunk"}
    await rig.dispatch(BLIND, agency="police")

    await rig.hang_up(leg(1, 0), BUSY)
    await rig.hang_up(leg(1, 1), NO_ANSWER)

    assert rig.journal.of("dispatch_leg_failed")[0]["device"] == "PJSIP/110@agency-trunk"
    [failed] = rig.journal.of("dispatch_failed")
    assert failed == {"reason": "chain exhausted", "attempts": [["police-desk", "no_answer"], ["police-110", "failed"]]}
    assert rig.incidents.statuses == ["dispatched", "failed"]
    assert rig.tickets.handed == []  # nobody answered: no agency has it
    assert rig.ari.requests[-3:] == [
        ("stop_bridge_moh", BRIDGE),
        ("continue_in_dialplan", CALLER, QUEUE_CONTEXT, ENTRY_EXTENSION),
        ("destroy_bridge", BRIDGE),
    ]
    assert rig.journal.types()[-1] == "caller_requeued"
    assert rig.view() is None  # dispatch let go of the call


async def test_an_exhausted_attended_chain_brings_the_operator_back_to_the_caller(rig: Rig) -> None:
    rig.ari.unreachable = {"PJSIP/pol1", "PJSIP/pol2", "PJSIP/110@agency-trunk"}

    view = await rig.dispatch(ATTENDED, agency="police")

    assert view.state == "idle" and view.attempts == []  # the run is over by the time the request is answered
    assert rig.journal.of("dispatch_failed")[0]["attempts"] == [["police-desk", "failed"], ["police-110", "failed"]]
    assert ("add_to_bridge", BRIDGE, OPERATOR) in rig.ari.requests[-4:]
    assert ("destroy_bridge", CONSULT) in rig.ari.requests
    assert not any(r[:2] == ("hangup", OPERATOR) for r in rig.ari.requests)


# -- attended ---------------------------------------------------------------------------------------------------


async def test_attended_consults_then_completes(rig: Rig) -> None:
    await rig.dispatch(ATTENDED, agency="police")

    assert rig.ari.requests[3:7] == [
        ("create_bridge", CONSULT),
        ("remove_from_bridge", BRIDGE, OPERATOR),
        ("add_to_bridge", CONSULT, OPERATOR),
        ("start_bridge_moh", BRIDGE, HOLD_MUSIC_CLASS),
    ]
    await rig.answer(leg(1, 0))
    assert rig.state() == "consulting"
    assert rig.ari.requests[-1] == ("add_to_bridge", CONSULT, leg(1, 0))

    view = await rig.service.complete(CALL_ID, ANI, supervisor=False)

    assert view.state == "connected"
    assert rig.ari.requests[-5:] == [
        ("remove_from_bridge", CONSULT, leg(1, 0)),
        ("add_to_bridge", BRIDGE, leg(1, 0)),
        ("stop_bridge_moh", BRIDGE),
        ("hangup", OPERATOR, "normal"),
        ("destroy_bridge", CONSULT),
    ]
    assert rig.journal.of("dispatch_completed") == [{"by": ANI, "agency_channel": leg(1, 0)}]
    assert rig.journal.of("operator_left") == [{"reason": "attended_transfer_completed"}]


async def test_attended_cancel_while_consulting_drops_the_agency_and_reunites_operator_and_caller(rig: Rig) -> None:
    await rig.dispatch(ATTENDED, agency="police")
    await rig.answer(leg(1, 0))

    view = await rig.service.cancel(CALL_ID, ANI, supervisor=False)

    assert view.state == "idle" and view.mode == "attended"
    assert ("hangup", leg(1, 0), "normal") in rig.ari.requests
    assert rig.ari.requests[-4:] == [
        ("remove_from_bridge", CONSULT, OPERATOR),
        ("add_to_bridge", BRIDGE, OPERATOR),
        ("destroy_bridge", CONSULT),
        ("stop_bridge_moh", BRIDGE),
    ]
    assert rig.journal.of("dispatch_stopped") == [{"reason": "cancelled by the operator"}]
    assert rig.incidents.statuses == ["dispatched", "acknowledged", "open"]
    assert rig.state() == "idle"


async def test_attended_cancel_while_ringing_stops_the_ringing(rig: Rig) -> None:
    await rig.dispatch(ATTENDED, agency="police")

    view = await rig.service.cancel(CALL_ID, ANI, supervisor=False)

    assert [a.outcome for a in view.attempts] == ["cancelled", None]
    assert ("hangup", leg(1, 0), "normal") in rig.ari.requests
    assert ("hangup", leg(1, 1), "normal") in rig.ari.requests
    assert rig.clock.pending == []
    assert rig.journal.types()[-1] == "dispatch_cancelled"

    await rig.dispatch(ATTENDED, agency="police")  # the call is with the operator again: a new dispatch may start
    assert [o[0] for o in rig.ari.of("originate")] == [leg(1, 0), leg(1, 1)] * 2
    assert rig.ami.names().count("Redirect") == 1  # no second take-over


# -- conference -------------------------------------------------------------------------------------------------


async def test_conference_then_the_operator_leaves_and_the_call_ends_with_the_agency(rig: Rig) -> None:
    await rig.dispatch(CONFERENCE, agency="police")
    assert not any(r[0] in ("hangup", "start_bridge_moh") for r in rig.ari.requests)  # operator stays, no music
    await rig.answer(leg(1, 0))
    assert rig.ari.requests[-1] == ("add_to_bridge", BRIDGE, leg(1, 0))

    view = await rig.service.leave(CALL_ID, ANI, supervisor=False)

    assert view.state == "connected"
    assert rig.ari.requests[-1] == ("hangup", OPERATOR, "normal")
    assert rig.journal.of("operator_left") == [{"reason": "left_conference"}]

    await rig.hang_up(OPERATOR)  # its ChannelDestroyed: nothing more to do
    await rig.hang_up(leg(1, 0))  # the agency is done: the caller is alone

    assert rig.journal.of("agency_left") == [{"cause": 16}]
    assert rig.journal.of("dispatch_ended") == [{"reason": "caller alone after the agency call"}]
    assert ("hangup", CALLER, "normal") in rig.ari.requests
    assert rig.ari.requests[-1] == ("destroy_bridge", BRIDGE)
    assert rig.view() is None


# -- the caller leaves ------------------------------------------------------------------------------------------


async def test_the_caller_hanging_up_mid_dispatch_stops_everything(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")

    await rig.hang_up(CALLER)

    assert rig.ari.requests[-3:] == [
        ("hangup", leg(1, 0), "normal"),
        ("hangup", leg(1, 1), "normal"),
        ("destroy_bridge", BRIDGE),
    ]
    assert rig.journal.of("dispatch_attempt_ended")[-1]["outcome"] == "cancelled"
    assert rig.journal.types()[-2:] == ["dispatch_stopped", "dispatch_ended"]
    assert rig.journal.of("dispatch_ended") == [{"reason": "caller left"}]
    assert rig.incidents.statuses == ["dispatched", "failed"]
    assert rig.clock.pending == []
    assert rig.view() is None

    await rig.answer(leg(1, 0))  # a desk answering after the call ended is hung up
    assert rig.ari.requests[-1] == ("hangup", leg(1, 0), "normal")


async def test_the_caller_leaving_stasis_ends_the_session(rig: Rig) -> None:
    await rig.dispatch(CONFERENCE, agency="police")

    await rig.leave_stasis(OPERATOR)  # the operator's StasisEnd alone changes nothing
    assert rig.state() == "ringing"
    await rig.leave_stasis(CALLER)

    assert rig.journal.of("dispatch_ended") == [{"reason": "caller left"}]
    assert rig.view() is None


async def test_the_operator_hanging_up_during_an_attended_dispatch_requeues_the_caller(rig: Rig) -> None:
    await rig.dispatch(ATTENDED, agency="police")
    await rig.answer(leg(1, 0))

    await rig.hang_up(OPERATOR)

    assert rig.journal.of("dispatch_stopped") == [{"reason": "operator hung up"}]
    assert ("hangup", leg(1, 0), "normal") in rig.ari.requests  # the agency never talked with the caller
    assert ("continue_in_dialplan", CALLER, QUEUE_CONTEXT, ENTRY_EXTENSION) in rig.ari.requests
    assert rig.incidents.statuses == ["dispatched", "acknowledged", "open"]
    assert rig.view() is None


# -- refusals ---------------------------------------------------------------------------------------------------


async def test_only_who_started_a_dispatch_or_a_supervisor_may_change_it(rig: Rig) -> None:
    await rig.dispatch(ATTENDED, agency="police")
    await rig.answer(leg(1, 0))
    requests = len(rig.ari.requests)

    with pytest.raises(DispatchError) as refused:
        await rig.service.complete(CALL_ID, BUDI, supervisor=False)

    assert (refused.value.status, refused.value.error_id) == (403, "not_your_dispatch")
    assert len(rig.ari.requests) == requests and rig.state() == "consulting"
    view = await rig.service.complete(CALL_ID, BUDI, supervisor=True)
    assert view.state == "connected"


@pytest.mark.parametrize(
    ("mode", "request_name", "error_id"),
    [
        (BLIND, "complete", "not_consulting"),
        (BLIND, "cancel", "not_cancellable"),
        (ATTENDED, "leave", "agency_not_connected"),
        (CONFERENCE, "leave", "agency_not_connected"),  # ringing: no agency in yet
    ],
)
async def test_a_request_in_the_wrong_state_is_refused_and_changes_nothing(
    rig: Rig, mode: DispatchMode, request_name: str, error_id: str
) -> None:
    await rig.dispatch(mode, agency="police")
    requests, events = len(rig.ari.requests), len(rig.journal.events)

    with pytest.raises(DispatchError) as refused:
        await getattr(rig.service, request_name)(CALL_ID, ANI, supervisor=False)

    assert (refused.value.status, refused.value.error_id) == (409, error_id)
    assert (len(rig.ari.requests), len(rig.journal.events)) == (requests, events)
    assert rig.state() == "ringing"


async def test_a_second_dispatch_while_one_runs_is_refused(rig: Rig) -> None:
    await rig.dispatch(BLIND, agency="police")

    with pytest.raises(DispatchError) as refused:
        await rig.dispatch(BLIND, agency="police")

    assert refused.value.error_id == "dispatch_in_progress"
    assert len(rig.ari.of("originate")) == 2


@pytest.mark.parametrize(
    ("category", "request_fields", "error_id"),
    [
        (None, {}, "not_classified"),
        ("prank", {}, "not_dispatchable"),
        ("fire", {"target": "nobody"}, "unknown_target"),
        ("fire", {"agency": "nobody"}, "unknown_agency"),
    ],
)
async def test_a_request_the_table_cannot_serve_is_refused_before_the_call_is_touched(
    rig: Rig, category: str | None, request_fields: dict[str, str], error_id: str
) -> None:
    rig.incidents.incident = incident(category) if category else None

    with pytest.raises(DispatchError) as refused:
        await rig.dispatch(BLIND, **request_fields)

    assert refused.value.error_id == error_id
    assert rig.ami.actions == [] and rig.ari.requests == []


async def test_requests_on_a_call_without_dispatch_or_no_longer_live_are_refused(rig: Rig) -> None:
    with pytest.raises(DispatchError) as refused:
        await rig.service.complete(CALL_ID, ANI, supervisor=False)
    assert refused.value.error_id == "no_dispatch"

    rig.calls.live = False
    with pytest.raises(DispatchError) as refused:
        await rig.dispatch(BLIND, agency="police")
    assert refused.value.error_id == "call_not_live"
