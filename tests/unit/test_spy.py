"""Which channel a supervisor's listen joins (queue/spy.py): the operator's own phone's channel in a bridge, read from
CoreShowChannels' fields; never a channel of an operator whose name merely starts the same. Which channel is the listen
(the one the service originated), and whom and how ChanSpy listens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ntpd112.pbx.ami_actions import ChannelInfo
from ntpd112.queue.spy import (
    LISTEN_ID_PREFIX,
    RING_GRACE_SECONDS,
    RING_SECONDS,
    QueuedOriginate,
    SpyView,
    call_channel,
    chanspy_listen,
    listen_channel,
)


def channel(name: str, bridge: str = "", state: str = "Up") -> ChannelInfo:
    return ChannelInfo.of({"Channel": name, "ChannelStateDesc": state, "BridgeId": bridge, "Application": "AppQueue"})


def test_the_endpoint_of_a_channel_is_its_name_without_the_sequence_number() -> None:
    assert channel("PJSIP/budi-0000002a").endpoint == "budi"
    assert channel("PJSIP/op-1-0000002a").endpoint == "op-1"  # a name with a dash keeps it
    assert channel("Local/s@ntpd112-spy-00000001;1").endpoint is None
    assert channel("PJSIP/nosuffix").endpoint is None


def test_the_listen_joins_only_that_operators_bridged_call() -> None:
    channels = [
        channel("PJSIP/op10-00000001", bridge="b1"),  # another operator whose name starts the same
        channel("PJSIP/op1-00000002", state="Ringing"),  # rung by the queue, not yet on the call
        channel("PJSIP/op1-00000003", bridge="b2"),
        channel("PJSIP/trunk-telkomsel-00000004", bridge="b2"),
    ]
    found = call_channel(channels, "op1")
    assert found is not None and found.name == "PJSIP/op1-00000003"
    assert call_channel(channels[:2], "op1") is None


def test_the_listen_is_only_the_channel_the_service_originated() -> None:
    overflow = ChannelInfo.of(
        {"Channel": "PJSIP/sup1-00000005", "Uniqueid": "1733300000.12", "ChannelStateDesc": "Ringing"}
    )
    listen = ChannelInfo.of(
        {"Channel": "PJSIP/sup1-00000006", "Uniqueid": f"{LISTEN_ID_PREFIX}abc", "ChannelStateDesc": "Ringing"}
    )
    other = ChannelInfo.of({"Channel": "PJSIP/sup10-00000007", "Uniqueid": f"{LISTEN_ID_PREFIX}def"})
    assert listen_channel([overflow, other, listen], "sup1") == listen
    assert listen_channel([overflow, other], "sup1") is None


def test_whom_and_how_a_chanspy_listens_is_read_from_its_arguments() -> None:
    assert chanspy_listen("PJSIP/op1-0000002a,qES") == ("PJSIP/op1-0000002a", "listen")
    assert chanspy_listen("PJSIP/op1-0000002a,qESw") == ("PJSIP/op1-0000002a", "whisper")
    assert chanspy_listen("PJSIP/op1-0000002a,qESB") == ("PJSIP/op1-0000002a", "barge")
    assert chanspy_listen("") is None


def test_an_originate_whose_response_never_came_is_forgotten_after_the_ring_time() -> None:
    since = datetime(2026, 12, 5, tzinfo=UTC)
    queued = QueuedOriginate("ntpd112-spy-1", SpyView(operator="op1", mode="listen", state="ringing", since=since))
    assert not queued.lost(since + timedelta(seconds=RING_SECONDS))
    assert queued.lost(since + timedelta(seconds=RING_SECONDS + RING_GRACE_SECONDS + 1))
