"""The call handler's intake flow (calls/handler.py) against in-memory fakes: what it records, in which order, and
that every call ends up continued to the operators' queue whatever went wrong on the way."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ntpd112.calls import handler as call_handler
from ntpd112.calls.handler import CallHandler
from ntpd112.clock import call_id_for, utcnow
from ntpd112.intake.cells import CellKey
from ntpd112.intake.numbering import CallerNumbering
from ntpd112.metrics import Metrics
from ntpd112.pbx.ari_models import (
    CallerId,
    Channel,
    ChannelDestroyed,
    ChannelHangupRequest,
    DialplanLocation,
    StasisStart,
)
from ntpd112.pbx.asterisk_config import Trunk, TrunkTable
from ntpd112.pbx.names import (
    ENTRY_EXTENSION,
    INTAKE_GEOLOC_VARIABLES,
    INTAKE_HEADER_VARIABLES,
    INTAKE_HEADERS_LENGTH_VARIABLE,
    QUEUE_CONTEXT,
    QUEUE_NAME,
)
from ntpd112.room.config import PrioritySettings
from ntpd112.store.history import CallerContext
from ntpd112.store.locations import IntakeLocation
from tests.unit.calls.fakes import APP, FakeAmi, FakeAri, FakeJournal, FakeLookups

CALLER = "+6281234567890"
PANI = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4"
TRUNKS = TrunkTable(trunk=(Trunk(name="telkomsel", operator="Telkomsel", network="mobile", match=("192.0.2.10",)),))
OFFERED_AT = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)


def trunk_channel(uniqueid: str, *, context: str = "ntpd112-inbound", app_data: str = "", state: str = "Up") -> Channel:
    # Up: the shipped dialplan answers before Stasis().
    return Channel(
        id=uniqueid,
        name=f"PJSIP/trunk-telkomsel-{uniqueid}",
        state=state,
        caller=CallerId(number="081234567890"),
        dialplan=DialplanLocation(context=context, app_name="Stasis" if app_data else "Queue", app_data=app_data),
        creationtime=OFFERED_AT,
    )


CHANNEL = trunk_channel("1795000000.1")


def channel_variables(headers: dict[str, str], *, headers_fit: bool = True) -> dict[str, str]:
    """What the channel answers over ARI; `headers_fit=False` is an INVITE with a header too long to hand over."""
    variables = {f"PJSIP_HEADER(read,{name})": value for name, value in headers.items()}
    if headers_fit:
        variables["PJSIP_HEADERS()"] = ",".join(["Via", "From", "To", *headers])
    return variables


def stasis_start(channel: Channel, endpoint: str = "trunk-telkomsel") -> StasisStart:
    return StasisStart(type="StasisStart", application=APP, channel=channel, args=[endpoint, channel.id, "112"])


def handler_with(
    ari: FakeAri,
    journal: FakeJournal,
    lookups: FakeLookups,
    ami: FakeAmi | None = None,
    trunks: TrunkTable = TRUNKS,
) -> tuple[CallHandler, Metrics]:
    metrics = Metrics()
    ami = ami or FakeAmi()
    handler = CallHandler(ari, ami, journal, trunks, metrics, lookups, PrioritySettings())  # type: ignore[arg-type]
    return handler, metrics


def sample(metrics: Metrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


def continued_to_queue(uniqueid: str, priority: int = 10) -> tuple[str, str, str, str]:
    """Intake's `continue`, carrying the priority in the extension (10: the base priority)."""
    return ("continue", uniqueid, QUEUE_CONTEXT, f"p{priority}")


