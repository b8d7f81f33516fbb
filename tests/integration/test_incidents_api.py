"""Incidents over REST against the real PostgreSQL and service: set, change, read, timeline events, bad input."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from ntpd112.app import Service
from ntpd112.clock import utcnow
from tests.integration.conftest import timeline, user_token


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Requests and calls against a running service and empty tables: no test here needs a fresh service.
    return shared_service


@pytest.fixture
async def operator(service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {await user_token(service, 'ani', 'operator')}"}


@pytest.fixture
async def call_id(service: Service) -> uuid.UUID:
    """A call as the service records it (through the journal); no SIP needed to classify it."""
    call = service.journal.record_call(f"test-{uuid.uuid4()}", trunk="telkomsel", offered_at=utcnow())
    await service.journal.flushed()
    return call


async def test_operator_classifies_a_call_and_each_change_is_on_its_timeline(
    service: Service, http: aiohttp.ClientSession, operator: dict[str, str], call_id: uuid.UUID
) -> None:
    url = f"/api/calls/{call_id}/incident"
    first = {"category": "fire", "address": "Jl. Raya Bogor km 45, dekat Pasar Cibinong", "lat": -6.48, "lon": 106.85}
    async with http.put(url, json=first, headers=operator) as response:
        assert response.status == 200, await response.text()
        created = await response.json()
    assert created["category"] == "fire" and created["severity"] == "critical"  # the category's default
    assert created["status"] == "open" and created["created_by"] == "ani"

    change = {"category": "fire", "severity": "high", "description": "api di gudang, tidak ada korban"}
    async with http.put(url, json=change, headers=operator) as response:
        changed = await response.json()
    assert changed["id"] == created["id"]
    assert changed["severity"] == "high" and changed["address"] == first["address"]  # left out: kept
    async with http.get(url, headers=operator) as response:
        assert await response.json() == changed

    events = [e for e in await timeline(service, call_id) if e.type == "incident_classified"]
    assert len(events) == 2
    assert events[0].data["created"] is True and events[0].data["changes"]["category"] == [None, "fire"]
    assert events[1].data["changes"] == {
        "severity": ["critical", "high"],
        "description": [None, "api di gudang, tidak ada korban"],
    }
    assert events[1].data["by"] == "ani"
    async with http.get(f"/api/calls/{call_id}", headers=operator) as response:
        assert "incident_classified" in [e["type"] for e in (await response.json())["timeline"]]


async def test_call_outcomes_classify_a_call_too(
    service: Service, http: aiohttp.ClientSession, operator: dict[str, str], call_id: uuid.UUID
) -> None:
    async with http.put(f"/api/calls/{call_id}/incident", json={"category": "prank"}, headers=operator) as response:
        body = await response.json()
    assert response.status == 200 and body["category"] == "prank" and body["severity"] is None


@pytest.mark.parametrize(
    ("body", "status", "error_id"),
    [
        ({"category": "alien_invasion"}, 422, "unknown_category"),
        ({"category": "Fire!"}, 400, "invalid_request"),
        ({"category": "fire", "lat": -6.4}, 400, "invalid_request"),
        ({"category": "fire", "status": "dispatched"}, 400, "invalid_request"),
        ({"category": "fire", "colour": "red"}, 400, "invalid_request"),
    ],
)
async def test_bad_incidents_are_refused_and_nothing_is_stored(
    service: Service,
    http: aiohttp.ClientSession,
    operator: dict[str, str],
    call_id: uuid.UUID,
    body: dict[str, object],
    status: int,
    error_id: str,
) -> None:
    async with http.put(f"/api/calls/{call_id}/incident", json=body, headers=operator) as response:
        assert response.status == status
        assert (await response.json())["error"]["id"] == error_id
    async with http.get(f"/api/calls/{call_id}/incident", headers=operator) as response:
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "incident_not_found"
    assert not [e for e in await timeline(service, call_id) if e.type == "incident_classified"]


async def test_unknown_call_is_404_and_a_token_is_needed(
    service: Service, http: aiohttp.ClientSession, operator: dict[str, str]
) -> None:
    url = f"/api/calls/{uuid.uuid4()}/incident"
    async with http.put(url, json={"category": "fire"}, headers=operator) as response:
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "call_not_found"
    async with http.get(url, headers=operator) as response:
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "call_not_found"
    async with http.put(url, json={"category": "fire"}) as response:
        assert response.status == 401
    async with http.get("/api/calls/not-a-uuid/incident", headers=operator) as response:
        assert (await response.json())["error"]["id"] == "invalid_call_id"


async def test_operators_read_the_categories_in_force_in_table_order(
    service: Service, http: aiohttp.ClientSession, operator: dict[str, str]
) -> None:
    async with http.get("/api/categories", headers=operator) as response:
        assert response.status == 200
        categories = await response.json()
    table = service.routing.current.table
    assert [c["id"] for c in categories] == [c.id for c in table.categories]
    fire = next(c for c in categories if c["id"] == "fire")
    assert fire["kind"] == "incident" and fire["emergency"] is True and fire["label_id"] == "Kebakaran"
    prank = next(c for c in categories if c["id"] == "prank")
    assert prank["kind"] == "outcome" and prank["emergency"] is False and prank["default_severity"] is None
    async with http.get("/api/categories") as response:
        assert response.status == 401
