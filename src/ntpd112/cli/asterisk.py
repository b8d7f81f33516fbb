"""`ntpd112 asterisk ...`: the local Asterisk of development and tests, and the configuration ntpd112 ships."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ntpd112.cli.common import cli_settings, fail
from ntpd112.config import SettingsError, load_local_asterisk_settings
from ntpd112.logs import configure_logging


@click.group(help="The local Asterisk 22 used in development and tests, and the configuration ntpd112 ships.")
def asterisk() -> None:
    configure_logging("console")


def _local() -> Any:
    from ntpd112.devtools.local_asterisk import LocalAsterisk

    try:
        return LocalAsterisk(load_local_asterisk_settings())
    except SettingsError as error:
        fail(str(error))


def _exclusively() -> Any:
    from ntpd112.devtools.local_asterisk import local_asterisk_lock

    return local_asterisk_lock()


@asterisk.command("start", help="Provision (first time), configure and start the local Asterisk.")
def asterisk_start() -> None:
    with _exclusively():  # waits for integration tests or a load test of any checkout to finish
        _local().start()


@asterisk.command("stop", help="Stop the local Asterisk (after integration tests or a load test finish).")
def asterisk_stop() -> None:
    with _exclusively():
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
    from ntpd112.room.config import load_room

    settings = cli_settings()
    try:
        files = render_include_files(
            load_trunks(),
            load_room(),
            settings.ari_username,
            settings.ari_password.get_secret_value(),
            settings.ami_username,
            settings.ami_password.get_secret_value(),
            os.environ,
        )
    except TrunkConfigError as error:
        fail(str(error))
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        click.echo(directory / name)
