"""`ntpd112 webhooks ...`: the agencies' webhook secrets from the command line (the URL is in the routing table).

The secret is read from standard input (never an argument: arguments show in `ps` and shell histories) and is
never printed back. Writes go to PostgreSQL like the API's (PUT /api/agencies/{agency}/webhook-secret).
"""

from __future__ import annotations

import getpass
import re
import sys

import click

from ntpd112.cli.common import cli_settings, fail, with_database
from ntpd112.store.db import Database
from ntpd112.store.routing_versions import NoRoutingTable, RoutingVersionRepository
from ntpd112.store.webhooks import WebhookSecrets
from ntpd112.tickets.webhooks import SECRET_PATTERN


@click.group(help="Agency webhooks: the secrets their deliveries are signed with.")
def webhooks() -> None:
    pass


@webhooks.command("set-secret", help="Set AGENCY's webhook secret, read from standard input (one line).")
@click.argument("agency")
def set_secret(agency: str) -> None:
    secret = sys.stdin.readline().strip()
    if re.fullmatch(SECRET_PATTERN, secret) is None:
        fail("the secret must be 16 to 256 printable ASCII characters without spaces", 2)

    async def use(database: Database) -> str | None:
        """None when set, else why not."""
        try:
            table = await RoutingVersionRepository(database).current_table()
        except NoRoutingTable as error:
            return str(error)
        if table.agency(agency) is None:
            return f"no agency {agency!r} in the routing table in force"
        await WebhookSecrets(database).put(agency, secret, f"cli:{getpass.getuser()}")
        return None

    refused = with_database(cli_settings(), use)
    if refused is not None:
        fail(refused, 1)
    click.echo(f"webhook secret of {agency} set")


@webhooks.command("list", help="Agencies with a webhook secret set (the secrets are never shown).")
def list_secrets() -> None:
    async def use(database: Database) -> frozenset[str]:
        return await WebhookSecrets(database).agencies_with_secret()

    for agency in sorted(with_database(cli_settings(), use)):
        click.echo(agency)
