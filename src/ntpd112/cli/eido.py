"""`ntpd112 eido ...`: NENA EIDO documents from the command line, through the same service code as the API
(dispatch/eido.py). An import is on the audit trail as `cli:<system user>`; its tickets are notified like the API's
(webhook deliveries are queued; the running service sends them at its next look at the table)."""

from __future__ import annotations

import getpass
import json
import uuid
from typing import BinaryIO

import click
from pydantic import ValidationError

from ntpd112.cli.common import cli_settings, fail, with_database
from ntpd112.config import Settings
from ntpd112.dispatch.eido import EidoService
from ntpd112.dispatch.notify import TicketEvents
from ntpd112.dispatch.tickets import TicketService
from ntpd112.dispatch.webhooks import TicketNotifier
from ntpd112.store.audit import AuditRecord, AuditTrail
from ntpd112.store.db import Database
from ntpd112.store.eido import EidoRepository
from ntpd112.store.incidents import CallNotFound, IncidentRepository
from ntpd112.store.routing_versions import NoRoutingTable, RoutingVersionRepository
from ntpd112.store.tickets import TicketRepository, Who
from ntpd112.store.webhooks import WebhookDeliveries
from ntpd112.tickets.eido import EidoRefused
from ntpd112.tickets.eido_document import EidoDocument


def _service(database: Database, settings: Settings) -> EidoService:
    tables = RoutingVersionRepository(database)
    rows = TicketRepository(database)
    notifier = TicketEvents(
        [TicketNotifier(rows, WebhookDeliveries(database), tables, lambda: None, settings.eido_domain)]
    )
    tickets = TicketService(rows, IncidentRepository(database), tables, notifier)
    return EidoService(EidoRepository(database), tickets, tables, settings.eido_domain)


@click.group(help="NENA EIDO documents (JSON): export an incident with its tickets, import one.")
def eido() -> None:
    pass


@eido.command("export", help="Print the incident of call CALL_ID with its tickets as an EIDO document.")
@click.argument("call_id", type=click.UUID)
@click.option("--without-caller", is_flag=True, help="Leave the caller's number out (for sharing outside the room).")
def export(call_id: uuid.UUID, without_caller: bool) -> None:
    settings = cli_settings()

    async def use(database: Database) -> str:
        try:
            document = await _service(database, settings).export(call_id, include_caller=not without_caller)
        except (CallNotFound, NoRoutingTable) as error:
            return f"error: {error}"
        return "error: the call has no incident" if document is None else json.dumps(document.json_body(), indent=2)

    out = with_database(settings, use)
    if out.startswith("error: "):
        fail(out.removeprefix("error: "), 1)
    click.echo(out)


@eido.command("import", help="Import the EIDO document in FILE ('-': standard input): its incident and tickets.")
@click.argument("file", type=click.File("rb"))
@click.option("--fallback-category", help="The category when the document's incident type is none of the table's.")
def import_(file: BinaryIO, fallback_category: str | None) -> None:
    settings = cli_settings()
    raw = file.read(settings.http_max_body_bytes + 1)
    if len(raw) > settings.http_max_body_bytes:
        fail(f"an EIDO document is at most {settings.http_max_body_bytes} bytes (NTPD112_HTTP_MAX_BODY_BYTES)", 2)
    try:
        document = EidoDocument.model_validate_json(raw)
    except ValidationError as error:
        fail(f"not an EIDO document ntpd112 reads: {error}", 2)
        raise  # unreachable
    actor = f"cli:{getpass.getuser()}"

    async def use(database: Database) -> tuple[int, str]:
        who = Who(actor, ("admin",), None)
        try:
            imported = await _service(database, settings).import_document(document, who, fallback_category)
        except EidoRefused as refused:
            outcome, answer = (422, refused.error_id), f"{refused.error_id}: {refused} {json.dumps(refused.details)}"
        except NoRoutingTable as error:
            return 1, str(error)
        else:
            outcome = (201 if imported.created else 200, "ok")
            answer = json.dumps(
                {
                    "call_id": str(imported.call_id),
                    "created": imported.created,
                    "tickets": [t.number for t in imported.tickets],
                }
            )
        entry = AuditRecord(
            username=actor, via="cli", action="eido import", target=document.id, status=outcome[0], outcome=outcome[1]
        )
        await AuditTrail(database).record(entry)
        return (0 if outcome[1] == "ok" else 1), answer

    code, answer = with_database(settings, use)
    if code:
        fail(answer, code)
    click.echo(answer)
