"""The console's REST additions against the real service and PostgreSQL: an operator's open cards, the manual pin
(stored as a fix, its area, the best location, the timeline, the audit trail, the live hub; hostile bodies store
nothing) and the area boundaries as GeoJSON."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.intake.areas import parse_feature
from ntpd112.live import CallActivity, Subscription
from ntpd112.store.geodata import import_areas
from ntpd112.store.models import AuditEntry, Call, CallEvent, Incident, LocationFixRow
from tests.integration.conftest import user_token

# A kecamatan and one kelurahan inside it, squares around (-6.2, 106.8).
KECAMATAN = {
    "type": "Polygon",
    "coordinates": [[[106.7, -6.3], [106.9, -6.3], [106.9, -6.1], [106.7, -6.1], [106.7, -6.3]]],
}
KELURAHAN = {
    "type": "MultiPolygon",
    "coordinates": [[[[106.75, -6.25], [106.85, -6.25], [106.85, -6.15], [106.75, -6.15], [106.75, -6.25]]]],
}


@pytest.fixture
async def http(shared_service: Service) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{shared_service.settings.http_port}") as session:
        yield session


async def add_call(service: Service, **fields: Any) -> uuid.UUID:
    call_id = uuid.uuid4()
    async with service.database.session() as session, session.begin():
        session.add(Call(id=call_id, uniqueid=f"test-{call_id}", **fields))
    return call_id


async def classify(service: Service, call_id: uuid.UUID) -> None:
    async with service.database.session() as session, session.begin():
        session.add(Incident(call_id=call_id, category="medical", created_by="op1", updated_by="op1"))


async def next_activity(live: Subscription, call_id: uuid.UUID) -> CallActivity:
    """The next activity of this call on the hub (other events, e.g. AMI's, may come between)."""
    async with asyncio.timeout(10):
        while True:
            event = await live.get()
            if isinstance(event, CallActivity) and event.call_id == call_id:
                return event


async def get(http: aiohttp.ClientSession, path: str, token: str) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.get(path, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json(), response


async def test_open_cards_are_the_operators_unfinished_calls_oldest_first(
    shared_service: Service, http: aiohttp.ClientSession
) -> None:
    service, now = shared_service, utcnow()
    talking = await add_call(service, operator="op1", operator_answered_at=now - timedelta(minutes=2))
    ended_unclassified = await add_call(
        service, operator="op1", operator_answered_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=2)
    )
    classified_talking = await add_call(service, operator="op1", operator_answered_at=now - timedelta(minutes=1))
    await classify(service, classified_talking)
    done = await add_call(
        service, operator="op1", operator_answered_at=now - timedelta(hours=1), ended_at=now - timedelta(minutes=50)
    )
    await classify(service, done)
    await add_call(service, operator="op1", operator_answered_at=now - timedelta(hours=13))  # before the shift
    await add_call(service, operator="op2", operator_answered_at=now - timedelta(minutes=3))  # someone else's
    await add_call(service)  # answered by no one

    token = await user_token(service, "op1", "operator")
    status, cards, _ = await get(http, "/api/operators/op1/cards", token)
    assert status == 200
    assert [card["id"] for card in cards] == [str(ended_unclassified), str(talking), str(classified_talking)]
    assert set(cards[0]) >= {"id", "caller_number", "offered_at", "ended_at", "handled_by"}

    status, body, _ = await get(http, "/api/operators/op2/cards", token)
    assert (status, body["error"]["id"]) == (403, "not_yourself")
    supervisor = await user_token(service, "spv", "supervisor")
    status, body, _ = await get(http, "/api/operators/op2/cards", supervisor)
    assert status == 200 and len(body) == 1


async def fixes_and_events(service: Service) -> tuple[int, int]:
    async with service.database.session() as session:
        fixes = await session.scalar(select(func.count()).select_from(LocationFixRow))
        events = await session.scalar(select(func.count()).select_from(CallEvent))
    return int(fixes or 0), int(events or 0)


async def test_a_pin_is_stored_as_an_operator_fix_with_its_area_and_becomes_the_best_location(
    shared_service: Service, http: aiohttp.ClientSession
) -> None:
    service = shared_service
    areas = [
        (parse_feature({"type": "Feature", "geometry": g, "properties": p}), g)
        for g, p in ((KECAMATAN, {"kecamatan": "Tebet"}), (KELURAHAN, {"kecamatan": "Tebet", "desa": "Manggarai"}))
    ]
    await import_areas(service.database, areas, replace=True)
    call_id = await add_call(service, operator="op1", best_lat=-6.0, best_lon=106.0, best_radius_m=5.0)
    token = await user_token(service, "op1", "operator")
    headers = {"Authorization": f"Bearer {token}"}
    with service.hub.subscribe() as live:
        async with http.post(
            f"/api/calls/{call_id}/locations",
            json={"lat": -6.2, "lon": 106.8, "radius_m": 30, "note": "depan masjid"},
            headers=headers,
        ) as response:
            assert response.status == 201, await response.text()
            answer = await response.json()
        activity = await next_activity(live, call_id)
    assert {"operator_pin", "location_fix", "best_location_changed"} <= activity.event_types

    fix, area = answer["fix"], answer["area"]
    assert (fix["source"], fix["lat"], fix["lon"], fix["radius_m"], fix["method"]) == (
        "operator",
        -6.2,
        106.8,
        30.0,
        "manual",
    )
    assert json.loads(fix["raw"])["note"] == "depan masjid"
    assert (area["kecamatan"], area["kelurahan"]) == ("Tebet", "Manggarai")  # the most precise area

    async with http.get(f"/api/calls/{call_id}", headers=headers) as response:
        call = await response.json()
    assert call["best_location"]["fix_id"] == fix["id"] and call["best_location"]["source"] == "operator"
    assert call["area"]["kelurahan"] == "Manggarai"
    pin = next(event for event in call["timeline"] if event["type"] == "operator_pin")
    assert pin["data"]["by"] == "op1" and pin["data"]["note"] == "depan masjid"
    async with service.database.session() as session:
        audited = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "POST /api/calls/{call_id}/locations", AuditEntry.username == "op1"
            )
        )
    assert audited == 1

    # A second pin is one more fix: the first stays.
    async with http.post(f"/api/calls/{call_id}/locations", json={"lat": 0, "lon": 0}, headers=headers) as response:
        assert response.status == 201
        assert (await response.json())["fix"]["radius_m"] == 50.0  # the default
    assert (await fixes_and_events(service))[0] == 2


