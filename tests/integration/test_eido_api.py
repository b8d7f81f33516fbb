"""NENA EIDO over REST against the real service and PostgreSQL: a dispatched call with two tickets exports, the
document imports as the same incident with a ticket per agency, a second import answers the first (no copy), and
hostile documents are refused with nothing stored."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.store.models import AuditEntry, Call, Incident, Ticket
from tests.integration.cli import ntpd112 as run_cli
from tests.integration.conftest import agency_token, classified_call, user_token
from tests.integration.test_tickets_api import Headers, bearer, send
from tests.unit.tickets.test_eido import nena_call_transfer_sample


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


@pytest.fixture
async def people(service: Service) -> dict[str, Headers]:
    return {
        "operator": bearer(await user_token(service, "ani", "operator")),
        "supervisor": bearer(await user_token(service, "sv", "supervisor")),
        "damkar": bearer(await agency_token(service, "damkar1", "damkar")),
    }


async def counts(service: Service) -> tuple[int, int, int]:
    async with service.database.session() as session:
        calls, incidents, tickets = [
            await session.scalar(select(func.count()).select_from(model)) or 0 for model in (Call, Incident, Ticket)
        ]
    return calls, incidents, tickets


async def dispatched_export(http: aiohttp.ClientSession, service: Service, people: dict[str, Headers]) -> Any:
    call_id = await classified_call(service)
    # The operator's own position, address and area too: every incident field travels.
    place = {"category": "fire", "lat": -6.301, "lon": 106.652, "area": "Pagedangan", "address": "Jl. Raya Legok 5"}
    await service.incidents.set(call_id, IncidentChange.model_validate(place), "ani")
    body = {"agencies": ["damkar", "psc119"], "note": "dua korban"}
    status, tickets = await send(http, "POST", f"/api/calls/{call_id}/tickets", people["operator"], body)
    assert status == 201, tickets
    damkar = next(t for t in tickets if t["agency"] == "damkar")
    status, _ = await send(
        http, "POST", f"/api/tickets/{damkar['id']}/transitions", people["damkar"], {"to": "acknowledged"}
    )
    assert status == 200
    status, document = await send(http, "GET", f"/api/incidents/{call_id}/eido", people["supervisor"])
    assert status == 200, document
    return call_id, document


async def test_a_dispatched_call_exports_and_imports_once(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    call_id, document = await dispatched_export(http, service, people)
    incident = document["incidentComponent"]
    assert incident["incidentTypeInternalCode"] == "fire" and incident["incidentTypeInternalText"] == "Kebakaran"
    assert incident["incidentPriorityInternalText"] == "critical"
    assert [a["$id"].split(".")[0] for a in document["agencyComponent"]] == ["ntpd112", "damkar", "psc119"]
    resources = document["emergencyResourceComponent"]
    assert sorted((r["emergencyResourceName"][:4], *r["unitStatusInternal"]) for r in resources) == [
        ("112-", "acknowledged"),
        ("112-", "sent"),
    ]
    assert document["callbackComponent"][0]["callBackInformationUri"] == ["tel:+6281234567890"]
    notes = [n["notesActionComments"] for n in document["notesComponent"]]
    assert "gudang terbakar" in notes and any("sent -> acknowledged" in n and "damkar1" in n for n in notes)
    where = {loc["locationTypeDescriptionRegistryText"]: loc for loc in document["locationComponent"]}
    assert "-6.3010000 106.6520000" in where["Incident"]["locationByValue"]
    assert where["Incident"]["locationDescriptionText"] == "Jl. Raya Legok 5"
    assert (
        "<gs:radius" in where["Caller"]["locationByValue"]
        and "Kabupaten Tangerang" in where["Caller"]["locationByValue"]
    )

    # As another room's document (its own incident id): imported once, as the same incident with two tickets.
    document["$id"] = "urn:emergency:uid:incidentid:42:112.other.example.id"
    before = await counts(service)
    status, imported = await send(http, "POST", "/api/eido/import", people["supervisor"], document)
    assert status == 201, imported
    assert imported["created"] is True and imported["call_id"] != str(call_id)
    async with service.database.session() as session:
        source = (await session.scalars(select(Incident).where(Incident.call_id == call_id))).one()
        copy_ = (
            await session.scalars(select(Incident).where(Incident.call_id == uuid.UUID(imported["call_id"])))
        ).one()
        call = await session.get(Call, uuid.UUID(imported["call_id"]))
    fields = ("category", "severity", "status", "address", "description", "lat", "lon", "area")
    assert {f: getattr(copy_, f) for f in fields} == {f: getattr(source, f) for f in fields}
    assert (copy_.lat, copy_.lon, copy_.area) == (-6.301, 106.652, "Pagedangan")
    assert call is not None and call.offered_at is None and call.handled_by == "eido"
    assert (call.caller_number, call.area_kecamatan, call.best_radius_m) == ("+6281234567890", "Pagedangan", 25.0)
    assert sorted((t["agency"], t["status"], t["created_by"]) for t in imported["tickets"]) == [
        ("damkar", "sent", "sv"),
        ("psc119", "sent", "sv"),
    ]
    after = await counts(service)
    assert after == (before[0] + 1, before[1] + 1, before[2] + 2)

    status, again = await send(http, "POST", "/api/eido/import", people["supervisor"], document)
    assert status == 200 and again["created"] is False and again["call_id"] == imported["call_id"]
    assert sorted(t["id"] for t in again["tickets"]) == sorted(t["id"] for t in imported["tickets"])
    assert await counts(service) == after

    async with service.database.session() as session:
        audited = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.target == "/api/eido/import").order_by(AuditEntry.id)
            )
        ).all()
    assert [(a.username, a.status) for a in audited] == [("sv", 201), ("sv", 200)]


async def test_nenas_sample_imports_with_a_fallback_category(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    sample = nena_call_transfer_sample()
    status, refused = await send(http, "POST", "/api/eido/import", people["supervisor"], sample)
    assert status == 422 and refused["error"]["id"] == "unknown_category"
    url = "/api/eido/import?fallback_category=non_emergency"
    status, imported = await send(http, "POST", url, people["supervisor"], sample)
    assert status == 201 and imported["incident"]["category"] == "non_emergency" and imported["tickets"] == []


async def test_who_may_export_and_import(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    call_id = await classified_call(service)
    status, _ = await send(http, "GET", f"/api/incidents/{call_id}/eido", people["damkar"])
    assert status == 403
    status, document = await send(http, "GET", f"/api/incidents/{call_id}/eido", people["operator"])
    assert status == 200 and document["callbackComponent"]  # staff see the caller's number
    status, answer = await send(http, "POST", "/api/eido/import", people["operator"], document)
    assert status == 403
    status, answer = await send(http, "GET", f"/api/incidents/{uuid.uuid4()}/eido", people["supervisor"])
    assert status == 404 and answer["error"]["id"] == "call_not_found"
    unclassified = await classified_call(service, category=None)
    status, answer = await send(http, "GET", f"/api/incidents/{unclassified}/eido", people["supervisor"])
    assert status == 404 and answer["error"]["id"] == "no_incident"


def _hostile(document: dict[str, Any]) -> list[tuple[dict[str, Any] | list[Any] | str, int, str]]:
    def changed(path: list[Any], value: Any) -> dict[str, Any]:
        out = copy.deepcopy(document)
        target = out
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return out

    location = document["locationComponent"][0]["locationByValue"]
    return [
        ([], 400, "invalid_request"),
        ("not a document", 400, "invalid_request"),
        (changed(["eidoVersion"], "9.9"), 400, "invalid_request"),
        (changed(["agencyComponent"], []), 400, "invalid_request"),
        (changed(["$id"], "x" * 300), 400, "invalid_request"),
        (changed(["incidentComponent", "incidentCommonPriorityNumber"], 10**12), 400, "invalid_request"),
        (changed(["agencyComponent", 1, "$id"], "pemadam.elsewhere.example"), 422, "broken_reference"),
        (changed(["agencyComponent", 1, "$id"], "atlantis.example"), 422, "broken_reference"),
        (changed(["dispatchComponent", 0, "agencyReference", "$ref"], "atlantis.example"), 422, "broken_reference"),
        (
            changed(["agencyComponent", 1, "$id"], "atlantis.example")
            | {
                "dispatchComponent": [
                    {**document["dispatchComponent"][0], "agencyReference": {"$ref": "atlantis.example"}}
                ]
            },
            422,
            "unknown_agency",
        ),
        (changed(["locationComponent", 0, "locationByValue"], "<!DOCTYPE x>" + location), 422, "invalid_location"),
        (
            changed(["locationComponent", 0, "locationByValue"], location.replace("Pagedangan", "P" * 300)),
            422,
            "invalid_location",
        ),
        (changed(["incidentComponent", "notesReference"], [{"$ref": "nowhere"}]), 422, "broken_reference"),
        (changed(["notesComponent", 0, "notesActionComments"], "a" * 2100), 422, "invalid_incident"),
    ]


async def test_hostile_documents_are_refused_and_store_nothing(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    _, document = await dispatched_export(http, service, people)
    document["$id"] = "urn:emergency:uid:incidentid:hostile:elsewhere.example"
    before = await counts(service)
    for body, wanted_status, error_id in _hostile(document):
        status, answer = await send(http, "POST", "/api/eido/import", people["supervisor"], body)
        assert (status, answer["error"]["id"]) == (wanted_status, error_id), (
            body if len(str(body)) < 300 else "",
            answer,
        )
    assert await counts(service) == before
    # Larger than the API's body limit: refused before it is read.
    huge = copy.deepcopy(document)
    huge["notesComponent"][0]["notesActionComments"] = "x" * 7000
    huge["notesComponent"] = huge["notesComponent"] * 60
    status, answer = await send(http, "POST", "/api/eido/import", people["supervisor"], huge)
    assert status in (400, 413) and await counts(service) == before


async def test_the_command_line_exports_and_imports_through_the_same_code(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    call_id, _ = await dispatched_export(http, service, people)
    database = service.settings.database_url.get_secret_value()
    exported = await run_cli(database, "eido", "export", str(call_id), "--without-caller")
    assert exported.code == 0, exported.err
    document = json.loads(exported.out)
    assert document["callbackComponent"] == [] and "6281234567890" not in exported.out
    document["$id"] = "urn:emergency:uid:incidentid:cli:elsewhere.example"
    first = await run_cli(database, "eido", "import", "-", stdin=json.dumps(document))
    again = await run_cli(database, "eido", "import", "-", stdin=json.dumps(document))
    assert first.code == 0 and again.code == 0, (first.err, again.err)
    made, repeated = json.loads(first.out), json.loads(again.out)
    assert made["created"] is True and repeated["created"] is False and made["call_id"] == repeated["call_id"]
    assert len(made["tickets"]) == 2 and sorted(made["tickets"]) == sorted(repeated["tickets"])
    refused = await run_cli(database, "eido", "import", "-", stdin=json.dumps(document | {"eidoVersion": "7"}))
    assert refused.code == 2 and "not an EIDO document" in refused.err
    async with service.database.session() as session:
        audited = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "eido import"))).all()
    assert sorted(a.status for a in audited) == [200, 201] and all(
        (a.username or "").startswith("cli:") for a in audited
    )
