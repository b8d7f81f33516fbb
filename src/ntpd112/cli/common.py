"""What every `ntpd112` subcommand shares: settings, failing with a message, a database for one command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from ntpd112.config import Settings, SettingsError, load_settings
from ntpd112.logs import configure_logging

T = TypeVar("T")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"ntpd112: {message}", err=True)
    sys.exit(code)


def cli_settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        fail(str(error))
        raise  # unreachable; keeps mypy sure `settings` is bound
    configure_logging(settings.log_format, settings.log_level)
    return settings


def with_database(settings: Settings, use: Callable[[Any], Awaitable[T]]) -> T:
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
        fail(f"database unreachable: {error}", 1)
        raise


def with_repository(settings: Settings, use: Callable[[Any], Awaitable[T]]) -> T:
    from ntpd112.store.repo import Repository

    return with_database(settings, lambda database: use(Repository(database)))
