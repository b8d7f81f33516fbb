"""Tickets on the live stream (GET /api/stream) against the real service and PostgreSQL: an agency user's stream
says `tickets_changed` for their own agency's tickets (created, moved, commented on) and nothing for another
agency's, and nothing about the queue; a staff stream hears of every ticket."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from ntpd112.app import Service
from tests.integration.conftest import agency_token, classified_call, user_token
from tests.integration.test_stream import collect

Headers = dict[str, str]


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


async def post(http: aiohttp.ClientSession, url: str, headers: Headers, body: Any) -> Any:
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()


def changed(ticket_id: str) -> dict[str, str]:
    return {"type": "tickets_changed", "ticket_id": ticket_id}


async def test_an_agency_user_hears_of_their_own_agency_tickets_only(
    service: Service, http: aiohttp.ClientSession
) -> None:
    operator = bearer(await user_token(service, "ani", "operator"))
    damkar = bearer(await agency_token(service, "damkar1", "damkar"))
    psc = bearer(await agency_token(service, "psc1", "psc119"))
    call_id = await classified_call(service)

    async with (
        http.ws_connect("/api/stream", headers=damkar) as agency_socket,
        http.ws_connect("/api/stream", headers=operator) as staff_socket,
    ):
        hello = (await agency_socket.receive(timeout=5)).json()
        assert (hello["type"], hello["user"]) == ("hello", "damkar1")
        assert [frame["type"] for frame in await collect(staff_socket, lambda seen: len(seen) >= 2)] == [
            "hello",
            "queue",
        ]
        # Created after the streams opened: one ticket for damkar, one for psc119.
        tickets = await post(http, f"/api/calls/{call_id}/tickets", operator, {"agencies": ["damkar", "psc119"]})
        ids = {ticket["agency"]: ticket["id"] for ticket in tickets}
        # psc119 moves and comments on its own ticket; then damkar comments on theirs (the last frame to wait for).
        await post(http, f"/api/tickets/{ids['psc119']}/transitions", psc, {"to": "acknowledged"})
        await post(http, f"/api/tickets/{ids['psc119']}/comments", psc, {"text": "tim menuju lokasi"})
        await post(http, f"/api/tickets/{ids['damkar']}/comments", damkar, {"text": "unit 3 berangkat"})

        frames = await collect(agency_socket, lambda seen: len(seen) >= 2)
        # Created, then commented on: damkar's ticket twice, psc119's never, and no queue frame after hello.
        assert frames == [changed(ids["damkar"]), changed(ids["damkar"])]
        staff = await collect(staff_socket, lambda seen: seen.count(changed(ids["damkar"])) >= 2)
        ticket_frames = [frame for frame in staff if frame["type"] == "tickets_changed"]
        assert {frame["ticket_id"] for frame in ticket_frames} == {ids["damkar"], ids["psc119"]}
        assert ticket_frames.count(changed(ids["psc119"])) == 3  # created, acknowledged, commented on
        # Nothing more for the agency user: a frame for psc119's ticket would have come before damkar's comment's.
        await agency_socket.send_json({"type": "watch", "call_id": str(call_id)})
        refused = (await agency_socket.receive(timeout=5)).json()
        assert refused["type"] == "error" and refused["id"] == "bad_message"
        await post(http, f"/api/tickets/{ids['psc119']}/comments", psc, {"text": "tiba di lokasi"})
        await post(http, f"/api/tickets/{ids['damkar']}/transitions", damkar, {"to": "acknowledged"})
        assert await collect(agency_socket, lambda seen: len(seen) >= 1) == [changed(ids["damkar"])]