async def test_a_normal_call_is_offered_answered_prioritised_and_continued_to_the_queue() -> None:
    ari = FakeAri(
        channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@ims.telkomsel.co.id>", "P-Access-Network-Info": PANI})
    )
    journal = FakeJournal()
    lookups = FakeLookups(CallerContext(calls_24h=0, calls_30d=2, prankster=False), IntakeLocation(pending_aml_fixes=1))
    handler, metrics = handler_with(ari, journal, lookups)

    await handler.on_event(stasis_start(CHANNEL))

    call_id = call_id_for(CHANNEL.id)
    assert journal.types() == ["offered", "answered", "prioritised", "queued"]
    assert {event.call_id for event in journal.events} == {call_id}
    offered = journal.of_type("offered")[0]
    assert (offered["identity"]["number_e164"], offered["identity"]["source"]) == (CALLER, "pai")
    assert (offered["resynced"], offered["headers_from"]) == (False, "ari")
    uniqueid, created = journal.calls[0]
    assert uniqueid == CHANNEL.id
    assert (created["caller_number"], created["trunk"], created["carrier"]) == (CALLER, "telkomsel", "Telkomsel")
    assert (created["dialed_number"], created["offered_at"], created["handled_by"]) == ("112", OFFERED_AT, "service")
    # A waiting AML fix counts as a location: priority 15 (with_location), not the base 10.
    assert journal.of_type("prioritised") == [
        {"priority": 15, "has_location": True, "history": {"calls_24h": 0, "calls_30d": 2, "prankster": False}}
    ]
    assert journal.calls[-1] == (
        CHANNEL.id,
        {"queue_priority": 15, "repeat_caller": False, "calls_24h": 0, "calls_30d": 2},
    )
    queued = journal.of_type("queued")[0]
    assert 0 <= queued["continue_ms"] <= queued["intake_ms"]
    # The dialplan answered (the channel is Up): no ARI answer. The priority rides on `continue`, which comes last;
    # the lookups answered within their head start, so AMI has nothing to change.
    assert ari.actions == [("subscribe", CHANNEL.id), continued_to_queue(CHANNEL.id, 15)]
    assert lookups.asked == [(CALLER, CellKey("lte", 510, 10, 0x00A1, 0x0B2C3D4))]
    assert [(fix_call, columns["source"], columns["raw"]) for fix_call, columns in journal.fixes] == [
        (call_id, "cell", PANI)
    ]
    assert journal.aml_claims == [(call_id, CALLER, OFFERED_AT)]
    assert handler.active[CHANNEL.id].answered_at is not None
    assert handler.uniqueid_of(call_id) == CHANNEL.id
    assert sample(metrics, "ntpd112_calls_offered_total") == 1
    assert sample(metrics, "ntpd112_calls_answered_total") == 1
    assert sample(metrics, "ntpd112_calls_active") == 1


async def test_a_stasis_start_asterisk_delivers_late_puts_offered_and_answered_when_they_happened() -> None:
    # A saturated Asterisk sent StasisStart 59 s after creating the channel; its fail-safe had queued the call by then.
    created = utcnow() - timedelta(seconds=60)
    late = stasis_start(trunk_channel("1796501409.795").model_copy(update={"creationtime": created}))
    late = late.model_copy(update={"timestamp": created + timedelta(seconds=0.5)})
    journal = FakeJournal()
    handler, _ = handler_with(FakeAri(channel_variables({})), journal, FakeLookups())

    await handler.on_event(late)

    [offered] = [event for event in journal.events if event.type == "offered"]
    [answered] = [event for event in journal.events if event.type == "answered"]
    assert (offered.at, answered.at) == (created, created + timedelta(seconds=0.5))
    assert journal.calls[0][1]["offered_at"] == created
    assert handler.active["1796501409.795"].answered_at == created + timedelta(seconds=0.5)


async def test_an_asterisk_clock_ahead_of_ours_does_not_put_offered_after_what_follows_it() -> None:
    ahead = utcnow() + timedelta(seconds=2)
    channel = trunk_channel("1796501409.796").model_copy(update={"creationtime": ahead})
    journal = FakeJournal()
    handler, _ = handler_with(FakeAri(channel_variables({})), journal, FakeLookups())

    before = utcnow()
    await handler.on_event(stasis_start(channel).model_copy(update={"timestamp": ahead}))

    offered, answered = (next(e for e in journal.events if e.type == kind) for kind in ("offered", "answered"))
    assert offered.at is not None and answered.at is not None
    assert before <= offered.at < ahead and offered.at <= answered.at < ahead


def dialplan_copies(headers: dict[str, str], geoloc: dict[str, str], *, headers_length: int) -> dict[str, str]:
    """The channel variables the shipped dialplan sets before Stasis() (every one, empty when there is no value)."""
    variables = {variable: headers.get(header, "") for header, variable in INTAKE_HEADER_VARIABLES.items()}
    variables |= {variable: geoloc.get(field, "") for field, variable in INTAKE_GEOLOC_VARIABLES.items()}
    return variables | {INTAKE_HEADERS_LENGTH_VARIABLE: str(headers_length)}


