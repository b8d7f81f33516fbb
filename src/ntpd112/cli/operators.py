"""`ntpd112 operators ...` and `ntpd112 callbacks ...`: the same services the REST API uses, run from the shell
against PostgreSQL and Asterisk's AMI directly (they work while the service itself is down)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError

from ntpd112.backoff import Backoff
from ntpd112.cli.common import cli_settings, fail
from ntpd112.pbx.ami import AmiClient
from ntpd112.pbx.asterisk_config import TrunkConfigError, load_trunks
from ntpd112.queue.callbacks import CallbackService
from ntpd112.queue.operators import NewOperator, OperatorError, OperatorService
from ntpd112.store.db import Database
from ntpd112.store.journal import Journal

T = TypeVar("T")
AMI_CONNECT_SECONDS = 5.0


class _Room:
    def __init__(self, operators: OperatorService, callbacks: CallbackService) -> None:
        self.operators = operators
        self.callbacks = callbacks


def _run(use: Callable[[_Room], Awaitable[T]]) -> T:
    settings = cli_settings()
    try:
        # Callbacks dial through the call's trunk, in the number format trunks.toml gives it.
        trunks = load_trunks()
    except TrunkConfigError as error:
        fail(str(error), 2)
        raise

    async def run() -> T:
        database = Database(settings.database_url.get_secret_value())
        ami = AmiClient.from_settings(settings)
        journal = Journal(database, settings.spool_dir, settings.journal_max_in_memory, Backoff(0.5, 5))
        await database.start()
        await journal.start()
        await ami.start()
        try:
            async with asyncio.timeout(AMI_CONNECT_SECONDS):
                while not ami.connected:  # noqa: ASYNC110 - a one-off wait in a command-line tool
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pass  # actions that need AMI report it themselves; listing works without
        try:
            return await use(_Room(OperatorService(database, ami), CallbackService(database, ami, journal, trunks)))
        finally:
            await ami.stop()
            await journal.stop()
            await database.stop()

    try:
        return asyncio.run(run())
    except OperatorError as error:
        fail(f"{error.error_id}: {error.message}", 1)
        raise


def _new_operator(data: dict[str, Any]) -> NewOperator:
    try:
        return NewOperator.model_validate(data)
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()), 2)
        raise


def _show(value: BaseModel | list[Any], as_json: bool) -> None:
    if as_json:
        data = [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for item in value if isinstance(value, list) else [value]:
        click.echo("  ".join(f"{k}={v}" for k, v in item.model_dump().items()))


@click.group(help="Operators, their SIP phones and their sessions in the queue.")
def operators() -> None:
    pass


@operators.command(
    "add", help="Add an operator (or supervisor) and create their SIP phone; prints the SIP password once."
)
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["operator", "supervisor"]), default="operator", show_default=True)
@click.option("--contact", default=None, help="Static SIP contact (sip:host:port) for a phone that does not register.")
@click.option("--json", "as_json", is_flag=True)
def operators_add(username: str, name: str, role: str, contact: str | None, as_json: bool) -> None:
    new = _new_operator({"username": username, "name": name, "role": role, "contact": contact})
    _show(_run(lambda room: room.operators.add(new)), as_json)


@operators.command("list", help="Operators and their state.")
@click.option("--json", "as_json", is_flag=True)
def operators_list(as_json: bool) -> None:
    _show(_run(lambda room: room.operators.list()), as_json)


@operators.command("remove", help="Remove an operator and their phone.")
@click.argument("username")
def operators_remove(username: str) -> None:
    _run(lambda room: room.operators.remove(username))
    click.echo(f"removed {username}")


@operators.command("login", help="Log an operator in: their phone joins the queue.")
@click.argument("username")
def operators_login(username: str) -> None:
    _show(_run(lambda room: room.operators.login(username)), False)


@operators.command("logout", help="Log an operator out of the queue.")
@click.argument("username")
def operators_logout(username: str) -> None:
    _show(_run(lambda room: room.operators.logout(username)), False)


@operators.command("pause", help="Pause an operator (not rung until resumed).")
@click.argument("username")
@click.option("--reason", type=click.Choice(["break", "training", "wrap-up", "meal", "other"]), required=True)
def operators_pause(username: str, reason: str) -> None:
    _show(_run(lambda room: room.operators.pause(username, reason)), False)  # type: ignore[arg-type]


@operators.command("resume", help="Resume a paused operator.")
@click.argument("username")
def operators_resume(username: str) -> None:
    _show(_run(lambda room: room.operators.resume(username)), False)


@click.group(help="The callback list: callers who hung up before an operator answered.")
def callbacks() -> None:
    pass


@callbacks.command("list", help="Calls waiting for a callback (--all: also finished ones).")
@click.option("--all", "include_done", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
def callbacks_list(include_done: bool, as_json: bool) -> None:
    _show(_run(lambda room: room.callbacks.list(include_done)), as_json)


@callbacks.command("take", help="Call the caller back: rings OPERATOR's phone, then the caller, and bridges them.")
@click.argument("call_id", type=click.UUID)
@click.option("--operator", required=True)
def callbacks_take(call_id: uuid.UUID, operator: str) -> None:
    _show(_run(lambda room: room.callbacks.take(call_id, operator)), False)


@callbacks.command("request", help="Put a call on the callback list (a silent call, a call cut off).")
@click.argument("call_id", type=click.UUID)
@click.option("--reason", type=click.Choice(["silent", "operator"]), default="silent", show_default=True)
def callbacks_request(call_id: uuid.UUID, reason: str) -> None:
    _run(lambda room: room.callbacks.request(call_id, reason, "cli"))  # type: ignore[arg-type]
    click.echo(f"{call_id} is on the callback list")
