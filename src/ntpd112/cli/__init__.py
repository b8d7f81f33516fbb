"""The `ntpd112` command: one module per group of subcommands, assembled here (the modules never import this one).

A subcommand's module is imported only when that subcommand runs: each module pulls in what its commands need
(SQLAlchemy, aiohttp, the service), and a command should not pay for all of them at start.
"""

from __future__ import annotations

import importlib

import click

# Command name -> "module:attribute" under ntpd112.cli.
_COMMANDS = {
    "run": "service:run",
    "migrate": "service:migrate",
    "setup": "service:setup",
    "calls": "calls:calls",
    "users": "accounts:users",
    "tokens": "accounts:tokens",
    "audit": "accounts:audit",
    "asterisk": "asterisk:asterisk",
    "routes": "routes:routes",
    "incidents": "routes:incidents",
    "cells": "geodata:cells",
    "areas": "geodata:areas",
    "operators": "operators:operators",
    "callbacks": "operators:callbacks",
    "dispatch": "dispatch:dispatch",
    "loadtest": "loadtest:loadtest",
    "openapi": "openapi:openapi",
    "report": "reports:report",
    "report-bench": "reports:report_bench",
    "webhooks": "webhooks:webhooks",
    "eido": "eido:eido",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return None
        module, attribute = _COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(f"ntpd112.cli.{module}"), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, help="ntpd112: call handling for Indonesia's single emergency number 112.")
def main() -> None:
    pass