async def test_intake_reads_the_channel_variables_of_the_stasis_start_and_nothing_over_ari() -> None:
    copied = dialplan_copies(
        {"P-Asserted-Identity": f"<sip:{CALLER}@ims.telkomsel.co.id>", "P-Access-Network-Info": PANI},
        {"location_info": "shape=Point,crs=2d,pos=-6.2 106.8", "format": "GML", "method": "GPS"},
        headers_length=180,
    )
    ari = FakeAri({})  # any read over ARI would fail
    journal = FakeJournal()
    lookups = FakeLookups()
    handler, _ = handler_with(ari, journal, lookups)

    await handler.on_event(stasis_start(CHANNEL.model_copy(update={"channelvars": copied})))

    assert ari.reads == []
    assert journal.types() == ["offered", "answered", "prioritised", "queued"]
    offered = journal.of_type("offered")[0]
    assert offered["headers_from"] == "channel_variables"
    # Empty variables are headers the INVITE did not have: not on record as empty values.
    assert offered["headers"] == {
        "P-Asserted-Identity": f"<sip:{CALLER}@ims.telkomsel.co.id>",
        "P-Access-Network-Info": PANI,
    }
    assert offered["identity"]["number_e164"] == CALLER
    assert [columns["source"] for _, columns in journal.fixes] == ["pidf", "cell"]
    assert lookups.asked == [(CALLER, CellKey("lte", 510, 10, 0x00A1, 0x0B2C3D4))]
    assert journal.of_type("prioritised")[0]["priority"] == 15


async def test_a_header_too_long_for_the_dialplan_is_on_record_as_unreadable() -> None:
    # The dialplan's PJSIP_HEADER read of it came back empty and PJSIP_HEADERS() with it: length 0.
    copied = dialplan_copies({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}, {}, headers_length=0)
    ari = FakeAri({})
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups())

    await handler.on_event(stasis_start(CHANNEL.model_copy(update={"channelvars": copied})))

    assert ari.reads == []
    [unreadable] = [e for e in journal.of_type("parse_error") if e["field"] == "SIP headers"]
    assert unreadable["code"] == "unreadable" and unreadable["value"] is None
    assert "P-Access-Network-Info" in unreadable["problem"] and "P-Asserted-Identity" not in unreadable["problem"]
    assert journal.types()[-3:] == ["answered", "prioritised", "queued"]


@pytest.mark.parametrize("channelvars", [{}, {INTAKE_HEADERS_LENGTH_VARIABLE: ""}], ids=["none", "not_set"])
async def test_a_channel_without_the_dialplan_copies_is_read_over_ari(channelvars: dict[str, str]) -> None:
    # An Asterisk whose ari.conf lists no channelvars (none), or whose dialplan predates the copies (not_set).
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>", "P-Access-Network-Info": PANI}))
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups())

    await handler.on_event(stasis_start(CHANNEL.model_copy(update={"channelvars": channelvars})))

    assert "PJSIP_HEADER(read,P-Asserted-Identity)" in ari.reads and "PJSIP_HEADERS()" in ari.reads
    offered = journal.of_type("offered")[0]
    assert (offered["headers_from"], offered["identity"]["number_e164"]) == ("ari", CALLER)
    assert offered["headers"]["P-Access-Network-Info"] == PANI
    assert "SIP headers" not in {e["field"] for e in journal.of_type("parse_error")}


