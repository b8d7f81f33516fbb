"""`ntpd112 run`, `migrate` and `setup`: the service and its local development set-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import uvloop

from ntpd112.cli.common import cli_settings
from ntpd112.config import Settings, load_local_asterisk_settings
from ntpd112.logs import configure_logging
from ntpd112.paths import PROJECT_DIR

ENV_FILE = Path(".env")


def _http_line(settings: Settings) -> str:
    address = f"{settings.http_host}:{settings.http_port}"
    if settings.http_tls_cert_file is not None:
        return f"  HTTP API              https://{address}  (TLS; /health, /metrics, /api, /api/docs)"
    return (
        f"  HTTP API              http://{address}  (plain HTTP, no TLS: keep it on loopback or behind a TLS proxy;"
        " /health, /metrics, /api, /api/docs)"
    )


def _banner(settings: Settings) -> str:
    local = load_local_asterisk_settings()
    sip = f"{local.sip_bind}:{local.sip_port}"
    return "\n".join(
        [
            "ntpd112 is starting:",
            f"  SIP (local Asterisk)  udp/tcp {sip}, trunks by source address (asterisk/trunks.toml)",
            f"  AMI                   {settings.ami_host}:{settings.ami_port}",
            f"  ARI                   {settings.ari_base_url}",
            _http_line(settings),
            "  place a test 112 call as a Telkomsel caller:",
            f"    sipp -sf sipp-scenarios/caller.xml -i 127.0.0.11 -p 5071 -s 112 -m 1 -d 3000"
            f" -key caller 081234567890 -key caller_name Budi {sip}",
            "  then: .venv/bin/ntpd112 calls list",
        ]
    )


@click.command(help="Run the service (ARI, AMI, database, HTTP API) until SIGINT/SIGTERM.")
def run() -> None:
    settings = cli_settings()
    from ntpd112.app import run_service

    click.echo(_banner(settings))
    # uvloop: the same asyncio API with its loop and sockets in C; the service's CPU per call is mostly the loop's
    # own work (ARI, AMI, the database, the HTTP API), measured in docs/BENCHMARKS.md (issue 12, eighth slice).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run_service(settings))


def migrate_database(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")


@click.command(help="Bring the database schema up to date (alembic upgrade head).")
def migrate() -> None:
    settings = cli_settings()
    migrate_database(settings.database_url.get_secret_value())
    click.echo("database schema is up to date")


@click.command(help="Local development set-up: credentials in .env, databases, migrations, the local Asterisk.")
def setup() -> None:
    from ntpd112.devtools.devsetup import ensure_databases, ensure_env_file
    from ntpd112.devtools.local_asterisk import LocalAsterisk, local_asterisk_lock

    configure_logging("console")
    values = ensure_env_file(ENV_FILE)
    ensure_databases(values["NTPD112_DATABASE_URL"])
    migrate_database(values["NTPD112_DATABASE_URL"])
    with local_asterisk_lock():  # never restart the shared Asterisk under another checkout's running tests
        LocalAsterisk(load_local_asterisk_settings()).start()
