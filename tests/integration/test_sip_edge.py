"""The SIP edge of the shipped configuration, against the real local Asterisk: who reaches the dialplan at all (trunks
by source address only; everyone else is challenged and refused by PJSIP before any channel exists), what the
answering operator's phone can do to a caller, and what the service's AMI user may do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest
from panoramisk import Manager
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.config import load_local_asterisk_settings
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.pbx.ami_actions import Acknowledged
from ntpd112.pbx.ari import REST_RESPONSE
from ntpd112.pbx.ari_models import HANDLED_EVENT_TYPES
from ntpd112.pbx.names import AMI_EVENTS
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import Call
from tests.integration.agents import SippAgent, running
from tests.integration.conftest import calls_from, empty_queue, unique_mobile_number, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, SippResult, run_sipp

# A loopback address that is no trunk (trunks.toml) and no phone's contact.
UNKNOWN_SOURCE = "127.0.0.77"
NO_ENDPOINT = "No matching endpoint found"
REFUSED_IN_DIALPLAN = "refused a call to a non-emergency number"


@dataclass
class AsteriskLog:
    """What Asterisk logged (messages.log, notice and up) from the moment the test began."""

    path: Path
    start: int

    def since_start(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode(errors="replace")


@pytest.fixture
def asterisk_log(local_asterisk: LocalAsterisk) -> AsteriskLog:
    path = local_asterisk.root / "var/log/asterisk/messages.log"
    return AsteriskLog(path, path.stat().st_size if path.exists() else 0)


async def impostor_call(caller: str, dialed: str) -> SippResult:
    return await run_sipp(
        "caller-unidentified.xml",
        source=UNKNOWN_SOURCE,
        service=dialed,
        keys={"caller": caller},
        timeout_s=10,
        extra=["-au", caller, "-ap", "guessed-password"],
    )


async def nothing_recorded(service: Service, since: datetime) -> None:
    await service.journal.flushed()
    assert service.metrics.registry.get_sample_value("ntpd112_calls_offered_total") == 0  # no StasisStart
    assert service.calls.active == {}
    # Calls offered before the test may be reconciled from Asterisk's CDRs of other runs; none may be newer.
    async with service.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Call).where(Call.offered_at >= since)) == 0


@pytest.mark.parametrize(
    ("caller", "dialed"),
    [
        ("trunk-telkomsel", "112"),  # posing as a carrier by From user, for a trusted caller id
        ("trunk-telkomsel", "00441234567890"),  # toll fraud posing as a carrier
        ("081234567890", "081298765432"),  # toll fraud as anybody
    ],
)
async def test_a_host_that_is_no_trunk_is_refused_by_pjsip_before_any_channel(
    service: Service, asterisk_log: AsteriskLog, caller: str, dialed: str
) -> None:
    since = utcnow()
    result = await impostor_call(caller, dialed)

    # Challenged (401), answered the challenge with a guess, refused again (401): never ringing, never answered.
    assert result.succeeded, result.output
    await nothing_recorded(service, since)
    log = asterisk_log.since_start()
    assert f"failed for '{UNKNOWN_SOURCE}:" in log and NO_ENDPOINT in log, log
    assert REFUSED_IN_DIALPLAN not in log  # it never reached a context: PJSIP's artificial endpoint refused it


@pytest.fixture
async def operator_phone(service: Service) -> AsyncIterator[SippAgent]:
    """Operator op1 logged in, on a SIPp phone that presses the blind-transfer code once it has answered."""
    await empty_queue(service)
    phone = SippAgent("operator-presses-transfer.xml", "127.0.0.31", hold_ms=300)
    async with running(phone):
        await service.operators.add(NewOperator(username="op1", name="Op1", role="operator", contact=phone.contact))
        await service.operators.login("op1")
        yield phone
        await service.operators.remove("op1")


async def test_an_operator_phone_cannot_be_used_from_another_host_without_its_password(
    service: Service, operator_phone: SippAgent, asterisk_log: AsteriskLog
) -> None:
    since = utcnow()
    result = await impostor_call("op1", "112")

    assert result.succeeded, result.output
    await nothing_recorded(service, since)
    log = asterisk_log.since_start()
    assert f"failed for '{UNKNOWN_SOURCE}:" in log and "Failed to authenticate" in log, log


async def test_the_answering_operator_cannot_drop_the_caller_with_the_transfer_code(
    service: Service, operator_phone: SippAgent, asterisk_log: AsteriskLog
) -> None:
    number = unique_mobile_number()
    # The operator presses # 1 2 between 1 and 1.6 s after answering; a blind transfer would take effect after
    # features.conf's transferdigittimeout (3 s), about 4.7 s into the talk, and end the caller's call about 1.5 s
    # before it hangs up itself.
    result = await run_sipp(
        "caller.xml",
        source=TRUNK_ADDRESSES["telkomsel"],
        keys={"caller": number, "caller_name": "Stays On"},
        hold_ms=7000,
        timeout_s=60,
    )

    # caller.xml fails on a BYE from Asterisk during its hold: the caller stayed until it hung up itself.
    assert result.succeeded, result.output
    await wait_until(lambda: not service.calls.active)
    await service.journal.flushed()
    [call] = await calls_from(service, "+62" + number[1:])
    assert call.operator == "op1"
    assert call.hangup_cause == 16
    assert call.talk_seconds is not None and call.talk_seconds >= 5  # past the moment a transfer would have ended it
    assert REFUSED_IN_DIALPLAN not in asterisk_log.since_start()


# Two actions the service never sends; its AMI user must not be allowed them.
@dataclass(frozen=True)
class Command(Acknowledged):
    name: ClassVar[str] = "Command"  # the whole Asterisk CLI

    def fields(self) -> dict[str, str]:
        return {"Command": "core show version"}


@dataclass(frozen=True)
class UpdateConfig(Acknowledged):
    name: ClassVar[str] = "UpdateConfig"  # rewriting Asterisk's files

    def fields(self) -> dict[str, str]:
        return {"SrcFilename": "pjsip.conf", "DstFilename": "pjsip.conf", "Reload": "no"}


@pytest.mark.parametrize("action", [Command(), UpdateConfig()], ids=["Command", "UpdateConfig"])
async def test_the_ami_user_has_no_rights_beyond_what_the_service_sends(service: Service, action: Acknowledged) -> None:
    reply = await service.ami.send(action)
    assert not reply.success
    assert reply.message == "Permission denied"


async def test_the_ami_user_receives_only_the_events_the_service_handles(service: Service) -> None:
    # A second session of the service's AMI user, listening to every event it is sent: the eventfilter of the user
    # (manager_ntpd112.conf) must hold back the call-class events (Newchannel, Newstate, Hangup, ...) of a call.
    settings = service.settings
    seen: list[str] = []
    manager = Manager(
        host=settings.ami_host,
        port=settings.ami_port,
        username=settings.ami_username,
        secret=settings.ami_password.get_secret_value(),
        ping_delay=10**9,
        reconnect_timeout=10**9,
    )
    manager.register_event("*", lambda _, message: seen.append(str(message.get("Event"))))
    await empty_queue(service)
    await manager.connect()
    try:
        # No operator in the queue: the call overflows at once, and the dialplan's UserEvent reaches AMI. The caller
        # holds long enough to reach the overflow even when intake waits its whole deadline on a busy machine (a CI
        # run's caller hung up first, 1 s after the answer, and never overflowed).
        number = unique_mobile_number()
        result = await run_sipp(
            "caller.xml",
            source=TRUNK_ADDRESSES["telkomsel"],
            keys={"caller": number, "caller_name": "ami"},
            hold_ms=5000,
        )
        assert result.succeeded, result.output
        await wait_until(lambda: "UserEvent" in seen)
    finally:
        manager.close()
    # Asterisk writes FullyBooted straight to a session that logs in with the system class (read for the phones'
    # ContactStatus): it is no broadcast, so no eventfilter applies to it, and the service has no handler for it.
    broadcast = set(seen) - {"FullyBooted"}
    assert broadcast <= set(AMI_EVENTS), sorted(broadcast - set(AMI_EVENTS))


async def test_the_ari_app_is_sent_only_the_events_the_service_handles(service: Service) -> None:
    # The app's event filter, set on connect: a call waiting in the queue sends no ChannelVarset or ChannelDialplan.
    # RESTResponse too: the answers to the requests sent on the events websocket are filtered like events.
    async def allowed() -> set[str]:
        application = await service.ari.request("GET", f"/applications/{service.ari.app}")
        return {entry["type"] for entry in application.get("events_allowed", [])}

    await wait_until(allowed)
    assert await allowed() == {*HANDLED_EVENT_TYPES, REST_RESPONSE}
    assert {"StasisStart", "ChannelHangupRequest", "ChannelDestroyed"} <= set(HANDLED_EVENT_TYPES)


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel writes them) of the TCP sockets listening on `port`, IPv4 and IPv6."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                addresses.add(address)
    return addresses


def test_ami_and_ari_listen_on_loopback_only(local_asterisk: LocalAsterisk) -> None:
    settings = load_local_asterisk_settings()
    loopback = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
    assert listening_addresses(settings.ami_port) == {loopback}
    assert listening_addresses(settings.http_port) == {loopback}


def test_only_pjsip_s_own_backlog_makes_asterisk_ignore_new_calls(local_asterisk: LocalAsterisk) -> None:
    # With Asterisk's default ("global") a backlog of events to the service (the ARI app's or AMI's queue over its
    # high-water mark) made PJSIP ignore every new INVITE, and 112 callers waited seconds for their retransmission to
    # be answered (asterisk/local/pjsip.conf says why; docs/BENCHMARKS.md, issue 12, eleventh slice). Asterisk takes
    # an unknown value or a misspelt option with a warning and runs with the default: read what it runs with.
    settings = local_asterisk.cli("pjsip show settings")
    trigger = [line for line in settings.splitlines() if "taskprocessor_overload_trigger" in line]
    assert [line.split(":", 1)[1].strip() for line in trigger] == ["pjsip_only"]
