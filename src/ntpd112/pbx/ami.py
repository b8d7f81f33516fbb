"""The AMI adapter, on panoramisk 1.4, with the workarounds its traps need:

- Multibyte UTF-8 split across two TCP reads is dropped by panoramisk's per-read decode: our protocol runs an
  incremental decoder first and hands panoramisk only whole characters.
- panoramisk reconnects on a fixed timer: our manager switches that off and `AmiClient` reconnects itself, with the
  shared capped backoff, and logs in again.
- Its ping never checks the reply, so a half-open connection looks healthy forever: our watchdog sends Ping and
  drops the connection when nothing at all has come from Asterisk for SILENCE_LIMIT seconds. A late answer to one
  Ping is not a dead connection: a saturated Asterisk can take seconds to answer, and dropping then would lose the
  events of every call in progress while it reconnects.
- Async event handlers are fire-and-forget in panoramisk: we register one sync callback and run handlers in our
  own tracked task set.
- QueueAdd never resolves unless sent with as_list=False: typed actions say whether they collect a list of events
  (see `AmiAction.collects_events`).
- After every login the owner's `on_login` hook resyncs state (QueueStatus), since nothing is replayed.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from pydantic import SecretStr

from ntpd112.backoff import Backoff
from ntpd112.config import Settings
from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger
from ntpd112.pbx.ami_actions import AmiAction, Ping, Reply
from ntpd112.pbx.names import AMI_EVENTS
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

AmiEventHandler = Callable[[dict[str, str]], Awaitable[None]]
LoginHook = Callable[[], Awaitable[None]]
R = TypeVar("R")
E = TypeVar("E", bound=RefusedError)

ACTION_TIMEOUT = 5.0
LOGIN_TIMEOUT = 10.0
WATCHDOG_INTERVAL = 5.0
WATCHDOG_TIMEOUT = 3.0
SILENCE_LIMIT = 20.0  # seconds with no byte from Asterisk, pings unanswered: the connection is dead
_NEVER = 10**9  # seconds: switches off panoramisk's own, unchecked ping


class _Utf8AmiProtocol(AMIProtocol):  # type: ignore[misc]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.last_received = time.monotonic()

    def data_received(self, data: bytes) -> None:
        self.last_received = time.monotonic()
        text = self._decoder.decode(data)
        if text:
            super().data_received(text.encode("utf-8"))


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager without its fixed-timer reconnect: `AmiClient` owns reconnecting. Both overrides are
    the public callbacks panoramisk itself calls when a connect fails and when a connection is lost."""

    def connection_made(self, connecting: asyncio.Future[Any]) -> None:
        if connecting.cancelled() or connecting.exception() is not None:
            return  # AmiClient awaits the same connect and backs off
        super().connection_made(connecting)

    def connection_lost(self, exc: Any) -> None:
        self.close()
        self.on_disconnect(self, exc)


class AmiError(Exception):
    """Asterisk did not take the action: AMI is down, or no answer came in time."""


