"""The local Asterisk 22 used in development and tests: provisioned into a chroot, configured, started, stopped.

Debian bookworm has no Asterisk; Debian sid has 22.x, and installing it into the host would upgrade libc and
hundreds of packages. So the project debootstraps a minimal sid root with Asterisk into a cache directory outside
the repository, reuses it across runs and clones, and runs `chroot ROOT /usr/sbin/asterisk -f`. The chroot shares
the host network, so SIP, AMI and ARI listen on loopback. The service does not know or care that Asterisk is local:
it only sees host, ports and credentials from its settings.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlsplit

from ntpd112.config import LocalAsteriskSettings
from ntpd112.dispatch.routing_service import ROUTES_INCLUDE_FILE, write_dialplan_include
from ntpd112.logs import get_logger
from ntpd112.paths import ASTERISK_DIR, DIALPLAN_DIR, LOCAL_ASTERISK_LOCK
from ntpd112.pbx.asterisk_config import load_trunks, render_include_files
from ntpd112.pbx.speech import speak, to_asterisk_wav
from ntpd112.room.config import RoomConfig, load_room
from ntpd112.routing.defaults import default_table

log = get_logger(__name__)

PROMPTS_DIR = ASTERISK_DIR / "prompts"
PROMPT_SOUNDS_SUBDIR = Path("usr/share/asterisk/sounds/ntpd112")
# What a waiting caller hears, in order, as the queue's music on hold (see pbx/asterisk_config.render_music_on_hold).
HOLD_MUSIC_PROMPTS = ("greeting", "please-hold")
LOADTEST_DIALPLAN = "extensions_ntpd112_loadtest.conf"
CDR_CONFIG = "cdr_pgsql.conf"
QUEUES_CONFIG = "queues_ntpd112.conf"
TRUNKS_CONFIG = "pjsip_ntpd112_trunks.conf"
# Files a running Asterisk takes up without a restart, and the CLI command that makes it. A test session points
# the CDRs at its own database and may run the queue with its own timings (see `LocalAsterisk(room=...)`), and
# puts both back at its end; `queue reload parameters` keeps the queue's members and waiting callers. A test may
# set a short caller media timeout (the trunks' rtp_timeout): a PJSIP reload applies it to new calls.
RELOADABLE = {
    CDR_CONFIG: "module reload cdr_pgsql.so",
    QUEUES_CONFIG: "queue reload parameters",
    TRUNKS_CONFIG: "module reload res_pjsip.so",
}


class LocalAsteriskError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalAsteriskStatus:
    running: bool
    pid: int | None
    version: str | None


def debian_mirror_from_apt() -> str:
    """The Debian mirror this machine's apt already uses (the only one reachable from a closed network)."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for path in candidates:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and len(words) > 1 and "security" not in words[1]:
                return words[-3] if words[1].startswith("[") else words[1]
    return "http://deb.debian.org/debian"


_lock_depth = 0  # how deep this process is inside local_asterisk_lock()


@contextlib.contextmanager
def local_asterisk_lock() -> Iterator[None]:
    """Hold the machine-wide lock on the one local Asterisk (fixed ports, one queue, one CDR target, shared by every
    checkout): whoever (re)configures, restarts or places calls through it holds the lock, so that a set-up or a
    load test in one checkout never restarts Asterisk under another checkout's running tests.

    Re-entrant within a process: flock locks belong to an open file, so a second open here would wait for the
    first forever (the fault harness takes the lock to restart Asterisk or PostgreSQL inside a test session or a
    `ntpd112 loadtest` that already holds it)."""
    global _lock_depth
    if _lock_depth:
        _lock_depth += 1
        try:
            yield
        finally:
            _lock_depth -= 1
        return
    with LOCAL_ASTERISK_LOCK.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for the local asterisk: other tests or a load test use it", lock=str(LOCAL_ASTERISK_LOCK))
            since = time.monotonic()
            fcntl.flock(lock, fcntl.LOCK_EX)
            log.info("the local asterisk is free", waited_seconds=round(time.monotonic() - since))
        _lock_depth = 1
        try:
            yield
        finally:
            _lock_depth = 0


