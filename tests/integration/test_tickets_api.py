"""Agency tickets over REST against the real PostgreSQL and service: the operator hands an incident to two
agencies, an agency user moves their ticket from acknowledged to closed, every transition is in PostgreSQL with who
and when; agency isolation; the flow's refusals; hostile input stores nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.store.models import AuditEntry, Ticket, TicketEvent
from tests.integration.conftest import agency_token, classified_call, user_token

Headers = dict[str, str]


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def people(service: Service) -> dict[str, Headers]:
    return {
        "operator": bearer(await user_token(service, "ani", "operator")),
        "supervisor": bearer(await user_token(service, "sv", "supervisor")),
        "damkar": bearer(await agency_token(service, "damkar1", "damkar")),
        "psc119": bearer(await agency_token(service, "psc1", "psc119")),
    }


async def send(
    http: aiohttp.ClientSession, method: str, url: str, headers: Headers, body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json() if response.content_type == "application/json" else None


async def hand_over(http: aiohttp.ClientSession, people: dict[str, Headers], call_id: uuid.UUID) -> dict[str, Any]:
    """The operator hands the call to damkar and psc119; answers the tickets by agency."""
    body = {"agencies": ["damkar", "psc119"], "note": "dua korban, satu terjebak"}
    status, tickets = await send(http, "POST", f"/api/calls/{call_id}/tickets", people["operator"], body)
    assert status == 201, tickets
    return {t["agency"]: t for t in tickets}


async def counts(service: Service) -> tuple[int, int]:
    async with service.database.session() as session:
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        events = await session.scalar(select(func.count()).select_from(TicketEvent))
    return tickets or 0, events or 0


async def test_an_incident_handed_to_two_agencies_is_a_ticket_each_once(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    call_id = await classified_call(service)
    tickets = await hand_over(http, people, call_id)

    assert set(tickets) == {"damkar", "psc119"}
    for ticket in tickets.values():
        assert re.fullmatch(r"112-20\d\d-\d{6}", ticket["number"]), ticket["number"]
        assert ticket["status"] == "sent" and ticket["category"] == "fire" and ticket["severity"] == "critical"
        assert (ticket["category_label_id"], ticket["category_label_en"]) == ("Kebakaran", "Fire")
        assert ticket["call_id"] == str(call_id) and ticket["created_by"] == "ani"
    assert tickets["damkar"]["number"] != tickets["psc119"]["number"]
    before = await counts(service)
    assert before == (2, 4)  # each: created (new) and sent

    # Again, with one more agency: the two keep their tickets, the third gets one.
    body = {"agencies": ["psc119", "damkar", "bpbd"]}
    status, again = await send(http, "POST", f"/api/calls/{call_id}/tickets", people["operator"], body)
    assert status == 201 and [t["agency"] for t in again] == ["psc119", "damkar", "bpbd"]
    assert again[0]["id"] == tickets["psc119"]["id"] and again[1]["id"] == tickets["damkar"]["id"]
    assert await counts(service) == (3, 6)

    # The call's card reads the call's tickets; another call has none.
    status, of_call = await send(http, "GET", f"/api/tickets?call_id={call_id}", people["operator"])
    assert status == 200 and {t["agency"] for t in of_call} == {"damkar", "psc119", "bpbd"}
    other = await classified_call(service)
    status, of_other = await send(http, "GET", f"/api/tickets?call_id={other}", people["operator"])
    assert status == 200 and of_other == []


async def test_an_agency_user_moves_their_ticket_to_closed_and_postgresql_holds_every_step(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    call_id = await classified_call(service)
    ticket = (await hand_over(http, people, call_id))["damkar"]
    url = f"/api/tickets/{ticket['id']}"
    damkar = people["damkar"]

    status, listed = await send(http, "GET", "/api/tickets", damkar)
    assert status == 200 and [t["id"] for t in listed] == [ticket["id"]]
    assert listed[0]["kecamatan"] == "Pagedangan"

    status, detail = await send(http, "GET", url, damkar)
    assert status == 200
    assert detail["caller_number"] is None  # the agency reaches the caller through the room
    assert (detail["place"]["lat"], detail["place"]["lon"], detail["place"]["source"]) == (
        -6.2345678,
        106.631234,
        "aml",
    )
    assert detail["place"]["kecamatan"] == "Pagedangan" and detail["description"] == "gudang terbakar"
    assert detail["navigation"] == {
        "geo_uri": "geo:-6.234568,106.631234?q=-6.234568,106.631234",
        "osm_url": "https://www.openstreetmap.org/?mlat=-6.234568&mlon=106.631234#map=17/-6.234568/106.631234",
    }
    assert detail["allowed"] == ["acknowledged", "rejected"]
    assert [(e["to_status"], e["by"]) for e in detail["events"]] == [("new", "ani"), ("sent", "system:web")]
    assert detail["events"][0]["text"] == "dua korban, satu terjebak"

    for to in ("acknowledged", "en_route", "on_scene", "resolved"):
        status, moved = await send(http, "POST", f"{url}/transitions", damkar, {"to": to})
        assert status == 200 and moved["status"] == to, moved
    status, note = await send(http, "POST", f"{url}/comments", damkar, {"text": "api padam pukul 14.10"})
    assert status == 201 and note["kind"] == "comment" and note["by"] == "damkar1"
    report = "Api padam, dua korban dibawa ke RSUD. Gudang rusak berat."
    status, closed = await send(http, "POST", f"{url}/transitions", damkar, {"to": "closed", "report": report})
    assert status == 200 and closed["status"] == "closed"

    # Staff see the caller's number and the whole history.
    status, staff_view = await send(http, "GET", url, people["operator"])
    assert staff_view["caller_number"] == "+6281234567890" and staff_view["final_report"] == report
    assert staff_view["allowed"] == []  # an operator may not reopen

    async with service.database.session() as session:
        events = (
            await session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == uuid.UUID(ticket["id"])).order_by(TicketEvent.id)
            )
        ).all()
        audit = (await session.scalars(select(AuditEntry.action).where(AuditEntry.username == "damkar1"))).all()
    moves = [(e.from_status, e.to_status, e.by, e.actor) for e in events if e.kind == "status"]
    assert moves == [
        (None, "new", "ani", "operator"),
        ("new", "sent", "system:web", "system"),
        ("sent", "acknowledged", "damkar1", "agency"),
        ("acknowledged", "en_route", "damkar1", "agency"),
        ("en_route", "on_scene", "damkar1", "agency"),
        ("on_scene", "resolved", "damkar1", "agency"),
        ("resolved", "closed", "damkar1", "agency"),
    ]
    assert events[-1].text == report
    assert all(e.at is not None for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert audit.count("POST /api/tickets/{ticket_id}/transitions") == 5
    assert audit.count("POST /api/tickets/{ticket_id}/comments") == 1

    # Closed tickets leave the agency's list and the supervisor's (open by default); `status` brings them back.
    assert (await send(http, "GET", "/api/tickets", damkar))[1] == []
    supervisor = people["supervisor"]
    assert ticket["id"] not in [t["id"] for t in (await send(http, "GET", "/api/tickets", supervisor))[1]]
    for wanted in ["all", "closed"]:
        status, listed = await send(http, "GET", f"/api/tickets?status={wanted}", supervisor)
        assert status == 200 and ticket["id"] in [t["id"] for t in listed], wanted
        assert wanted == "all" or {t["status"] for t in listed} == {"closed"}
    status, of_damkar = await send(http, "GET", "/api/tickets?status=all", damkar)
    assert status == 200 and [t["id"] for t in of_damkar] == [ticket["id"]]
    # A supervisor may reopen one, with a reason.
    status, refused = await send(http, "POST", f"{url}/transitions", people["supervisor"], {"to": "acknowledged"})
    assert status == 422 and refused["error"]["id"] == "transition_missing_reason"
    reopen = {"to": "acknowledged", "reason": "korban ketiga ditemukan"}
    status, reopened = await send(http, "POST", f"{url}/transitions", people["supervisor"], reopen)
    assert status == 200 and reopened["status"] == "acknowledged"
    assert [t["id"] for t in (await send(http, "GET", "/api/tickets", damkar))[1]] == [ticket["id"]]


async def test_an_agency_sees_and_touches_only_its_own_tickets(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    tickets = await hand_over(http, people, await classified_call(service))
    other = f"/api/tickets/{tickets['damkar']['id']}"
    psc = people["psc119"]
    before = await counts(service)

    status, listed = await send(http, "GET", "/api/tickets", psc)
    assert [t["agency"] for t in listed] == ["psc119"]
    status, body = await send(http, "GET", "/api/tickets?agency=damkar", psc)
    assert status == 403 and body["error"]["id"] == "not_your_agency"
    for method, url, request in [
        ("GET", other, None),
        ("POST", f"{other}/transitions", {"to": "acknowledged"}),
        ("POST", f"{other}/comments", {"text": "bukan urusan kami"}),
    ]:
        status, body = await send(http, method, url, psc, request)
        assert status == 404 and body["error"]["id"] == "ticket_not_found", (url, body)
    # An agency user may not create tickets (operator access).
    status, body = await send(
        http, "POST", f"/api/calls/{tickets['damkar']['call_id']}/tickets", psc, {"agencies": ["psc119"]}
    )
    assert status == 403
    assert await counts(service) == before

    # Staff see every ticket and filter.
    status, every = await send(http, "GET", "/api/tickets", people["operator"])
    assert sorted(t["agency"] for t in every) == ["damkar", "psc119"]
    status, only = await send(http, "GET", "/api/tickets?agency=damkar&status=sent", people["operator"])
    assert [t["id"] for t in only] == [tickets["damkar"]["id"]]


async def test_the_flow_refuses_with_the_allowed_moves_and_changes_nothing(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    url = f"/api/tickets/{ticket['id']}/transitions"
    before = await counts(service)
    cases = [
        (people["damkar"], {"to": "on_scene"}, 409, "transition_illegal", ["acknowledged", "rejected"]),
        (people["damkar"], {"to": "closed", "report": "x"}, 409, "transition_illegal", ["acknowledged", "rejected"]),
        (people["operator"], {"to": "acknowledged"}, 409, "transition_illegal", ["cancelled"]),
        (people["damkar"], {"to": "rejected"}, 422, "transition_missing_reason", ["acknowledged", "rejected"]),
        (people["operator"], {"to": "cancelled"}, 422, "transition_missing_reason", ["cancelled"]),
    ]
    for headers, body, status_wanted, error_id, allowed in cases:
        status, answer = await send(http, "POST", url, headers, body)
        assert (status, answer["error"]["id"]) == (status_wanted, error_id), (body, answer)
        assert answer["error"]["details"] == {"status": "sent", "allowed": allowed}
    assert await counts(service) == before

    # Resolved, the agency must give the final report to close.
    for to in ("acknowledged", "resolved"):
        assert (await send(http, "POST", url, people["damkar"], {"to": to}))[0] == 200
    status, answer = await send(http, "POST", url, people["damkar"], {"to": "closed"})
    assert status == 422 and answer["error"]["id"] == "transition_missing_report"
    # The operator cancels a ticket still running, with a reason; then nothing moves it any more.
    other = (await hand_over(http, people, await classified_call(service)))["psc119"]
    other_url = f"/api/tickets/{other['id']}/transitions"
    cancel = {"to": "cancelled", "reason": "penelepon membatalkan"}
    assert (await send(http, "POST", other_url, people["operator"], cancel))[1]["status"] == "cancelled"
    status, answer = await send(http, "POST", other_url, people["psc119"], {"to": "acknowledged"})
    assert status == 409 and answer["error"]["details"]["allowed"] == []


@pytest.mark.parametrize(
    ("body", "status", "error_id"),
    [
        ({"agencies": ["pemadam"]}, 422, "unknown_agency"),
        ({"agencies": ["damkar", "nope"]}, 422, "unknown_agency"),
        ({"agencies": []}, 400, "invalid_request"),
        ({"agencies": ["Damkar!"]}, 400, "invalid_request"),
        ({"agencies": ["damkar"] * 17}, 400, "invalid_request"),
        ({"agencies": "damkar"}, 400, "invalid_request"),
        ({"agencies": ["damkar"], "note": "a\x1b[31mb"}, 400, "invalid_request"),
        ({"agencies": ["damkar"], "note": "x" * 4001}, 400, "invalid_request"),
        ({"agencies": ["damkar"], "status": "closed"}, 400, "invalid_request"),
    ],
)
async def test_hostile_creation_is_refused_and_stores_nothing(
    service: Service,
    http: aiohttp.ClientSession,
    people: dict[str, Headers],
    body: dict[str, Any],
    status: int,
    error_id: str,
) -> None:
    call_id = await classified_call(service)
    answer = await send(http, "POST", f"/api/calls/{call_id}/tickets", people["operator"], body)
    assert (answer[0], answer[1]["error"]["id"]) == (status, error_id), answer
    assert await counts(service) == (0, 0)


async def test_no_ticket_for_an_unknown_or_unclassified_call(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    body = {"agencies": ["damkar"]}
    status, answer = await send(http, "POST", f"/api/calls/{uuid.uuid4()}/tickets", people["operator"], body)
    assert status == 404 and answer["error"]["id"] == "call_not_found"
    unclassified = await classified_call(service, category=None)
    status, answer = await send(http, "POST", f"/api/calls/{unclassified}/tickets", people["operator"], body)
    assert status == 409 and answer["error"]["id"] == "no_incident"
    assert await counts(service) == (0, 0)


async def test_hostile_ticket_requests_are_refused(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    url = f"/api/tickets/{ticket['id']}"
    damkar = people["damkar"]
    before = await counts(service)
    for method, target, body, wanted in [
        ("GET", "/api/tickets/not-a-uuid", None, (400, "invalid_ticket_id")),
        ("GET", f"/api/tickets/{uuid.uuid4()}", None, (404, "ticket_not_found")),
        ("GET", "/api/tickets?status=burning", None, (422, "unknown_status")),
        ("GET", "/api/tickets?status=OPEN", None, (422, "unknown_status")),
        ("GET", f"/api/tickets?status={'x' * 41}", None, (400, "invalid_request")),
        ("GET", "/api/tickets?limit=100000", None, (400, "invalid_request")),
        ("GET", "/api/tickets?status=sent&status=new", None, (400, "repeated_parameter")),
        ("POST", f"{url}/transitions", {"to": "teleported"}, (400, "invalid_request")),
        ("POST", f"{url}/transitions", {"to": "acknowledged", "by": "someone-else"}, (400, "invalid_request")),
        ("POST", f"{url}/comments", {"text": ""}, (400, "invalid_request")),
        ("POST", f"{url}/comments", {"text": "   "}, (400, "invalid_request")),
        ("POST", f"{url}/comments", {"text": "x" * 4001}, (400, "invalid_request")),
        ("POST", f"{url}/comments", {"text": "bell\x07"}, (400, "invalid_request")),
        ("POST", f"{url}/comments", {"text": "nul\x00"}, (400, "nul_character")),
    ]:
        status, answer = await send(http, method, target, damkar, body)
        assert (status, answer["error"]["id"]) == wanted, (target, body, answer)
        if wanted[1] == "unknown_status":
            assert answer["error"]["details"]["known"][:3] == ["open", "all", "new"]
    async with http.get(url) as response:
        assert response.status == 401  # no credentials
    assert await counts(service) == before