async def test_garbage_headers_are_recorded_as_parse_errors_and_the_call_still_goes_to_the_queue() -> None:
    headers = {
        "P-Asserted-Identity": '"unterminated <sip:x@h>',
        "From": "<<garbage>>",
        "P-Access-Network-Info": '3GPP-E-UTRAN-FDD; utran-cell-id-3gpp="5101000A10',
    }
    variables = channel_variables(headers, headers_fit=False)
    variables |= {"GEOLOC_PROFILE(location_info)": 'shape="Circle",pos="1 2', "GEOLOC_PROFILE(format)": "GML"}
    ari = FakeAri(variables)
    journal = FakeJournal()
    lookups = FakeLookups(CallerContext(calls_24h=5, calls_30d=9, prankster=True))
    handler, _ = handler_with(ari, journal, lookups)
    channel = CHANNEL.model_copy(update={"caller": CallerId(number="not a number")})

    await handler.on_event(stasis_start(channel, endpoint="trunk-unknown"))

    types = journal.types()
    assert types[0] == "offered" and types[-3:] == ["answered", "prioritised", "queued"]
    parse_errors = journal.of_type("parse_error")
    assert len(parse_errors) == len(types) - 4
    assert {error["field"] for error in parse_errors} == {
        "trunk",
        "caller_identity",
        "SIP headers",
        "P-Access-Network-Info",
        "GEOLOC_PROFILE",
    }
    assert {"field": "trunk", "value": "trunk-unknown"} in parse_errors
    # Every source of the caller's identity failed, each on record; no number means no history (the prankster
    # context the lookups hold is not applied: priority 10, history None).
    assert len([e for e in parse_errors if e["field"] == "caller_identity"]) == 3
    assert lookups.asked == [(None, None)]
    assert journal.fixes == [] and journal.aml_claims == []
    assert journal.of_type("prioritised")[0] == {"priority": 10, "has_location": False, "history": None}
    assert ari.actions[-1] == continued_to_queue(CHANNEL.id)
    assert handler.active[CHANNEL.id].answered_at is not None


async def test_a_channel_that_arrives_unanswered_is_answered_by_intake_alongside_the_subscription() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    journal = FakeJournal()
    handler, metrics = handler_with(ari, journal, FakeLookups())
    ringing = trunk_channel("1795000000.9", state="Ring")

    await handler.on_event(stasis_start(ringing))

    assert journal.types() == ["offered", "answered", "prioritised", "queued"]
    assert sorted(ari.names()[:2]) == ["answer", "subscribe"]
    assert ari.actions[-1] == continued_to_queue(ringing.id)
    assert handler.active[ringing.id].answered_at is not None
    assert sample(metrics, "ntpd112_calls_answered_total") == 1


async def test_a_caller_who_hangs_up_before_the_subscription_has_the_call_ended_by_intake() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    ari.gone.add(CHANNEL.id)  # hung up right after the dialplan's answer: no ChannelDestroyed will come
    journal = FakeJournal()
    handler, metrics = handler_with(ari, journal, FakeLookups())

    await handler.on_event(stasis_start(CHANNEL))

    types = [t for t in journal.types() if t != "step_failed"]
    assert types == ["offered", "answered", "prioritised", "ended_unobserved", "ended"]
    assert [data["step"] for data in journal.of_type("step_failed")] == ["subscribe", "continue"]
    assert journal.of_type("ended") == [
        {"cause": 0, "cause_txt": "Unknown", "channel_cause": 0, "channel_cause_txt": "ended during intake"}
    ]
    assert CHANNEL.id not in handler.active
    assert sample(metrics, "ntpd112_calls_active") == 0


async def test_lookups_that_raise_still_send_the_call_to_the_queue() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>", "P-Access-Network-Info": PANI}))
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups(error=RuntimeError("lookup broke")))

    await handler.on_event(stasis_start(CHANNEL))

    assert journal.types() == ["offered", "answered", "intake_failed"]
    assert "RuntimeError" in journal.of_type("intake_failed")[0]["error"]
    # The fail-safe way in: the queue's entry, which gives the base priority.
    assert ari.actions[-1] == ("continue", CHANNEL.id, QUEUE_CONTEXT, ENTRY_EXTENSION)
    # Followed all the same, so that its end is recorded.
    assert CHANNEL.id in handler.active


