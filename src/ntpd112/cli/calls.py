"""`ntpd112 calls ...`: recent calls with their timelines."""

from __future__ import annotations

import json
import uuid

import click

from ntpd112.cli.common import cli_settings, fail, with_repository


@click.group(help="Calls and their timelines.")
def calls() -> None:
    pass


@calls.command("list", help="The most recent calls.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def calls_list(limit: int, as_json: bool) -> None:
    settings = cli_settings()
    rows = with_repository(settings, lambda repo: repo.list_calls(limit))
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
    settings = cli_settings()
    call = with_repository(settings, lambda repo: repo.get_call(call_id))
    if call is None:
        fail(f"no call with id {call_id}", 1)
        return
    if as_json:
        click.echo(call.model_dump_json(indent=2))
        return
    for name, value in call.model_dump(exclude={"timeline", "fixes", "history", "best_location", "area"}).items():
        click.echo(f"{name:20} {value if value is not None else '-'}")
    from ntpd112.cli.geodata import echo_location_and_history

    echo_location_and_history(call)
    click.echo("timeline:")
    for event in call.timeline:
        data = json.dumps(event.data, ensure_ascii=False) if event.data else ""
        click.echo(f"  {event.at.isoformat(timespec='milliseconds')}  {event.type:16} {data}")
