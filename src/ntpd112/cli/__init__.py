"""The `ntpd112` command: one module per group of subcommands, assembled here (the modules never import this one)."""

from __future__ import annotations

import click

from ntpd112.cli import accounts, asterisk, calls, dispatch, geodata, loadtest, openapi, operators, routes, service


@click.group(help="ntpd112: call handling for Indonesia's single emergency number 112.")
def main() -> None:
    pass


for command in (
    service.run,
    service.migrate,
    service.setup,
    calls.calls,
    accounts.users,
    accounts.tokens,
    accounts.audit,
    asterisk.asterisk,
    routes.routes,
    routes.incidents,
    geodata.cells,
    geodata.areas,
    operators.operators,
    operators.callbacks,
    dispatch.dispatch,
    loadtest.loadtest,
    openapi.openapi,
):
    main.add_command(command)