async def test_hangup_records_the_end_once_with_the_cause_of_the_hangup_request() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    journal = FakeJournal()
    handler, metrics = handler_with(ari, journal, FakeLookups())
    await handler.on_event(stasis_start(CHANNEL))

    await handler.on_event(ChannelHangupRequest(type="ChannelHangupRequest", channel=CHANNEL, cause=16))
    destroyed = ChannelDestroyed(type="ChannelDestroyed", channel=CHANNEL, cause=0, cause_txt="Unknown")
    await handler.on_event(destroyed)
    await handler.on_event(destroyed)  # a repeated event records nothing more

    # The cause of the caller's BYE, not the channel's last HANGUPCAUSE (0 after a dialplan application).
    # Its text names that cause (issue 13: the text said one cause and the record another).
    assert journal.of_type("ended") == [
        {
            "cause": 16,
            "cause_txt": "Normal Clearing",
            "channel_cause": 0,
            "channel_cause_txt": "Unknown",
            "first_request": {"cause": 16, "soft": False},
        }
    ]
    ended = [fields for _, fields in journal.calls if "ended_at" in fields]
    assert len(ended) == 1
    assert (ended[0]["hangup_cause"], ended[0]["hangup_cause_text"]) == (16, "Normal Clearing")
    assert ended[0]["recording_seconds"] >= 0
    assert CHANNEL.id not in handler.active
    assert handler.uniqueid_of(call_id_for(CHANNEL.id)) is None
    assert sample(metrics, "ntpd112_calls_active") == 0


async def test_a_soft_hangup_is_no_cause_and_a_caller_asterisk_drops_at_its_shutdown_is_called_back() -> None:
    # Found by the fault harness: `core stop now` hangs every channel up with the SHUTDOWN flag (4) as a soft
    # request's `cause`; the call was recorded as "Normal Clearing" and nobody called the caller back.
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups())
    await handler.on_event(stasis_start(CHANNEL))
    await handler.on_event(ChannelHangupRequest(type="ChannelHangupRequest", channel=CHANNEL, cause=4, soft=True))
    await handler.on_event(ChannelDestroyed(type="ChannelDestroyed", channel=CHANNEL, cause=16, cause_txt="Normal"))

    [ended] = [fields for _, fields in journal.calls if "ended_at" in fields]
    assert ended["hangup_cause"] == 16  # the channel's, not the flags
    assert {"callback_status": "pending", "callback_reason": "asterisk_restart"} in [f for _, f in journal.calls]
    assert journal.of_type("caller_dropped") == [{"by": "asterisk_shutdown", "callback": "pending"}]
    assert journal.of_type("ended")[0]["first_request"] == {"cause": 4, "soft": True}


async def test_calls_gone_after_an_asterisk_restart_the_service_did_not_see_are_called_back() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups())
    await handler.resync()  # the first connect: Asterisk's startup time is learned
    await handler.on_event(stasis_start(CHANNEL))
    ari.started = "2026-11-22T03:20:00.000+0000"  # restarted while ARI was cut: no shutdown event seen

    await handler.resync()

    assert journal.of_type("ended_unobserved") == [{"reason": "asterisk restarted"}]
    assert {"callback_status": "pending", "callback_reason": "asterisk_restart"} in [f for _, f in journal.calls]


async def test_resync_after_a_restart_picks_up_waiting_calls_and_follows_queued_ones() -> None:
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    journal = FakeJournal()
    handler, metrics = handler_with(ari, journal, FakeLookups())
    await handler.on_event(stasis_start(CHANNEL))  # followed before the disconnect, gone after it
    journal.events.clear()
    ari.actions.clear()

    waiting = trunk_channel("1795000000.2", app_data=f"{APP},trunk-telkomsel,1795000000.2,112")
    queued = trunk_channel("1795000000.3", context=QUEUE_CONTEXT)
    held_by_dispatch = trunk_channel("1795000000.4", app_data=f"{APP},dispatch,1795000000.4")
    operator = Channel(
        id="1795000000.5", name="PJSIP/op-budi-00000005", dialplan=DialplanLocation(context=QUEUE_CONTEXT)
    )
    ari.channels = [waiting, queued, held_by_dispatch, operator]

    await handler.resync()

    assert set(handler.active) == {waiting.id, queued.id}
    by_call = {(event.call_id, event.type): event.data for event in journal.events}
    gone = call_id_for(CHANNEL.id)
    assert by_call[(gone, "ended_unobserved")] == {"reason": "ended while disconnected"}
    assert by_call[(gone, "ended")] == {
        "cause": 0,
        "cause_txt": "Unknown",
        "channel_cause": 0,
        "channel_cause_txt": "ended while the service was disconnected",
    }
    # A call followed again gets its caller back from the channel (its row may never have been written).
    recovered = ["caller_number", "caller_number_raw", "caller_presentation", "carrier", "offered_at", "trunk"]
    assert by_call[(call_id_for(queued.id), "tracking_resumed")] == {
        "context": QUEUE_CONTEXT,
        "source": "asterisk_channel",
        "recovered": recovered,
    }
    resumed_row = next(fields for uniqueid, fields in journal.calls if uniqueid == queued.id)
    assert resumed_row["caller_number"] == CALLER
    assert (resumed_row["trunk"], resumed_row["carrier"], resumed_row["offered_at"]) == (
        "telkomsel",
        "Telkomsel",
        OFFERED_AT,
    )
    assert by_call[(call_id_for(waiting.id), "offered")]["resynced"] is True
    assert (call_id_for(waiting.id), "queued") in by_call
    assert {event.call_id for event in journal.events} == {gone, call_id_for(queued.id), call_id_for(waiting.id)}
    assert ("subscribe", queued.id) in ari.actions
    assert ari.actions[-1] == continued_to_queue(waiting.id)
    assert [action for action in ari.actions if action[0] == "continue"] == [continued_to_queue(waiting.id)]
    assert sample(metrics, "ntpd112_calls_active") == 2


