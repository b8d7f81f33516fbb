"""The AMI adapter, on panoramisk 1.4, with the workarounds its traps need:

- Multibyte UTF-8 split across two TCP reads is dropped by panoramisk's per-read decode: our protocol runs an
  incremental decoder first and hands panoramisk only whole characters.
- Its ping never checks the reply, so a half-open connection looks healthy forever: our watchdog sends Ping,
  waits for the answer and drops the connection (panoramisk then reconnects and logs in again) when none comes.
- Async event handlers are fire-and-forget in panoramisk: we register one sync callback and run handlers in our
  own tracked task set.
- QueueAdd never resolves unless sent with as_list=False (see `send`).
- After every login the owner's `on_login` hook resyncs state (QueueStatus), since nothing is replayed.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from pydantic import SecretStr

from ntpd112.logs import get_logger
from ntpd112.tasks import TaskSet

log = get_logger(__name__)

AmiEventHandler = Callable[[dict[str, str]], Awaitable[None]]
LoginHook = Callable[[], Awaitable[None]]

WATCHDOG_INTERVAL = 5.0
WATCHDOG_TIMEOUT = 3.0
_NEVER = 10**9  # seconds: switches off panoramisk's own, unchecked ping


class _Utf8AmiProtocol(AMIProtocol):  # type: ignore[misc]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def data_received(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if text:
            super().data_received(text.encode("utf-8"))


class AmiError(Exception):
    pass


class AmiClient:
    def __init__(self, host: str, port: int, username: str, password: SecretStr) -> None:
        self._config = {
            "host": host,
            "port": port,
            "username": username,
            "secret": password.get_secret_value(),
        }
        self._manager: Manager | None = None
        self._tasks = TaskSet("ami")
        self._handlers: dict[str, list[AmiEventHandler]] = {}
        self._on_login: LoginHook | None = None
        self.logins = 0
        self.last_error: str | None = None

    def on(self, event_name: str, handler: AmiEventHandler) -> None:
        self._handlers.setdefault(event_name.lower(), []).append(handler)

    async def start(self, on_login: LoginHook | None = None) -> None:
        self._on_login = on_login
        self._manager = Manager(
            loop=asyncio.get_running_loop(),
            **self._config,
            encoding="utf-8",
            protocol_factory=_Utf8AmiProtocol,
            ping_delay=_NEVER,
            ping_interval=_NEVER,
            reconnect_timeout=2,
            on_login=self._logged_in,
            on_disconnect=self._disconnected,
            forgetable_actions=("ping", "login", "queuestatus"),
        )
        self._manager.register_event("*", self._dispatch)
        # connect() returns at once; failures are retried by panoramisk every reconnect_timeout seconds.
        self._manager.connect()
        self._tasks.spawn(self._watchdog(), name="ami-watchdog")

    async def stop(self) -> None:
        await self._tasks.aclose()
        if self._manager is not None:
            # Stop panoramisk from reconnecting after we close.
            self._manager.connection_lost = lambda exc: None
            self._manager.close()

    @property
    def connected(self) -> bool:
        return bool(self._manager is not None and self._manager._connected and self._manager.authenticated)

    @property
    def reconnects(self) -> int:
        return max(self.logins - 1, 0)

    def health(self) -> dict[str, Any]:
        return {"ok": self.connected, "logins": self.logins, "last_error": self.last_error}

    async def send(self, action: dict[str, str], *, as_list: bool = False, timeout: float = 5.0) -> Any:
        if not self.connected or self._manager is None:
            raise AmiError("AMI is not connected")
        try:
            async with asyncio.timeout(timeout):
                return await self._manager.send_action(action, as_list=as_list)
        except TimeoutError:
            raise AmiError(f"AMI action {action.get('Action')} timed out") from None

    # -- internals ----------------------------------------------------------------------------------------

    def _logged_in(self, _: Manager) -> None:
        self.logins += 1
        self.last_error = None
        log.info("ami logged in", logins=self.logins)
        if self._on_login is not None:
            self._tasks.spawn(self._on_login(), name="ami-resync")

    def _disconnected(self, _: Manager, exc: Any) -> None:
        self.last_error = f"disconnected: {exc!r}"[:200]
        log.warning("ami disconnected; panoramisk reconnects", reason=self.last_error)

    def _dispatch(self, _: Manager, message: Any) -> None:
        handlers = self._handlers.get(str(message.get("Event", "")).lower(), [])
        for handler in handlers:
            self._tasks.spawn(handler(dict(message)), name=f"ami-event:{message.get('Event')}")

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL)
            if self._manager is None or not self.connected:
                continue
            try:
                async with asyncio.timeout(WATCHDOG_TIMEOUT):
                    reply = await self._manager.send_action({"Action": "Ping"})
                if not reply.success:
                    raise AmiError(f"ping refused: {reply}")
            except (TimeoutError, AmiError) as error:
                self.last_error = f"watchdog: {error!r}"[:200]
                log.warning("ami did not answer ping; dropping the connection to reconnect")
                if self._manager.protocol is not None:
                    self._manager.protocol.connection_lost(error)
