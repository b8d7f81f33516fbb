"""The `ntpd112` command."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ntpd112.config import Settings, SettingsError, load_local_asterisk_settings, load_settings
from ntpd112.logs import configure_logging
from ntpd112.paths import PROJECT_DIR

T = TypeVar("T")


ENV_FILE = Path(".env")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"ntpd112: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        _fail(str(error))
        raise  # unreachable; keeps mypy sure `settings` is bound
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _with_database(settings: Settings, use: Callable[[Any], Awaitable[T]]) -> T:
    """Run `use(database)` on a started Database; exit 1 when PostgreSQL is unreachable."""
    from ntpd112.store.db import Database

    async def run() -> T:
        database = Database(settings.database_url.get_secret_value())
        await database.start()
        try:
            return await use(database)
        finally:
            await database.stop()

    try:
        return asyncio.run(run())
    except OSError as error:
        _fail(f"database unreachable: {error}", 1)
        raise


def _with_repository(settings: Settings, use: Callable[[Any], Awaitable[T]]) -> T:
    from ntpd112.store.repo import Repository

    return _with_database(settings, lambda database: use(Repository(database)))


@click.group(help="ntpd112: call handling for Indonesia's single emergency number 112.")
def main() -> None:
    pass


def _banner(settings: Settings) -> str:
    local = load_local_asterisk_settings()
    sip = f"{local.sip_bind}:{local.sip_port}"
    return "\n".join(
        [
            "ntpd112 is starting:",
            f"  SIP (local Asterisk)  udp/tcp {sip}, trunks by source address (asterisk/trunks.toml)",
            f"  AMI                   {settings.ami_host}:{settings.ami_port}",
            f"  ARI                   {settings.ari_base_url}",
            f"  HTTP API              http://{settings.http_host}:{settings.http_port}  (/health, /metrics, /api)",
            "  place a test 112 call as a Telkomsel caller:",
            f"    sipp -sf sipp-scenarios/caller.xml -i 127.0.0.11 -p 5071 -s 112 -m 1 -d 3000"
            f" -key caller 081234567890 -key caller_name Budi {sip}",
            "  then: .venv/bin/ntpd112 calls list",
        ]
    )


@main.command(help="Run the service (ARI, AMI, database, HTTP API) until SIGINT/SIGTERM.")
def run() -> None:
    settings = _settings()
    from ntpd112.app import run_service

    click.echo(_banner(settings))
    asyncio.run(run_service(settings))


def migrate_database(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")


@main.command(help="Bring the database schema up to date (alembic upgrade head).")
def migrate() -> None:
    settings = _settings()
    migrate_database(settings.database_url.get_secret_value())
    click.echo("database schema is up to date")


@main.command(help="Local development set-up: credentials in .env, databases, migrations, the local Asterisk.")
def setup() -> None:
    from ntpd112.devsetup import ensure_databases, ensure_env_file
    from ntpd112.pbx.local import LocalAsterisk

    configure_logging("console")
    values = ensure_env_file(ENV_FILE)
    ensure_databases(values["NTPD112_DATABASE_URL"])
    migrate_database(values["NTPD112_DATABASE_URL"])
    LocalAsterisk(load_local_asterisk_settings()).start()


# -- calls ------------------------------------------------------------------------------------------------


@main.group(help="Calls and their timelines.")
def calls() -> None:
    pass


@calls.command("list", help="The most recent calls.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def calls_list(limit: int, as_json: bool) -> None:
    settings = _settings()
    rows = _with_repository(settings, lambda repo: repo.list_calls(limit))
    if as_json:
        click.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
        return
    click.echo(f"{'OFFERED (UTC)':20} {'TRUNK':10} {'CALLER':16} {'ANSWERED':8} {'ENDED':8} {'CAUSE':5} ID")
    for row in rows:
        offered = row.offered_at.strftime("%Y-%m-%d %H:%M:%S") if row.offered_at else "-"
        caller = row.caller_number or row.caller_number_raw or row.caller_presentation or "-"
        click.echo(
            f"{offered:20} {row.trunk or '-':10} {caller:16} {'yes' if row.answered_at else 'no':8} "
            f"{'yes' if row.ended_at else 'no':8} {row.hangup_cause if row.hangup_cause is not None else '-':<5} "
            f"{row.id}"
        )


@calls.command("show", help="One call with its timeline.")
@click.argument("call_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def calls_show(call_id: uuid.UUID, as_json: bool) -> None:
    settings = _settings()
    call = _with_repository(settings, lambda repo: repo.get_call(call_id))
    if call is None:
        _fail(f"no call with id {call_id}", 1)
        return
    if as_json:
        click.echo(call.model_dump_json(indent=2))
        return
    for name, value in call.model_dump(exclude={"timeline", "fixes", "history", "best_location", "area"}).items():
        click.echo(f"{name:20} {value if value is not None else '-'}")
    from ntpd112.cli_intake import echo_location_and_history

    echo_location_and_history(call)
    click.echo("timeline:")
    for event in call.timeline:
        data = json.dumps(event.data, ensure_ascii=False) if event.data else ""
        click.echo(f"  {event.at.isoformat(timespec='milliseconds')}  {event.type:16} {data}")


# -- tokens -----------------------------------------------------------------------------------------------


@main.group(help="API tokens.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create an API token; it is printed once and only its hash is stored.")
@click.option("--role", required=True, type=click.Choice(["operator", "supervisor", "admin"]))
@click.option("--name", default="", help="Who or what the token is for.")
def tokens_create(role: str, name: str) -> None:
    settings = _settings()
    token = _with_repository(settings, lambda repo: repo.create_token(name or role, role))
    click.echo(token)


# -- the local Asterisk -----------------------------------------------------------------------------------


@main.group(help="The local Asterisk 22 used in development and tests, and the configuration ntpd112 ships.")
def asterisk() -> None:
    configure_logging("console")


def _local() -> Any:
    from ntpd112.pbx.local import LocalAsterisk

    try:
        return LocalAsterisk(load_local_asterisk_settings())
    except SettingsError as error:
        _fail(str(error))


@asterisk.command("start", help="Provision (first time), configure and start the local Asterisk.")
def asterisk_start() -> None:
    _local().start()


@asterisk.command("stop", help="Stop the local Asterisk.")
def asterisk_stop() -> None:
    _local().stop()


@asterisk.command("status", help="Is the local Asterisk running? Exit code 0 if so, 3 if not.")
def asterisk_status() -> None:
    status = _local().status()
    click.echo(f"running (pid {status.pid}): {status.version}" if status.running else "not running")
    sys.exit(0 if status.running else 3)


@asterisk.command("render", help="Write the includable configuration files into DIRECTORY (for /etc/asterisk).")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def asterisk_render(directory: Path) -> None:
    from ntpd112.pbx.asterisk_config import TrunkConfigError, load_trunks, render_include_files
    from ntpd112.queue.room import load_room

    settings = _settings()
    try:
        table = load_trunks()
    except TrunkConfigError as error:
        _fail(str(error))
        return
    files = render_include_files(
        table,
        load_room(),
        settings.ari_username,
        settings.ari_password.get_secret_value(),
        settings.ami_username,
        settings.ami_password.get_secret_value(),
    )
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        click.echo(directory / name)


import ntpd112.cli_dispatch  # noqa: E402  registers `routes` and `incidents` on `main`
import ntpd112.cli_intake  # noqa: E402  registers `cells` and `areas` on `main`
import ntpd112.cli_live_dispatch  # noqa: E402  registers `dispatch` on `main`
import ntpd112.cli_operators  # noqa: E402  registers `operators` and `callbacks` on `main`
import ntpd112.loadtest.command  # noqa: E402, F401  registers `loadtest` on `main`