@pytest.mark.parametrize(
    ("number_format", "caller_number", "problems"),
    [
        ("international", "+62215551234", []),
        ("national_without_prefix", "+6262215551234", []),
        ("auto", None, ["pai: ambiguous_number", "channel: ambiguous_number"]),
    ],
)
async def test_the_caller_number_is_read_in_the_format_of_the_trunk_the_call_came_in_on(
    number_format: str, caller_number: str | None, problems: list[str]
) -> None:
    read_as = number_format if caller_number else None
    trunk = TRUNKS.trunk[0].model_copy(update={"numbers": CallerNumbering(format=number_format)})  # type: ignore[arg-type]
    ari = FakeAri(channel_variables({"P-Asserted-Identity": "<sip:62215551234@ims.telkomsel.co.id>"}))
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups(), trunks=TrunkTable(trunk=(trunk,)))
    channel = CHANNEL.model_copy(update={"caller": CallerId(number="62215551234")})

    await handler.on_event(stasis_start(channel))

    _, created = journal.calls[0]
    assert (created["caller_number"], created["caller_number_raw"]) == (caller_number, "62215551234")
    assert journal.of_type("offered")[0]["identity"]["number_read_as"] == read_as
    recorded = [error["problem"] for error in journal.of_type("parse_error") if error["field"] == "caller_identity"]
    # Each problem says why: both readings of the digits, and that the trunk's format would settle it.
    assert [problem.split(": '")[0] for problem in recorded] == problems
    assert all("+62215551234 (international)" in problem for problem in recorded)
    assert ari.actions[-1] == continued_to_queue(CHANNEL.id)


async def late_intake(
    context: CallerContext | None, ami: FakeAmi, *, pidf: bool = False
) -> tuple[FakeAri, FakeJournal, asyncio.Event, asyncio.Task[None]]:
    """A call whose lookups answer only when the test says: intake is left waiting for them after `continue`."""
    headers = {"P-Asserted-Identity": f"<sip:{CALLER}@ims.telkomsel.co.id>", "P-Access-Network-Info": PANI}
    geoloc = {"location_info": "shape=Point,crs=2d,pos=-6.2 106.8", "format": "GML"} if pidf else {}
    ari = FakeAri({})
    journal = FakeJournal()
    answer = asyncio.Event()
    handler, _ = handler_with(ari, journal, FakeLookups(context, IntakeLocation(cell=None), answer=answer), ami)
    copied = dialplan_copies(headers, geoloc, headers_length=120)
    intake = asyncio.create_task(handler.on_event(stasis_start(CHANNEL.model_copy(update={"channelvars": copied}))))
    async with asyncio.timeout(5):
        await ari.continued.wait()
    return ari, journal, answer, intake


