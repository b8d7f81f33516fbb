"""`ntpd112 users ...`, `ntpd112 tokens ...` and `ntpd112 audit`: accounts, personal tokens and the audit trail,
straight against PostgreSQL (they work while the service is down). Passwords never come from the command line's
arguments (visible to every user of the machine in the process list): they are generated and printed once, or
read from a prompt or stdin. What these commands change is on the audit trail as `cli:<system user>`."""

from __future__ import annotations

import getpass
import json
import secrets
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError

from ntpd112.access.expiry import TOKEN_DAYS_DEFAULT, token_expires_at
from ntpd112.access.passwords import hash_password, password_problems
from ntpd112.access.roles import ROLES
from ntpd112.cli.common import cli_settings, fail, with_database
from ntpd112.clock import utcnow
from ntpd112.errors import RefusedError
from ntpd112.store.audit import AuditQuery, AuditRecord, AuditTrail
from ntpd112.store.db import Database
from ntpd112.store.routing_versions import RoutingVersionRepository
from ntpd112.store.tokens import Tokens
from ntpd112.store.users import NewUser, Users

T = TypeVar("T")
PASSWORD_SOURCES = ("generate", "prompt", "stdin")


def _run(use: Callable[[Database], Awaitable[T]]) -> T:
    try:
        return with_database(cli_settings(), use)
    except RefusedError as error:
        fail(f"{error.error_id}: {error.message}", 1)
        raise


def _cli_actor() -> str:
    return f"cli:{getpass.getuser()}"[:80]


async def _audit(database: Database, action: str, target: str) -> None:
    entry = AuditRecord(username=_cli_actor(), via="cli", action=action, target=target, status=200, outcome="ok")
    await AuditTrail(database).record(entry)


def _password(source: str, username: str, full_name: str) -> tuple[str, bool]:
    """The password and whether it was generated (then it is printed once)."""
    if source == "generate":
        while True:  # a random 20 characters practically always passes; the loop makes it certain
            password = secrets.token_urlsafe(15)
            if not password_problems(password, username, full_name):
                return password, True
    if source == "prompt":
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    problems = password_problems(password, username, full_name)
    if problems:
        fail("weak_password: " + "; ".join(problems), 2)
    return password, False


def _show(rows: list[BaseModel], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([row.model_dump(mode="json") for row in rows], indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo("  ".join(f"{k}={v}" for k, v in row.model_dump().items()))


password_option = click.option(
    "--password-from",
    "password_source",
    type=click.Choice(PASSWORD_SOURCES),
    default="generate",
    show_default=True,
    help="generate: print a random password once; prompt: ask twice; stdin: read one line.",
)


@click.group(help="People who use the API and the console: roles, passwords, active flag.")
def users() -> None:
    pass


@users.command("add", help="Add a user; they must change the password at first sign-in.")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several.")
@click.option("--agency", default=None, help="The agency (routing table id) an agency user is bound to.")
@password_option
def users_add(username: str, full_name: str, roles: tuple[str, ...], agency: str | None, password_source: str) -> None:
    try:
        new = NewUser.model_validate({"username": username, "full_name": full_name, "roles": roles, "agency": agency})
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'user'}: {e['msg']}" for e in error.errors()), 2)
        raise
    password, generated = _password(password_source, new.username, new.full_name)

    async def add(database: Database) -> None:
        if new.agency is not None:
            await _check_agency(database, new.agency)
        await Users(database).add(new, hash_password(password))
        await _audit(database, "users add", new.username)

    _run(add)
    click.echo(f"added {new.username}" + (f"; password (shown once): {password}" if generated else ""))


async def _check_agency(database: Database, agency: str) -> None:
    current = await RoutingVersionRepository(database).current()
    known = {a.id for a in current.table.agencies} if current else set()
    if agency not in known:
        raise RefusedError(422, "unknown_agency", f"no agency {agency} in the routing table in force", sorted(known))


@users.command("list", help="Every user.")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    _show(list(_run(lambda database: Users(database).list())), as_json)


@users.command("disable", help="Disable a user: no sign-in; their sessions and tokens end now.")
@click.argument("username")
def users_disable(username: str) -> None:
    async def disable(database: Database) -> None:
        await Users(database).disable(username)
        await _audit(database, "users disable", username)

    _run(disable)
    click.echo(f"disabled {username}")


@users.command("reset-password", help="Set a new password (changed at next sign-in); their sessions end.")
@click.argument("username")
@password_option
def users_reset_password(username: str, password_source: str) -> None:
    async def full_name(database: Database) -> str:
        user = await Users(database).get(username)
        if user is None:
            raise RefusedError(404, "user_not_found", f"no user {username}")
        return user.full_name

    password, generated = _password(password_source, username, _run(full_name))

    async def reset(database: Database) -> None:
        await Users(database).set_password(username, hash_password(password), must_change=True)
        await _audit(database, "users reset-password", username)

    _run(reset)
    click.echo(f"password of {username} reset" + (f"; new password (shown once): {password}" if generated else ""))


@click.group(help="Personal API tokens (for scripts and the CLI): named, owned by a user, expiring.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create a token of USER; it is printed once and only its hash is stored.")
@click.option("--user", "username", required=True)
@click.option("--name", required=True, help="What the token is for.")
@click.option("--days", default=TOKEN_DAYS_DEFAULT, show_default=True, type=click.IntRange(1))
def tokens_create(username: str, name: str, days: int) -> None:
    async def create(database: Database) -> str:
        user = await Users(database).get(username)
        if user is None or not user.active:
            raise RefusedError(404, "user_not_found", f"no active user {username}")
        created = await Tokens(database).create(user, name[:80], token_expires_at(utcnow(), days))
        await _audit(database, "tokens create", f"{username}/{created.id}")
        return created.token

    click.echo(_run(create))


@tokens.command("list", help="Tokens (revoked and expired ones too), of one user or everyone's.")
@click.option("--user", "username", default=None)
@click.option("--json", "as_json", is_flag=True)
def tokens_list(username: str | None, as_json: bool) -> None:
    async def listed(database: Database) -> list[Any]:
        rows = await Tokens(database).list()
        return [row for row in rows if username is None or row.username == username]

    _show(_run(listed), as_json)


@tokens.command("revoke", help="Revoke a token by its id.")
@click.argument("token_id", type=click.UUID)
def tokens_revoke(token_id: uuid.UUID) -> None:
    async def revoke(database: Database) -> None:
        if not await Tokens(database).revoke(token_id):
            raise RefusedError(404, "token_not_found", f"no live token {token_id}")
        await _audit(database, "tokens revoke", str(token_id))

    _run(revoke)
    click.echo(f"revoked {token_id}")


@click.command(help="The audit trail, newest first: sign-ins, sign-outs and every state-changing request.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]))
@click.option("--user", "username", default=None)
@click.option("--action", default=None, help='Exactly, e.g. "login" or "POST /api/operators".')
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True)
def audit(since: datetime | None, username: str | None, action: str | None, limit: int, as_json: bool) -> None:
    if since is not None and since.tzinfo is None:
        since = since.astimezone()  # the machine's local time, as the operator typed it
    query = AuditQuery(since=since, user=username, action=action, limit=limit)
    entries = _run(lambda database: AuditTrail(database).query(query))
    if as_json:
        _show(list(entries), True)
        return
    for entry in entries:
        click.echo(
            f"{entry.at.isoformat(timespec='seconds')}  {entry.username or '-':20} {','.join(entry.roles) or '-':18} "
            f"{entry.action:40} {entry.target or '-':40} {entry.status} {entry.outcome} {entry.source_address or '-'}"
        )
