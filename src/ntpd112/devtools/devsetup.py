"""Local set-up for development and tests: generated secrets in `.env`, the PostgreSQL role and databases.

Nothing here runs in production; there the admin provides settings and a database.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from ntpd112.config import DEFAULT_STATE_DIR, LocalAsteriskSettings
from ntpd112.devtools.local_asterisk import PROMPT_SOUNDS_SUBDIR
from ntpd112.logs import get_logger

log = get_logger(__name__)

DB_ROLE = "ntpd112"
DB_NAMES = ("ntpd112", "ntpd112_test")
MACHINE_CREDENTIALS = DEFAULT_STATE_DIR / "credentials.env"


def _read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return values


def _append_missing(path: Path, values: dict[str, str], wanted: dict[str, str]) -> dict[str, str]:
    missing = {key: value for key, value in wanted.items() if key not in values}
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as env_file:
            env_file.write("".join(f"{key}={value}\n" for key, value in missing.items()))
        path.chmod(0o600)
        log.info("generated local credentials", file=str(path), settings=sorted(missing))
    return values | missing


def ensure_env_file(path: Path, machine_file: Path = MACHINE_CREDENTIALS) -> dict[str, str]:
    """Create or complete `.env` with generated credentials; existing values are kept as they are.

    The credentials are generated once per machine (`machine_file`) and copied into each checkout's `.env`: the
    local Asterisk and the PostgreSQL role are shared by every clone on the machine, so their secrets must be too.
    """
    machine_values = _read_env(machine_file)
    # Keep the role's password once it exists: every URL to the local databases must carry the same one.
    existing_url = machine_values.get("NTPD112_DATABASE_URL")
    db_password = urlsplit(existing_url).password if existing_url else None
    db_password = db_password or secrets.token_urlsafe(24)
    generated = {
        "NTPD112_ARI_PASSWORD": secrets.token_urlsafe(24),
        "NTPD112_AMI_PASSWORD": secrets.token_urlsafe(24),
        "NTPD112_DATABASE_URL": f"postgresql+asyncpg://{DB_ROLE}:{db_password}@127.0.0.1:5432/{DB_NAMES[0]}",
        "NTPD112_TEST_DATABASE_URL": f"postgresql+asyncpg://{DB_ROLE}:{db_password}@127.0.0.1:5432/{DB_NAMES[1]}",
        # The local Asterisk writes its CDRs to the development database, which `make run` reconciles from; an
        # integration test session points them at the test database while it runs (tests/integration/conftest.py).
        "NTPD112_CDR_DATABASE_URL": f"postgresql+asyncpg://{DB_ROLE}:{db_password}@127.0.0.1:5432/{DB_NAMES[0]}",
    }
    machine_values = _append_missing(machine_file, machine_values, generated)
    values = _append_missing(path, _read_env(path), machine_values)
    # The service writes the fail-safe routes include into the local Asterisk's configuration directory and serves
    # the recordings its MixMonitor writes; it speaks tickets' phone notifications into its sounds directory.
    asterisk_root = values.get("NTPD112_ASTERISK_ROOT", str(LocalAsteriskSettings().asterisk_root))
    local = {
        "NTPD112_ASTERISK_CONFIG_DIR": f"{asterisk_root}/etc/asterisk",
        "NTPD112_RECORDINGS_DIR": f"{asterisk_root}/var/spool/asterisk/monitor",
        "NTPD112_QUEUE_LOG_PATH": f"{asterisk_root}/var/log/asterisk/queue_log",
        "NTPD112_ASTERISK_SOUNDS_DIR": f"{asterisk_root}/{PROMPT_SOUNDS_SUBDIR}",
    }
    return _append_missing(path, values, local)


def _psql_as_superuser(sql: str) -> str:
    # Peer authentication as the postgres system user works both where the machine's server trusts every local
    # connection and on a freshly installed Debian server that asks passwords over TCP.
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def ensure_databases(database_url: str) -> None:
    """Make the role (with the password from the URL) and the databases, when the database is on this machine."""
    url = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    if url.hostname not in ("127.0.0.1", "localhost", "::1") or url.username != DB_ROLE or not url.password:
        log.info("database is not the local development one; leaving it alone")
        return
    password = url.password.replace("'", "''")
    # Names are constants of this module and the password has its quotes doubled: nothing user-supplied is spliced.
    exists = _psql_as_superuser(f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_ROLE}'").strip() == "1"  # noqa: S608
    verb = "ALTER" if exists else "CREATE"
    _psql_as_superuser(f"{verb} ROLE {DB_ROLE} LOGIN CREATEDB PASSWORD '{password}'")
    for name in DB_NAMES:
        if _psql_as_superuser(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() != "1":  # noqa: S608
            _psql_as_superuser(f"CREATE DATABASE {name} OWNER {DB_ROLE}")
            log.info("created database", database=name)
