"""`ntpd112 dispatch CALL_ID ...`: dispatch on a live call, through the running service's HTTP API.

Unlike routes and incidents, dispatch acts on channels that only the running service holds, so the command asks
the service (`--url`, default the HTTP address of the settings) with an API token (`--token` or
NTPD112_API_TOKEN). A refusal prints the API's error id and message and exits 1.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import click

from ntpd112.cli.common import cli_settings, fail


async def _post(url: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        return response.status, await response.json(content_type=None)


@click.command(help="Dispatch CALL_ID (the operator is on the line with the caller), or complete, cancel or leave it.")
@click.argument("call_id", type=click.UUID)
@click.option("--mode", type=click.Choice(["blind", "attended", "conference"]), help="Start a dispatch.")
@click.option("--target", help="Ring only this target of the routing table.")
@click.option("--agency", help="Ring this agency's targets, in table order.")
@click.option("--category", help="Route as if the incident had this category.")
@click.option("--complete", "action", flag_value="complete", help="Attended: join the agency to the caller.")
@click.option("--cancel", "action", flag_value="cancel", help="Attended: back to the caller.")
@click.option("--leave", "action", flag_value="leave", help="Conference: the operator leaves.")
@click.option("--url", help="The service's HTTP API (default: from the settings).")
@click.option("--token", envvar="NTPD112_API_TOKEN", required=True, help="API token (or NTPD112_API_TOKEN).")
def dispatch(
    call_id: uuid.UUID,
    mode: str | None,
    target: str | None,
    agency: str | None,
    category: str | None,
    action: str | None,
    url: str | None,
    token: str,
) -> None:
    if (mode is None) == (action is None):
        fail("give --mode to dispatch, or one of --complete, --cancel, --leave", 2)
    if url is None:
        settings = cli_settings()
        url = f"http://{settings.http_host}:{settings.http_port}"
    path = f"{url.rstrip('/')}/api/calls/{call_id}/dispatch"
    if action is not None:
        path, body = f"{path}/{action}", {}
    else:
        fields = {"mode": mode, "target": target, "agency": agency, "category": category}
        body = {name: value for name, value in fields.items() if value is not None}
    try:
        status, answer = asyncio.run(_post(path, token, body))
    except (aiohttp.ClientError, TimeoutError) as error:
        fail(f"the service did not answer at {url}: {error}", 1)
        return
    if status >= 400:
        problem = answer.get("error", {}) if isinstance(answer, dict) else {}
        fail(f"{problem.get('id', status)}: {problem.get('message', answer)}", 1)
    click.echo(json.dumps(answer, indent=2))