async def test_hostile_pins_are_refused_and_store_nothing(shared_service: Service, http: aiohttp.ClientSession) -> None:
    service = shared_service
    call_id = await add_call(service)
    token = await user_token(service, "op1", "operator")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    before = await fixes_and_events(service)
    bodies = [
        b'{"lat": NaN, "lon": 106.8}',
        b'{"lat": -6.2, "lon": Infinity}',
        b'{"lat": 91, "lon": 106.8}',
        b'{"lat": -6.2, "lon": -180.5}',
        b'{"lat": -6.2, "lon": 106.8, "radius_m": 0}',
        b'{"lat": -6.2, "lon": 106.8, "radius_m": 100001}',
        b'{"lat": -6.2, "lon": 106.8, "extra": 1}',
        b'{"lat": "south", "lon": 106.8}',
        b'{"lat": -6.2}',
        b'{"lat": -6.2, "lon": 106.8, "note": "line\\nbreak"}',
        b'{"lat": -6.2, "lon": 106.8, "note": "' + b"x" * 281 + b'"}',
        b"[]",
    ]
    for body in bodies:
        async with http.post(f"/api/calls/{call_id}/locations", data=body, headers=headers) as response:
            assert response.status == 400, body
            assert (await response.json())["error"]["id"] == "invalid_request", body
    unknown = uuid.uuid4()
    async with http.post(
        f"/api/calls/{unknown}/locations", json={"lat": -6.2, "lon": 106.8}, headers=headers
    ) as response:
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "call_not_found"
    assert await fixes_and_events(service) == before


async def test_areas_as_geojson_by_level_cached_per_import(
    shared_service: Service, http: aiohttp.ClientSession
) -> None:
    service = shared_service
    token = await user_token(service, "op1", "operator")
    status, empty, _ = await get(http, "/api/areas", token)
    assert (status, empty) == (200, {"type": "FeatureCollection", "features": []})

    areas = [
        (parse_feature({"type": "Feature", "geometry": g, "properties": p}), g)
        for g, p in (
            (KECAMATAN, {"kecamatan": "Tebet", "kabupaten": "Jakarta Selatan"}),
            (KELURAHAN, {"kecamatan": "Tebet", "desa": "Manggarai", "kode": "31.74.01.1001"}),
        )
    ]
    await import_areas(service.database, areas, replace=True)
    status, everything, response = await get(http, "/api/areas", token)
    assert status == 200 and response.headers["Cache-Control"] == "private, max-age=300"
    assert [f["properties"] for f in everything["features"]] == [
        {
            "code": None,
            "name": "Tebet",
            "level": "kecamatan",
            "kabupaten": "Jakarta Selatan",
            "kecamatan": "Tebet",
            "kelurahan": None,
        },
        {
            "code": "31.74.01.1001",
            "name": "Manggarai",
            "level": "kelurahan",
            "kabupaten": None,
            "kecamatan": "Tebet",
            "kelurahan": "Manggarai",
        },
    ]
    assert everything["features"][0]["geometry"] == KECAMATAN
    assert everything["features"][1]["geometry"] == KELURAHAN
    _, kecamatan, _ = await get(http, "/api/areas?level=kecamatan", token)
    assert [f["properties"]["name"] for f in kecamatan["features"]] == ["Tebet"]
    _, kelurahan, _ = await get(http, "/api/areas?level=kelurahan", token)
    assert [f["properties"]["name"] for f in kelurahan["features"]] == ["Manggarai"]

    # A new import is a new version: the cache does not hide it.
    await import_areas(service.database, areas[:1], replace=True)
    _, after, _ = await get(http, "/api/areas", token)
    assert [f["properties"]["name"] for f in after["features"]] == ["Tebet"]

    status, refused, _ = await get(http, "/api/areas?level=provinsi", token)
    assert (status, refused["error"]["id"]) == (400, "invalid_request")


async def test_classifying_and_journal_writes_reach_the_live_hub_after_the_commit(
    shared_service: Service, http: aiohttp.ClientSession
) -> None:
    service = shared_service
    token = await user_token(service, "op1", "operator")
    with service.hub.subscribe() as live:
        call_id = service.journal.record_call(f"test-{uuid.uuid4()}", trunk="telkomsel", offered_at=utcnow())
        service.journal.record_event(call_id, "operator_answered", {"operator": "op1"})
        activity = await next_activity(live, call_id)
        assert activity == CallActivity(
            call_id, frozenset({"operator_answered"}), frozenset({"op1"}), answered=frozenset({"op1"})
        )
        async with service.database.session() as session:  # committed before it was published
            assert await session.get(Call, call_id) is not None

        async with http.put(
            f"/api/calls/{call_id}/incident", json={"category": "fire"}, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 200, await response.text()
        assert await next_activity(live, call_id) == CallActivity(call_id, frozenset({"incident_classified"}))
