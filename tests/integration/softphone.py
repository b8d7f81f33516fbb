"""baresip (Debian's baresip-core) as a real operator softphone: registers with its generated credentials and
answers automatically. Audio: a 440 Hz tone out; what it hears is written to a WAV file."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from ntpd112.app import Service
from ntpd112.queue.operators import NewOperator
from tests.integration.conftest import password_hash, wait_until

BARESIP_MODULES = Path("/usr/lib/baresip/modules")


class Baresip:
    def __init__(self, workdir: Path, username: str, password: str, address: str, port: int = 5070) -> None:
        self.workdir = workdir
        self.username = username
        self.password = password
        self.address = address
        self.port = port
        self.received_audio = workdir / "received.wav"
        self._process: asyncio.subprocess.Process | None = None

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen {self.address}:{self.port}",
                    f"module_path {BARESIP_MODULES}",
                    "module g711.so",
                    "module aufile.so",
                    # ausine only produces 48 kHz, which this build cannot resample to G.711: play an 8 kHz tone file.
                    f"audio_source aufile,{self.tone}",
                    f"audio_player aufile,{self.received_audio}",
                    "ausrc_srate 8000",
                    "auplay_srate 8000",
                    "audio_alert aufile,/dev/null",
                    "module_app account.so",
                    "module_app menu.so",
                    "",
                ]
            )
        )
        # answermode=auto: the phone picks up by itself, as an operator's headset would be answered.
        (self.workdir / "accounts").write_text(
            f"<sip:{self.username}@127.0.0.1:5060;transport=udp>;auth_pass={self.password};"
            "answermode=auto;regint=300;audio_codecs=PCMA,PCMU\n"
        )
        (self.workdir / "contacts").write_text("")

    @property
    def tone(self) -> Path:
        return self.workdir / "tone.wav"

    async def start(self) -> None:
        self._write_config()
        sox = await asyncio.create_subprocess_exec(
            "sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(self.tone), "synth", "60", "sine", "440"
        )
        assert await sox.wait() == 0
        self._process = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(self.workdir),
            "-4",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=(self.workdir / "baresip.log").open("wb"),
            stderr=asyncio.subprocess.STDOUT,
        )

    @property
    def log(self) -> str:
        return (self.workdir / "baresip.log").read_text(errors="replace")

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), 5)
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()


@contextlib.asynccontextmanager
async def registered_operator_phone(
    service: Service, workdir: Path, username: str, name: str, address: str, *, password: str | None = None
) -> AsyncIterator[Baresip]:
    """An operator added to the room with a baresip phone that has registered (and, with `password`, can sign in to
    the console); the phone stops on leaving."""
    created = await service.operators.add(NewOperator(username=username, name=name))
    if password is not None:
        await service.accounts.users.set_password(username, password_hash(password), must_change=False)
    phone = Baresip(workdir, username, created.sip_password, address)
    await phone.start()
    try:

        async def registered() -> bool:
            endpoint = await service.ari.request("GET", f"/endpoints/PJSIP/{username}")
            return bool(endpoint["state"] == "online")

        await wait_until(registered, timeout=15)
        yield phone
    finally:
        await phone.stop()
