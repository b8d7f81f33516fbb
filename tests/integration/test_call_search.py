"""The call search (GET /api/calls filters) against the real service and PostgreSQL: each filter narrows the list,
the outcome is the reports' rule, and hostile parameters get a 400, never a 5xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from ntpd112.app import Service
from ntpd112.store.models import Incident
from tests.integration.conftest import user_token
from tests.integration.test_console_api import add_call

# 2026-11-10 23:30 WIB (UTC+7) is 16:30 UTC: the 10th in the room, whatever UTC says.
LATE_EVENING = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Rows written straight to the tables and requests: no test here needs a fresh service.
    return shared_service


async def _calls(http: aiohttp.ClientSession, token: str, **params: str) -> list[dict[str, Any]]:
    async with http.get("/api/calls", params=params, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        rows: list[dict[str, Any]] = await response.json()
        return rows


async def _seed(service: Service) -> dict[str, uuid.UUID]:
    answered = await add_call(
        service,
        caller_number="+6281234567890",
        caller_number_raw="081234567890",
        offered_at=LATE_EVENING,
        operator_answered_at=LATE_EVENING + timedelta(seconds=8),
        answered_at=LATE_EVENING + timedelta(seconds=8),
        ended_at=LATE_EVENING + timedelta(minutes=3),
        operator="op1",
        area_kecamatan="Kebayoran Baru",
    )
    async with service.database.session() as session, session.begin():
        session.add(Incident(call_id=answered, category="fire", created_by="op1", updated_by="op1"))
    next_day = LATE_EVENING + timedelta(hours=8)  # 11th in the room
    abandoned = await add_call(
        service,
        caller_number="+6285711112222",
        caller_number_raw="6285711112222",
        offered_at=next_day,
        abandoned_at=next_day + timedelta(seconds=40),
        ended_at=next_day + timedelta(seconds=40),
        area_kecamatan="Cilandak",
    )
    phantom = await add_call(
        service,
        caller_number="+6285711112222",
        caller_number_raw="6285711112222",
        offered_at=next_day + timedelta(hours=1),
        abandoned_at=next_day + timedelta(hours=1, seconds=2),
        ended_at=next_day + timedelta(hours=1, seconds=2),
        area_kecamatan="100%_Kota",
    )
    return {"answered": answered, "abandoned": abandoned, "phantom": phantom}


async def test_each_filter_narrows_the_list(shared_service: Service, http: aiohttp.ClientSession) -> None:
    calls = await _seed(shared_service)
    token = await user_token(shared_service, "op1", "operator")

    async def ids(**params: str) -> list[uuid.UUID]:
        return [uuid.UUID(row["id"]) for row in await _calls(http, token, **params)]

    assert await ids() == [calls["phantom"], calls["abandoned"], calls["answered"]]  # newest first
    # The number in any format the operator types it in: local, with separators, E.164, as the trunk sent it.
    for typed in ("0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890"):
        assert await ids(number=typed) == [calls["answered"]], typed
    assert await ids(number="0857 1111 2222") == [calls["phantom"], calls["abandoned"]]
    assert await ids(number="0899") == []
    # Whole days in the room's time zone (WIB): 23:30 on the 10th is the 10th, though 16:30 UTC.
    assert await ids(**{"from": "2026-11-10", "to": "2026-11-10"}) == [calls["answered"]]
    assert await ids(**{"from": "2026-11-11"}) == [calls["phantom"], calls["abandoned"]]
    assert await ids(to="2026-11-09") == []
    assert await ids(category="fire") == [calls["answered"]]
    assert await ids(category="medical") == []
    # The outcome is the reports' rule: a caller gone within the phantom threshold is no abandon.
    assert await ids(outcome="answered") == [calls["answered"]]
    assert await ids(outcome="abandoned") == [calls["abandoned"]]
    assert await ids(outcome="phantom_abandoned") == [calls["phantom"]]
    assert await ids(operator="op1") == [calls["answered"]]
    assert await ids(kecamatan="kebayoran") == [calls["answered"]]
    # LIKE's wildcards are the name's own characters, not patterns.
    assert await ids(kecamatan="%") == [calls["phantom"]]
    assert await ids(kecamatan="0%_k") == [calls["phantom"]]
    assert await ids(kecamatan="_") == [calls["phantom"]]
    assert await ids(number="0857-1111-2222", outcome="abandoned", **{"from": "2026-11-11"}) == [calls["abandoned"]]
    [row] = await _calls(http, token, category="fire")
    assert (row["outcome"], row["category"], row["operator"], row["area_kecamatan"]) == (
        "answered",
        "fire",
        "op1",
        "Kebayoran Baru",
    )


@pytest.mark.parametrize(
    ("params", "error_id"),
    [
        ({"number": "abc"}, "invalid_request"),
        ({"number": "0812' OR 1=1 --"}, "invalid_request"),
        ({"number": "+"}, "invalid_request"),
        ({"number": "+-"}, "invalid_number"),
        ({"number": "--"}, "invalid_number"),
        ({"number": "1" * 41}, "invalid_request"),
        ({"from": "2026-13-01"}, "invalid_request"),
        ({"from": "1900-01-01"}, "invalid_request"),
        ({"to": "99999-01-01"}, "invalid_request"),
        ({"from": "2026-11-12", "to": "2026-11-10"}, "invalid_range"),
        ({"category": "Fire; DROP TABLE calls"}, "invalid_request"),
        ({"outcome": "sort_of"}, "invalid_request"),
        ({"operator": "../admin"}, "invalid_request"),
        ({"kecamatan": ""}, "invalid_request"),
        ({"kecamatan": "a\x01b"}, "invalid_request"),
        ({"kecamatan": "x" * 101}, "invalid_request"),
        ({"kecamatan": "a\x00"}, "nul_character"),
        ({"since": "2026-11-10"}, "invalid_request"),
    ],
)
async def test_hostile_search_parameters_get_a_400(
    shared_service: Service, http: aiohttp.ClientSession, params: dict[str, str], error_id: str
) -> None:
    token = await user_token(shared_service, "op1", "operator")
    async with http.get("/api/calls", params=params, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 400, await response.text()
        assert (await response.json())["error"]["id"] == error_id


async def test_a_repeated_filter_is_refused(shared_service: Service, http: aiohttp.ClientSession) -> None:
    token = await user_token(shared_service, "op1", "operator")
    url = "/api/calls?outcome=answered&outcome=abandoned"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["id"] == "repeated_parameter"