class AmiRefused(AmiError):
    """Asterisk answered the action with an error."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message or 'refused'}")
        self.action = action
        self.message = message


def refusal(error: AmiError, kind: type[E]) -> E:
    """What an AMI failure means to a request: 502 when Asterisk said no, 503 when it could not be asked."""
    if isinstance(error, AmiRefused):
        return kind(502, "asterisk_refused", str(error))
    return kind(503, "asterisk_unavailable", f"Asterisk did not take the action: {error}")


class AmiClient:
    @classmethod
    def from_settings(cls, settings: Settings) -> AmiClient:
        """The service's AMI user on the configured Asterisk, reconnecting with the configured back-off."""
        return cls(
            settings.ami_host,
            settings.ami_port,
            settings.ami_username,
            settings.ami_password,
            backoff=Backoff(settings.reconnect_initial_delay, settings.reconnect_max_delay),
        )

    def __init__(self, host: str, port: int, username: str, password: SecretStr, *, backoff: Backoff) -> None:
        self._config = {
            "host": host,
            "port": port,
            "username": username,
            "secret": password.get_secret_value(),
        }
        self._backoff = backoff
        self._manager: Manager | None = None
        self._tasks = TaskSet("ami")
        self._handlers: dict[str, list[AmiEventHandler]] = {}
        self._on_login: LoginHook | None = None
        self._logged_in = False
        self._lost = asyncio.Event()
        self.logins = 0
        self.last_error: str | None = None

    def on(self, event_name: str, handler: AmiEventHandler) -> None:
        if event_name not in AMI_EVENTS:
            # The AMI user's eventfilter passes only AMI_EVENTS: a handler for anything else would never run.
            raise ValueError(f"AMI event {event_name} is not in pbx.names.AMI_EVENTS (the AMI user's eventfilter)")
        self._handlers.setdefault(event_name.lower(), []).append(handler)

    async def start(self, on_login: LoginHook | None = None) -> None:
        self._on_login = on_login
        manager = self._manager = _Manager(
            loop=asyncio.get_running_loop(),
            **self._config,
            encoding="utf-8",
            protocol_factory=_Utf8AmiProtocol,
            ping_delay=_NEVER,
            ping_interval=_NEVER,
            on_disconnect=self._disconnected,
            forgetable_actions=("ping", "login", "queuestatus"),
        )
        manager.register_event("*", self._dispatch)
        # Returns at once; the connection comes up (and comes back) in the background.
        self._tasks.spawn(self._stay_connected(manager), name="ami-connection")

    async def stop(self) -> None:
        await self._tasks.aclose()

    @property
    def connected(self) -> bool:
        return self._logged_in

    @property
    def reconnects(self) -> int:
        return max(self.logins - 1, 0)

    def health(self) -> dict[str, Any]:
        return {"ok": self.connected, "logins": self.logins, "last_error": self.last_error}

    async def send(self, action: AmiAction[R], *, timeout: float = ACTION_TIMEOUT) -> R:
        """Send an action and return its typed reply (a refusal included); AmiError when Asterisk cannot be asked."""
        response = await self._send_headers(action.headers(), as_list=action.collects_events, timeout=timeout)
        return action.reply(response)

    async def require(self, action: AmiAction[Reply], *, timeout: float = ACTION_TIMEOUT) -> Reply:
        """Send an action that must succeed: AmiRefused when Asterisk answers with an error."""
        reply = await self.send(action, timeout=timeout)
        if not reply.success:
            raise AmiRefused(action.name, reply.message)
        return reply

    # -- internals ----------------------------------------------------------------------------------------

    async def _send_headers(self, headers: dict[str, str], *, as_list: bool, timeout: float) -> Any:
        if not self.connected or self._manager is None:
            raise AmiError(f"AMI is not connected ({headers['Action']})")
        try:
            async with asyncio.timeout(timeout):
                return await self._manager.send_action(headers, as_list=as_list)
        except TimeoutError:
            raise AmiError(f"AMI action {headers['Action']} timed out") from None

    async def _stay_connected(self, manager: Manager) -> None:
        while True:
            try:
                await self._connect_and_watch(manager)
                log.warning("ami disconnected; reconnecting", reason=self.last_error)
            except (OSError, TimeoutError, AmiError) as error:
                self.last_error = f"{error!r}"[:200]
                log.warning("ami connection failed; reconnecting", reason=self.last_error)
            finally:
                # On cancel (stop) too: closing here is what keeps panoramisk from coming back.
                self._logged_in = False
                manager.close()
            await asyncio.sleep(self._backoff.next_delay())

    async def _connect_and_watch(self, manager: Manager) -> None:
        """Connect, log in, then ping until the connection is lost (returns) or stops answering (AmiError)."""
        self._lost.clear()
        await manager.connect()
        # panoramisk sends Login as soon as the socket is up and keeps its answer in `authenticated_future`;
        # shielded, since its own done callback reads that future's result and must not find it cancelled.
        async with asyncio.timeout(LOGIN_TIMEOUT):
            login = await asyncio.shield(manager.authenticated_future)
        if not login.success:
            raise AmiError(f"login refused: {login.get('Message')}")
        self._logged_in = True
        self.logins += 1
        self.last_error = None
        self._backoff.reset()
        log.info("ami logged in", logins=self.logins)
        if self._on_login is not None:
            self._tasks.spawn(self._on_login(), name="ami-resync")
        while not self._lost.is_set():
            try:
                await asyncio.wait_for(self._lost.wait(), WATCHDOG_INTERVAL)
            except TimeoutError:
                await self._ping(manager)

    async def _ping(self, manager: Manager) -> None:
        try:
            await self.require(Ping(), timeout=WATCHDOG_TIMEOUT)
        except AmiError as error:
            silent_for = time.monotonic() - manager.protocol.last_received
            if silent_for < SILENCE_LIMIT:
                log.info("ami slow to answer ping; connection kept", silent_seconds=round(silent_for, 1))
                return
            raise AmiError(
                f"watchdog: nothing from Asterisk for {silent_for:.0f} s ({error}); dropping the connection"
            ) from None

    def _disconnected(self, _: Manager, exc: Any) -> None:
        self._logged_in = False
        self.last_error = f"disconnected: {exc!r}"[:200]
        self._lost.set()

    def _dispatch(self, _: Manager, message: Any) -> None:
        handlers = self._handlers.get(str(message.get("Event", "")).lower(), [])
        for handler in handlers:
            self._tasks.spawn(handler(dict(message)), name=f"ami-event:{message.get('Event')}")
