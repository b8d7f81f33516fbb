"""The AMI adapter against a fake Asterisk on a local socket: typed actions and replies, the panoramisk traps it
works around, and reconnecting with the shared backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from ntpd112.backoff import Backoff
from ntpd112.errors import RefusedError
from ntpd112.pbx import ami as ami_module
from ntpd112.pbx.ami import AmiClient, AmiError, AmiRefused, refusal
from ntpd112.pbx.ami_actions import (
    DialplanLocation,
    Originate,
    QueueAdd,
    QueuePause,
    QueueRemove,
    QueueStatus,
    Redirect,
    Reply,
    Setvar,
)

EOL = "\r\n"


def _message(**headers: str) -> bytes:
    return ("".join(f"{name}: {value}{EOL}" for name, value in headers.items()) + EOL).encode()


class FakeAsterisk:
    """Answers just enough AMI: Login (refused `refuse_logins` times), Ping (late by `ping_delay` seconds, never
    when None), and canned answers per action."""

    def __init__(self) -> None:
        self.connections = 0
        self.refuse_logins = 0
        self.ping_delay: float | None = 0.0
        self.received: list[dict[str, str]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.answers: dict[str, Callable[[str], list[bytes]]] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        writer.write(f"Asterisk Call Manager/9.0.0{EOL}".encode())
        buffer = b""
        while data := await reader.read(4096):
            buffer += data
            while EOL.encode() * 2 in buffer:
                raw, buffer = buffer.split(EOL.encode() * 2, 1)
                headers = dict(line.split(": ", 1) for line in raw.decode().split(EOL) if ": " in line)
                self.received.append(headers)
                if headers["Action"] == "Ping" and self.ping_delay != 0.0:
                    self._late_pong(writer, headers["ActionID"])
                    continue
                for reply in self._answer(headers):
                    writer.write(reply)
        writer.close()

    def _answer(self, headers: dict[str, str]) -> list[bytes]:
        action, action_id = headers["Action"], headers["ActionID"]
        if action == "Login":
            if self.refuse_logins:
                self.refuse_logins -= 1
                return [_message(Response="Error", ActionID=action_id, Message="Authentication failed")]
            return [_message(Response="Success", ActionID=action_id, Message="Authentication accepted")]
        if action in self.answers:
            return self.answers[action](action_id)
        return [_message(Response="Success", ActionID=action_id, Message="ok")]

    def _late_pong(self, writer: asyncio.StreamWriter, action_id: str) -> None:
        if self.ping_delay is not None:
            pong = _message(Response="Success", ActionID=action_id, Ping="Pong")
            asyncio.get_running_loop().call_later(self.ping_delay, writer.write, pong)

    def drop_connections(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()


@pytest.fixture
async def asterisk() -> AsyncIterator[tuple[FakeAsterisk, int]]:
    fake = FakeAsterisk()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    async with server:
        yield fake, server.sockets[0].getsockname()[1]
        fake.drop_connections()


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling a test condition
            await asyncio.sleep(0.01)


def _client(port: int) -> AmiClient:
    return AmiClient("127.0.0.1", port, "ntpd112", SecretStr("secret"), backoff=Backoff(0.01, 0.05))


async def test_reconnects_with_backoff_and_resyncs_after_every_login(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    fake.refuse_logins = 1  # the first login fails: retried after a backoff delay, not given up
    resyncs = 0

    async def resync() -> None:
        nonlocal resyncs
        resyncs += 1

    ami = _client(port)
    await ami.start(on_login=resync)
    try:
        await _until(lambda: ami.connected)
        assert (fake.connections, ami.logins, resyncs) == (2, 1, 1)
        fake.drop_connections()
        await _until(lambda: not ami.connected)
        assert "disconnected" in str(ami.health()["last_error"])
        await _until(lambda: ami.connected and resyncs == 2)
        assert ami.reconnects == 1 and ami.health() == {"ok": True, "logins": 2, "last_error": None}
    finally:
        await ami.stop()
    connections = fake.connections
    await asyncio.sleep(0.2)
    assert fake.connections == connections  # stopped means stopped: panoramisk does not come back on its own


async def test_typed_actions_and_replies(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    # app_queue's answers; "Added interface ... to queue" is the one panoramisk's guess would wait on forever.
    fake.answers["QueueAdd"] = lambda aid: [
        _message(Response="Success", ActionID=aid, Message="Added interface to queue")
    ]
    fake.answers["QueueRemove"] = lambda aid: [
        _message(Response="Error", ActionID=aid, Message="Unable to remove interface: Not there")
    ]
    fake.answers["QueueStatus"] = lambda aid: [
        _message(Response="Success", ActionID=aid, EventList="start", Message="Queue status will follow"),
        _message(Event="QueueParams", ActionID=aid, Queue="q"),
        _message(
            Event="QueueMember",
            ActionID=aid,
            Queue="q",
            Location="PJSIP/op1",
            Paused="1",
            InCall="0",
            Membership="dynamic",
        ),
        _message(
            Event="QueueMember",
            ActionID=aid,
            Queue="q",
            Location="PJSIP/sup",
            Paused="0",
            InCall="1",
            Membership="static",
        ),
        _message(Event="QueueStatusComplete", ActionID=aid, EventList="Complete", ListItems="2"),
    ]
    ami = _client(port)
    await ami.start()
    try:
        await _until(lambda: ami.connected)
        reply = await ami.send(QueueAdd("q", "PJSIP/op1", member_name="op1", paused=True, reason="break"), timeout=2)
        assert reply == Reply(True, "Added interface to queue", reply.headers)
        assert fake.received[-1] | {"ActionID": ""} == {
            "Action": "QueueAdd",
            "ActionID": "",
            "Queue": "q",
            "Interface": "PJSIP/op1",
            "MemberName": "op1",
            "StateInterface": "PJSIP/op1",
            "Paused": "true",
            "Reason": "break",
        }
        assert not (await ami.send(QueueRemove("q", "PJSIP/op9"))).success
        assert (await ami.require(QueueRemove("q", "PJSIP/op9", absent_ok=True))).success
        members = await ami.send(QueueStatus("q"))
        assert set(members) == {"PJSIP/op1", "PJSIP/sup"}
        assert members["PJSIP/op1"].paused and members["PJSIP/op1"].dynamic and not members["PJSIP/op1"].in_call
        assert members["PJSIP/sup"].in_call and not members["PJSIP/sup"].dynamic
    finally:
        await ami.stop()


async def test_refusals_and_outages_become_clear_api_errors(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    fake.answers["QueuePause"] = lambda aid: [_message(Response="Error", ActionID=aid, Message="Interface not found")]
    ami = _client(port)
    with pytest.raises(AmiError) as down:
        await ami.send(Setvar("X", "1"))
    assert (refusal(down.value, RefusedError).status, refusal(down.value, RefusedError).error_id) == (
        503,
        "asterisk_unavailable",
    )
    await ami.start()
    try:
        await _until(lambda: ami.connected)
        with pytest.raises(AmiRefused) as refused:
            await ami.require(QueuePause("q", "PJSIP/op1", paused=False))
        error = refusal(refused.value, RefusedError)
        assert (error.status, error.error_id, error.message) == (
            502,
            "asterisk_refused",
            "QueuePause: Interface not found",
        )
    finally:
        await ami.stop()


async def test_multibyte_utf8_split_across_reads_reaches_event_handlers(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    received: list[dict[str, str]] = []

    async def on_user_event(event: dict[str, str]) -> None:
        received.append(event)

    ami = _client(port)
    ami.on("UserEvent", on_user_event)
    await ami.start()
    try:
        await _until(lambda: ami.connected)
        event = _message(Event="UserEvent", UserEvent="Ntpd112Test", CallerName="Budi 😊 Jakarta")
        cut = event.index("😊".encode()) + 2  # inside the four bytes of the emoji
        fake.writers[-1].write(event[:cut])
        await fake.writers[-1].drain()
        await asyncio.sleep(0.05)
        fake.writers[-1].write(event[cut:])
        await _until(lambda: bool(received))
        assert received[0]["CallerName"] == "Budi 😊 Jakarta"
    finally:
        await ami.stop()


@pytest.fixture
def fast_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ami_module, "WATCHDOG_INTERVAL", 0.05)
    monkeypatch.setattr(ami_module, "WATCHDOG_TIMEOUT", 0.1)
    monkeypatch.setattr(ami_module, "SILENCE_LIMIT", 0.6)


@pytest.mark.usefixtures("fast_watchdog")
async def test_a_ping_answered_late_keeps_the_connection(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    fake.ping_delay = 0.3  # three times the ping timeout, within the silence limit: a saturated Asterisk
    ami = _client(port)
    await ami.start()
    try:
        await _until(lambda: ami.connected)
        await asyncio.sleep(1.5)
        assert (ami.connected, fake.connections, ami.logins) == (True, 1, 1)
        assert sum(1 for action in fake.received if action["Action"] == "Ping") >= 3
    finally:
        await ami.stop()


@pytest.mark.usefixtures("fast_watchdog")
async def test_a_connection_that_goes_silent_is_dropped_and_made_again(asterisk: tuple[FakeAsterisk, int]) -> None:
    fake, port = asterisk
    fake.ping_delay = None  # half-open: the socket stays up, nothing comes back
    ami = _client(port)
    await ami.start()
    try:
        await _until(lambda: ami.connected)
        connected_at = asyncio.get_running_loop().time()
        await _until(lambda: fake.connections == 2, timeout=3)
        # Not at the first unanswered Ping (0.15 s in): only once nothing came for the silence limit (0.6 s).
        assert asyncio.get_running_loop().time() - connected_at >= 0.5
        await _until(lambda: ami.logins == 2)
    finally:
        await ami.stop()


def test_a_handler_for_an_event_the_eventfilter_does_not_pass_is_refused() -> None:
    ami = _client(1)

    async def handler(event: dict[str, str]) -> None:
        raise AssertionError(event)

    with pytest.raises(ValueError, match="Newchannel"):
        ami.on("Newchannel", handler)


def test_channel_actions_spell_asterisks_headers() -> None:
    redirect = Redirect(
        "PJSIP/trunk-1",
        DialplanLocation("ntpd112-dispatch", "caller"),
        extra=("PJSIP/op1-2", DialplanLocation("ntpd112-dispatch", "operator")),
    )
    assert redirect.headers() == {
        "Action": "Redirect",
        "Channel": "PJSIP/trunk-1",
        "Context": "ntpd112-dispatch",
        "Exten": "caller",
        "Priority": "1",
        "ExtraChannel": "PJSIP/op1-2",
        "ExtraContext": "ntpd112-dispatch",
        "ExtraExten": "operator",
        "ExtraPriority": "1",
    }
    originate = Originate(
        "PJSIP/op1",
        DialplanLocation("ntpd112-callback", "s"),
        action_id="ntpd112-callback-1",
        caller_id='"Callback 112" <0812>',
        variables={"A": "1", "B": "trunk-xl"},
    )
    assert originate.headers()["Timeout"] == "30000" and originate.headers()["Async"] == "true"
    assert originate.headers()["Variable"] == "A=1,B=trunk-xl"
    assert Setvar("X", "4").headers() == {"Action": "Setvar", "Variable": "X", "Value": "4"}
