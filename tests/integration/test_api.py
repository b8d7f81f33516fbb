"""The HTTP API against the real database: authentication, roles, JSON errors, calls and their timelines."""

from __future__ import annotations

import aiohttp
import pytest

from ntpd112.app import Service
from tests.integration.conftest import assert_complete_timeline, unique_mobile_number, user_token, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Requests and calls against a running service and empty tables: no test here needs a fresh service.
    return shared_service


async def _error(response: aiohttp.ClientResponse) -> str:
    body = await response.json()
    assert set(body["error"]) >= {"id", "message"}
    return str(body["error"]["id"])


async def test_health_and_metrics_need_no_token(service: Service, http: aiohttp.ClientSession) -> None:
    async with http.get("/health") as response:
        body = await response.json()
        assert response.status == 200, body
        assert set(body["components"]) == {"ari", "ami", "database", "journal", "routing", "reconciliation"}
    async with http.get("/metrics") as response:
        text = await response.text()
        assert response.status == 200
        for name in (
            "ntpd112_calls_offered_total",
            "ntpd112_calls_answered_total",
            "ntpd112_calls_active",
            "ntpd112_ari_reconnects_total",
            "ntpd112_ami_reconnects_total",
        ):
            assert name in text


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer ntpd112_not-a-real-token", "Basic dXNlcjpwdw=="])
async def test_calls_need_a_valid_bearer_token(
    service: Service, http: aiohttp.ClientSession, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with http.get("/api/calls", headers=headers) as response:
        assert response.status == 401
        assert await _error(response) == "unauthorized"


async def test_revoked_token_is_refused(service: Service, http: aiohttp.ClientSession) -> None:
    from sqlalchemy import update

    from ntpd112.clock import utcnow
    from ntpd112.store.models import ApiToken

    token = await user_token(service, "revoked", "admin")
    async with service.database.session() as session, session.begin():
        await session.execute(update(ApiToken).values(revoked_at=utcnow()))
    async with http.get("/api/calls", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 401


async def test_operator_lists_calls_and_reads_a_timeline(service: Service, http: aiohttp.ClientSession) -> None:
    token = await user_token(service, "operator1", "operator")
    auth = {"Authorization": f"Bearer {token}"}
    number = unique_mobile_number()
    result = await run_sipp(
        "caller.xml",
        source=TRUNK_ADDRESSES["telkomsel"],
        keys={"caller": number, "caller_name": "<script>alert(1)</script>"},
    )
    assert result.succeeded, result.output
    await wait_until(lambda: not service.calls.active)
    await service.journal.flushed()

    async with http.get("/api/calls", headers=auth) as response:
        assert response.status == 200
        calls = await response.json()
    [call] = [c for c in calls if c["caller_number"] == "+62" + number[1:]]
    assert call["caller_name"] == "<script>alert(1)</script>"  # kept as text; escaping is the renderer's job
    async with http.get(f"/api/calls/{call['id']}", headers=auth) as response:
        assert response.status == 200
        detail = await response.json()
    assert_complete_timeline([event["type"] for event in detail["timeline"]])
    assert detail["hangup_cause"] == 16


@pytest.mark.parametrize(
    ("method", "path", "status", "error_id"),
    [
        ("GET", "/api/calls/not-a-uuid", 400, "invalid_call_id"),
        ("GET", "/api/calls/00000000-0000-0000-0000-000000000000", 404, "call_not_found"),
        ("GET", "/api/calls?limit=0", 400, "invalid_request"),
        ("GET", "/api/calls?limit=abc", 400, "invalid_request"),
        ("GET", "/api/calls?bogus=1", 400, "invalid_request"),
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("DELETE", "/api/calls", 405, "method_not_allowed"),
    ],
)
async def test_bad_requests_get_json_errors_with_stable_ids(
    service: Service, http: aiohttp.ClientSession, method: str, path: str, status: int, error_id: str
) -> None:
    token = await user_token(service, "op", "operator")
    async with http.request(method, path, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == status
        assert response.content_type == "application/json"
        assert await _error(response) == error_id
