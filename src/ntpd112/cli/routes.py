"""`ntpd112 routes ...` and `ntpd112 incidents ...`: routing tables and incidents from the command line.

Writes go to PostgreSQL like the API's; every running service hears of a new routing table version by NOTIFY and
switches to it without a restart.
"""

from __future__ import annotations

import getpass
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import IO, Any, TypeVar

import click
from pydantic import ValidationError

from ntpd112.cli.common import cli_settings, fail, with_database
from ntpd112.dispatch.incidents import IncidentChange, IncidentService, UnknownCategory
from ntpd112.routing.contacts_csv import MAX_CSV_BYTES, ContactsCsvError, apply_contacts, parse_contacts
from ntpd112.routing.diff import diff
from ntpd112.routing.matching import explain
from ntpd112.routing.tables import RoutingTable, RoutingTableError
from ntpd112.routing.validation import load_table
from ntpd112.store.db import Database
from ntpd112.store.incidents import CallNotFound, IncidentRepository, IncidentView
from ntpd112.store.routing_versions import (
    NoRoutingTable,
    RoutingVersionRepository,
    StaleVersion,
    StoredTable,
    UnknownVersion,
)

T = TypeVar("T")

# What the CLI reports as a failed command (exit 1) instead of a stack trace.
_EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    UnknownVersion,
    NoRoutingTable,
    CallNotFound,
    UnknownCategory,
    StaleVersion,
)


def _default_author() -> str:
    return f"cli:{getpass.getuser()}"[:80]


def _refuse_table(error: RoutingTableError) -> None:
    click.echo("ntpd112: invalid routing table; nothing changed:", err=True)
    for issue in error.issues:
        click.echo(f"  {issue}", err=True)
    sys.exit(1)


def _run(use: Callable[[Database], Awaitable[T]]) -> T:
    """Run `use` against the database; expected failures end the command with exit code 1 and one line."""
    try:
        return with_database(cli_settings(), use)
    except RoutingTableError as error:
        _refuse_table(error)
        raise
    except _EXPECTED_ERRORS as error:
        fail(str(error), 1)
        raise


def _read_table(source: IO[str]) -> RoutingTable:
    try:
        return load_table(source.read())
    except RoutingTableError as error:
        _refuse_table(error)
        raise


def _print_stored(stored: StoredTable, previous: RoutingTable | None) -> None:
    info = stored.info
    click.echo(f"routing table version {info.version} stored by {info.author} ({info.fingerprint[:12]})")
    changes = diff(previous, stored.table) if previous is not None else ["(first version)"]
    for line in changes:
        click.echo(f"  {line}")