class LocalAsterisk:
    def __init__(self, settings: LocalAsteriskSettings, room: RoomConfig | None = None) -> None:
        self._settings = settings
        self.root = settings.asterisk_root
        self._room = room

    def with_room(self, room: RoomConfig) -> LocalAsterisk:
        """The same Asterisk run with another room (e.g. a test's shorter timings); `start()` applies it."""
        return LocalAsterisk(self._settings, room)

    @property
    def room(self) -> RoomConfig:
        """The room the queue and the dialplan globals are rendered from: room.toml unless one was given."""
        return self._room or load_room()

    # -- provisioning -------------------------------------------------------------------------------------

    @property
    def installed(self) -> bool:
        return (self.root / "usr/sbin/asterisk").exists()

    def ensure_installed(self) -> None:
        if self.installed:
            return
        if shutil.which("debootstrap") is None:
            raise LocalAsteriskError("debootstrap is not installed (apt-get install debootstrap)")
        mirror = self._settings.debian_mirror or debian_mirror_from_apt()
        staging = self.root.with_name(self.root.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        log.info(
            "provisioning local asterisk (debootstrap sid, about a minute)",
            root=str(self.root),
            mirror=mirror,
        )
        # minbase keeps the root small (~500 MB); built into a staging directory so an interrupted run never
        # leaves a half-made root that looks installed.
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=asterisk", "sid", str(staging), mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        staging.rename(self.root)

    def install_config(self) -> bool:
        """Write the project's configuration into the root. Returns True when anything changed."""
        return bool(self._write_config())

    def _write_config(self) -> set[str]:
        """Write the project's configuration into the root; the names of the files that changed."""
        ari_password, ami_password = self._settings.ari_password, self._settings.ami_password
        if ari_password is None or ami_password is None:
            raise LocalAsteriskError("NTPD112_ARI_PASSWORD and NTPD112_AMI_PASSWORD must be set (run `ntpd112 setup`)")
        values = {
            "sip_bind": self._settings.sip_bind,
            "sip_port": str(self._settings.sip_port),
            "ami_bind": "127.0.0.1",
            "ami_port": str(self._settings.ami_port),
            "http_bind": "127.0.0.1",
            "http_port": str(self._settings.http_port),
        }
        files = {
            path.name: Template(path.read_text(encoding="utf-8")).substitute(values)
            for path in sorted((ASTERISK_DIR / "local").glob("*.conf"))
        }
        files[CDR_CONFIG] = self._render_cdr_pgsql()
        files |= render_include_files(
            load_trunks(),
            self.room,
            self._settings.ari_username,
            ari_password.get_secret_value(),
            self._settings.ami_username,
            ami_password.get_secret_value(),
            os.environ,
        )
        # The load test's baseline dialplan: not a Template (it uses ${...}) and not for production.
        files[LOADTEST_DIALPLAN] = (DIALPLAN_DIR / LOADTEST_DIALPLAN).read_text(encoding="utf-8")
        etc = self.root / "etc/asterisk"
        self._resolve_own_hostname()
        changed: set[str] = set()
        for name, text in files.items():
            target = etc / name
            if target.exists() and target.read_text(encoding="utf-8") == text:
                continue
            target.write_text(text, encoding="utf-8")
            target.chmod(0o640)
            changed.add(name)
        if not (etc / ROUTES_INCLUDE_FILE).exists():
            # extensions.conf includes the fail-safe routes, which the service rewrites whenever the routing table
            # changes: until it first does, Asterisk starts with the default table's routes.
            write_dialplan_include(etc, default_table())
            changed.add(ROUTES_INCLUDE_FILE)
        return changed

    def _cdr_url(self) -> str:
        url = self._settings.cdr_database_url
        if url is None:
            raise LocalAsteriskError("NTPD112_CDR_DATABASE_URL must be set (run `ntpd112 setup`)")
        return url.get_secret_value().replace("postgresql+asyncpg://", "postgresql://", 1)

    def _cdr_database_name(self) -> str:
        return urlsplit(self._cdr_url()).path.lstrip("/")

    def _render_cdr_pgsql(self) -> str:
        parts = urlsplit(self._cdr_url())
        return "\n".join(
            [
                "; Asterisk writes every call leg here, with or without the service: the source for reconciliation.",
                "[global]",
                f"hostname={parts.hostname}",
                f"port={parts.port or 5432}",
                f"dbname={parts.path.lstrip('/')}",
                f"user={unquote(parts.username or '')}",
                f"password={unquote(parts.password or '')}",
                "appname=asterisk",
                "encoding=UTF8",
                "table=asterisk_cdr",
                "timezone=UTC",
                "",
            ]
        )

    def _resolve_own_hostname(self) -> None:
        """Asterisk looks up its own host name to pick a media address; when that fails it resolves
        A.ROOT-SERVERS.NET instead, a DNS query off this machine. The chroot's hosts file answers it locally."""
        hosts = self.root / "etc/hosts"
        hostname = socket.gethostname()
        text = hosts.read_text(encoding="utf-8") if hosts.exists() else ""
        if hostname not in text.split():
            hosts.write_text(text + f"127.0.1.1 {hostname}\n", encoding="utf-8")

    def install_prompts(self) -> None:
        """Speak the Bahasa Indonesia prompts with espeak-ng and convert them to 8 kHz mono WAV for Asterisk.

        An admin's own recording `asterisk/prompts/NAME.wav` replaces the generated one.
        """
        target_dir = self.root / PROMPT_SOUNDS_SUBDIR
        target_dir.mkdir(parents=True, exist_ok=True)
        for text_file in sorted(PROMPTS_DIR.glob("*.txt")):
            text = text_file.read_text(encoding="utf-8").strip()
            recording = text_file.with_suffix(".wav")
            source_id = hashlib.sha256(recording.read_bytes() if recording.exists() else text.encode()).hexdigest()[:16]
            target = target_dir / f"{text_file.stem}.wav"
            stamp = target.with_suffix(".source")
            if target.exists() and stamp.exists() and stamp.read_text() == source_id:
                continue
            if recording.exists():
                to_asterisk_wav(recording, target)
            else:
                speak(text, target)
            stamp.write_text(source_id)
        hold_dir = target_dir / "hold"
        hold_dir.mkdir(exist_ok=True)
        for position, name in enumerate(HOLD_MUSIC_PROMPTS, 1):
            shutil.copyfile(target_dir / f"{name}.wav", hold_dir / f"{position:02d}-{name}.wav")

    # -- process control ----------------------------------------------------------------------------------

    def _cli(self, command: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cli(self, command: str) -> str:
        result = self._cli(command)
        if result.returncode != 0:
            raise LocalAsteriskError(f"asterisk -rx {command!r} failed: {result.stderr.strip() or result.stdout}")
        return result.stdout

    def _pid(self) -> int | None:
        # Not var/run: it is an absolute symlink to /run, which from outside the chroot means the host's /run.
        pid_file = self.root / "run/asterisk/asterisk.pid"
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def status(self) -> LocalAsteriskStatus:
        if not self.installed:
            return LocalAsteriskStatus(False, None, None)
        pid = self._pid()
        if pid is None:
            return LocalAsteriskStatus(False, None, None)
        result = self._cli("core show version", timeout=5)
        version = result.stdout.strip() if result.returncode == 0 else None
        return LocalAsteriskStatus(result.returncode == 0, pid, version)

    def start(self, timeout: float = 60) -> None:
        """Start Asterisk if it is not running; restart it if its configuration changed (reload the CDR module when
        only the CDR target changed). Callers hold `local_asterisk_lock()`."""
        self.ensure_installed()
        changed = self._write_config()
        self.install_prompts()
        if self.status().running:
            if not changed:
                return
            if changed <= RELOADABLE.keys():
                for name in sorted(changed):
                    self.cli(RELOADABLE[name])
                log.info("local asterisk reloaded", files=sorted(changed), cdr_database=self._cdr_database_name())
                return
            log.info("asterisk configuration changed: restarting local asterisk", files=sorted(changed))
            self.stop()
        log_dir = self.root / "var/log/asterisk"
        log_dir.mkdir(parents=True, exist_ok=True)
        # /var/run is a symlink to /run, whose asterisk directory systemd-tmpfiles would make; nobody does here.
        (self.root / "run/asterisk").mkdir(parents=True, exist_ok=True)
        with (log_dir / "console.log").open("ab") as console:
            # -f: no fork, so the process is ours (own session, survives our exit); -n: no colour codes in the log.
            subprocess.Popen(
                ["chroot", str(self.root), "/usr/sbin/asterisk", "-f", "-n"],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() is not None and self._cli("core waitfullybooted", timeout=timeout).returncode == 0:
                log.info("local asterisk started", pid=self._pid())
                return
            time.sleep(0.2)
        raise LocalAsteriskError(f"local asterisk did not start within {timeout:.0f} s; see {log_dir}/console.log")

    def stop(self, timeout: float = 20) -> None:
        pid = self._pid()
        if pid is None:
            return
        self._cli("core stop now", timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._pid() is None:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        log.warning("local asterisk did not stop in time; killed", pid=pid)