async def test_lookups_slower_than_the_head_start_do_not_keep_the_caller_out_of_the_queue() -> None:
    ami = FakeAmi()
    ari, journal, answer, intake = await late_intake(CallerContext(calls_24h=3, calls_30d=3, prankster=False), ami)

    # In the queue with what the call itself says (no device position, history unknown): the base priority.
    assert ari.actions[-1] == continued_to_queue(CHANNEL.id, 10)
    assert journal.types() == ["offered", "answered", "prioritised", "queued"]
    assert journal.of_type("prioritised") == [
        {"priority": 10, "has_location": False, "history": None, "lookups": "late"}
    ]
    assert ami.actions == []

    answer.set()
    await intake

    # A repeat caller (3 calls today): moved up in the queue, and QUEUE_PRIO first for a join still to come.
    assert [(action.name, action.fields()) for action in ami.actions] == [
        ("Setvar", {"Variable": "QUEUE_PRIO", "Value": "15", "Channel": CHANNEL.name}),
        (
            "QueueChangePriorityCaller",
            {"Queue": QUEUE_NAME, "Caller": CHANNEL.name, "Priority": "15", "Immediate": "yes"},
        ),
    ]
    assert journal.types()[-2:] == ["queued", "priority_reviewed"]
    assert journal.of_type("priority_reviewed") == [
        {
            "from": 10,
            "priority": 15,
            "has_location": False,
            "history": {"calls_24h": 3, "calls_30d": 3, "prankster": False},
            "applied": "queue",
        }
    ]
    assert journal.calls[-1] == (
        CHANNEL.id,
        {"queue_priority": 15, "repeat_caller": True, "calls_24h": 3, "calls_30d": 3},
    )
    # The cell's fix is recorded once the lookup answers, unknown cell and all.
    assert [columns["source"] for _, columns in journal.fixes] == ["cell"]


async def test_late_lookups_that_change_nothing_send_nothing_to_asterisk() -> None:
    ami = FakeAmi()
    # A device position in the INVITE: the priority with location is known without the lookups.
    _, journal, answer, intake = await late_intake(None, ami, pidf=True)
    answer.set()
    await intake

    assert ami.actions == []
    assert journal.of_type("prioritised")[0]["priority"] == 15
    assert [data["applied"] for data in journal.of_type("priority_reviewed")] == ["unchanged"]


@pytest.mark.parametrize(
    ("refused", "applied"),
    [({"QueueChangePriorityCaller"}, "next_join"), ({"Setvar"}, "call_gone")],
    ids=["not_in_the_queue_yet", "hung_up"],
)
async def test_a_late_priority_for_a_caller_outside_the_queue_is_kept_for_their_join(
    refused: set[str], applied: str
) -> None:
    ami = FakeAmi(refused)
    prankster = CallerContext(calls_24h=0, calls_30d=12, prankster=True)
    _, journal, answer, intake = await late_intake(prankster, ami)
    answer.set()
    await intake

    [reviewed] = journal.of_type("priority_reviewed")
    assert (reviewed["from"], reviewed["priority"], reviewed["applied"]) == (10, 1, applied)
    assert ami.actions[0].name == "Setvar"
    assert len(ami.actions) == (2 if applied == "next_join" else 1)


@pytest.mark.parametrize(("unanswered", "subscribed"), [(2, True), (4, False)])
async def test_a_subscription_asterisk_does_not_answer_is_asked_for_again(
    unanswered: int, subscribed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_handler, "SUBSCRIBE_RETRY_SECONDS", (0.0, 0.0, 0.0))
    ari = FakeAri(channel_variables({"P-Asserted-Identity": f"<sip:{CALLER}@h>"}))
    ari.unanswered_subscriptions = unanswered
    journal = FakeJournal()
    handler, _ = handler_with(ari, journal, FakeLookups())

    await handler.on_event(stasis_start(CHANNEL))

    # Three more tries after the first; only when all four go unanswered is the step on record as failed.
    assert ari.names().count("subscribe") == min(unanswered + 1, 4)
    failed = [data["step"] for data in journal.of_type("step_failed")]
    assert failed == ([] if subscribed else ["subscribe"])
    assert [t for t in journal.types() if t != "step_failed"] == ["offered", "answered", "prioritised", "queued"]
    assert CHANNEL.id in handler.active  # followed all the same (the channel is still there)