def _parse_at(_: click.Context, __: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected ISO 8601, for example 2026-11-23T21:30 or 2026-11-23T21:30+07:00") from None


# -- routes -------------------------------------------------------------------------------------------------


@click.group(help="Routing tables: versions, validation, explanation, restore.")
def routes() -> None:
    pass


@routes.command("list", help="Every version, newest first; the first one is in force.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def routes_list(as_json: bool) -> None:
    versions = _run(lambda database: RoutingVersionRepository(database).list_versions())
    if as_json:
        click.echo(json.dumps([v.model_dump(mode="json") for v in versions], indent=2))
        return
    click.echo(f"{'VERSION':>7}  {'CREATED (UTC)':19}  {'AUTHOR':20} {'RESTORED':8} {'SHA256':12}  COMMENT")
    for v in versions:
        restored = str(v.restored_from_version) if v.restored_from_version else "-"
        created = v.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"{v.version:>7}  {created:19}  {v.author[:20]:20} {restored:8} {v.fingerprint[:12]:12}  {v.comment}"
        )


async def _stored(database: Database, version: int | None) -> StoredTable:
    versions = RoutingVersionRepository(database)
    if version is not None:
        return await versions.get(version)
    current = await versions.current()
    if current is None:
        raise NoRoutingTable("no routing table in the database yet; start the service once to seed it")
    return current


@routes.command("show", help="One version (default: the one in force): its rules and chains.")
@click.argument("version", required=False, type=click.IntRange(1))
def routes_show(version: int | None) -> None:
    stored = _run(lambda database: _stored(database, version))
    info, table = stored.info, stored.table
    click.echo(f"version {info.version}, {info.created_at.isoformat(timespec='seconds')} by {info.author}")
    if info.comment:
        click.echo(f"comment: {info.comment}")
    if info.restored_from_version:
        click.echo(f"restored from version {info.restored_from_version}")
    click.echo(f"timezone {table.timezone}; {len(table.agencies)} agencies, {len(table.targets)} targets")
    for rule in table.rules:
        chain = " > ".join(step.target for step in rule.chain) + (f" > then {rule.then}" if rule.then else "")
        click.echo(
            f"  {rule.id}: {', '.join(rule.categories)} | areas {', '.join(rule.areas)} | "
            f"{rule.describe_windows()} | priority {rule.priority} | {chain}"
        )
    click.echo(f"  default: {' > '.join(step.target for step in table.default_chain)}")


def _write_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--comment", default="", help="Why (kept with the version).")(command)
    return click.option("--author", default=_default_author, help="Who (default: cli:<user>).")(command)


@routes.command("set", help="Store FILE (JSON; - for stdin) as the next version, if it is valid as a whole.")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@_write_options
def routes_set(source: IO[str], comment: str, author: str) -> None:
    table = _read_table(source)

    async def store(database: Database) -> tuple[StoredTable, RoutingTable | None]:
        versions = RoutingVersionRepository(database)
        previous = await versions.current()
        return await versions.append(table, author, comment), previous.table if previous else None

    stored, previous = _run(store)
    _print_stored(stored, previous)


routes.add_command(routes_set, "import")


@routes.command("export", help="Write a version (default: the one in force) as JSON to FILE or stdout.")
@click.option("--version", type=click.IntRange(1), help="Version to export.")
@click.argument("target", required=False, type=click.File("w", encoding="utf-8"), default="-")
def routes_export(version: int | None, target: IO[str]) -> None:
    stored = _run(lambda database: _stored(database, version))
    target.write(stored.table.model_dump_json(indent=2) + "\n")


@routes.command("validate", help="Check FILE (JSON; - for stdin) without storing it. Exit 1 with every problem.")
@click.argument("source", type=click.File("r", encoding="utf-8"))
def routes_validate(source: IO[str]) -> None:
    table = _read_table(source)
    click.echo(f"valid: {len(table.rules)} rules, {len(table.targets)} targets, {len(table.categories)} categories")


@routes.command("explain", help="What would happen to a call of CATEGORY from AREA at a time.")
@click.option("--category", required=True)
@click.option("--area", default=None, help="Kecamatan code or name (default: unknown).")
@click.option("--at", callback=_parse_at, help="ISO time; without offset: local time of the table. Default: now.")
@click.option("--version", type=click.IntRange(1), help="Version to ask (default: the one in force).")
def routes_explain(category: str, area: str | None, at: datetime, version: int | None) -> None:
    stored = _run(lambda database: _stored(database, version))
    click.echo(explain(stored.table, category, area, at))


@routes.command("restore", help="Store the content of VERSION as the next version.")
@click.argument("version", type=click.IntRange(1))
@_write_options
def routes_restore(version: int, comment: str, author: str) -> None:
    async def restore(database: Database) -> tuple[StoredTable, RoutingTable]:
        versions = RoutingVersionRepository(database)
        previous = await versions.current_table()
        return await versions.restore(version, author, comment), previous

    stored, previous = _run(restore)
    _print_stored(stored, previous)


@routes.command("diff", help="What changed from version A to version B.")
@click.argument("old", type=click.IntRange(1))
@click.argument("new", type=click.IntRange(1))
def routes_diff(old: int, new: int) -> None:
    async def tables(database: Database) -> tuple[StoredTable, StoredTable]:
        versions = RoutingVersionRepository(database)
        return await versions.get(old), await versions.get(new)

    before, after = _run(tables)
    changes = diff(before.table, after.table)
    click.echo("\n".join(changes) if changes else "no differences")


@routes.command(
    "import-contacts",
    help="Store the escalation contacts of FILE (CSV: type,agency,kecamatan,name,phone; docs/TICKETS.md) as the "
    "next version. Every row is checked; one bad row and nothing is stored.",
)
@click.argument("source", type=click.File("rb"))
@_write_options
def routes_import_contacts(source: IO[bytes], comment: str, author: str) -> None:
    try:
        rows = parse_contacts(source.read(MAX_CSV_BYTES + 1))
    except ContactsCsvError as error:
        click.echo("ntpd112: invalid contacts file; nothing changed:", err=True)
        for issue in error.issues:
            click.echo(f"  {issue}", err=True)
        sys.exit(1)

    async def store(database: Database) -> tuple[StoredTable, RoutingTable]:
        versions = RoutingVersionRepository(database)
        previous = await versions.current_table()
        edited = apply_contacts(previous, rows)
        return await versions.append(edited, author, comment or "import contacts (CSV)", based_on=previous.version), (
            previous
        )

    try:
        stored, previous = _run(store)
    except ContactsCsvError as error:  # an agency the table does not know
        click.echo("ntpd112: invalid contacts file; nothing changed:", err=True)
        for issue in error.issues:
            click.echo(f"  {issue}", err=True)
        sys.exit(1)
    _print_stored(stored, previous)


# -- incidents ----------------------------------------------------------------------------------------------


def _incidents(database: Database) -> IncidentService:
    # Outside the service the table in force is the newest version in the database.
    return IncidentService(IncidentRepository(database), RoutingVersionRepository(database))


def _print_incident(incident: IncidentView, as_json: bool) -> None:
    if as_json:
        click.echo(incident.model_dump_json(indent=2))
        return
    for name, value in incident.model_dump().items():
        click.echo(f"{name:12} {value if value is not None else '-'}")


@click.group(help="Incidents: what happened on a call, as the operator classified it.")
def incidents() -> None:
    pass


@incidents.command("set", help="Create or change the incident of CALL_ID; options left out keep their value.")
@click.argument("call_id", type=click.UUID)
@click.option("--category", required=True, help="A category (or call outcome) of the routing table in force.")
@click.option("--severity", type=click.Choice(["critical", "high", "medium", "low"]))
@click.option("--address", help="Address or landmark.")
@click.option("--description")
@click.option("--area", help="Kecamatan code or name.")
@click.option("--lat", type=click.FloatRange(-90, 90))
@click.option("--lon", type=click.FloatRange(-180, 180))
@click.option("--status", type=click.Choice(["open", "closed"]))
@click.option("--author", default=_default_author, help="Who (default: cli:<user>).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def incidents_set(call_id: uuid.UUID, author: str, as_json: bool, **options: Any) -> None:
    try:
        change = IncidentChange.model_validate({k: v for k, v in options.items() if v is not None})
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'incident'}: {e['msg']}" for e in error.errors()), 1)
        return
    incident = _run(lambda database: _incidents(database).set(call_id, change, author))
    _print_incident(incident, as_json)


@incidents.command("show", help="The incident of CALL_ID.")
@click.argument("call_id", type=click.UUID)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def incidents_show(call_id: uuid.UUID, as_json: bool) -> None:
    incident = _run(lambda database: _incidents(database).get(call_id))
    if incident is None:
        fail(f"call {call_id} has no incident yet", 1)
        return
    _print_incident(incident, as_json)
