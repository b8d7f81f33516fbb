"""Operators over REST and the command line: roles, JSON errors that leave state unchanged, the callback list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ntpd112.app import Service
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.pbx.phones import md5_cred
from ntpd112.queue.operators import interface
from tests.integration.agents import SippAgent, running
from tests.integration.cli import Run, ntpd112
from tests.integration.conftest import empty_queue, unique_mobile_number, user_token, wait_until
from tests.integration.sipp import TRUNK_ADDRESSES, run_sipp


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Operators, desks and callbacks over REST and the command line against a running service and empty tables:
    # no test here needs a fresh service.
    return shared_service


@pytest.fixture
async def api(service: Service) -> AsyncIterator[tuple[aiohttp.ClientSession, dict[str, dict[str, str]]]]:
    await empty_queue(service)
    tokens = {role: await user_token(service, role, role) for role in ("operator", "supervisor", "admin")}
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{service.settings.http_port}") as session:
        yield session, headers
    for operator in await service.operators.list():
        await service.operators.remove(operator.username)


async def _call(
    session: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, path, headers=headers, json=body) as response:
        return response.status, (await response.json() if response.content_type == "application/json" else None)


async def test_only_admins_manage_operators_and_errors_change_nothing(
    service: Service, api: tuple[aiohttp.ClientSession, dict[str, dict[str, str]]]
) -> None:
    session, headers = api
    new = {"username": "op5", "name": "Rina", "contact": "sip:127.0.0.35:5070"}
    status, body = await _call(session, "POST", "/api/operators", headers["supervisor"], new)
    assert status == 403 and body["error"]["id"] == "forbidden"
    status, body = await _call(session, "POST", "/api/operators", headers["admin"], new)
    assert status == 201 and body["username"] == "op5" and len(body["sip_password"]) >= 16
    status, body = await _call(session, "POST", "/api/operators", headers["admin"], new)
    assert status == 409 and body["error"]["id"] == "operator_exists"
    for bad in (
        {"username": "Op 5", "name": "x"},
        {"username": "trunk-x", "name": "x"},
        {"username": "op6"},
        {"username": "op6", "name": "x", "contact": "sip:a@b;evil=1\r\n"},
    ):
        status, body = await _call(session, "POST", "/api/operators", headers["admin"], bad)
        assert status == 400 and body["error"]["id"] == "invalid_request", bad
    status, body = await _call(session, "GET", "/api/operators", headers["operator"])
    assert status == 200 and [o["username"] for o in body] == ["op5"]
    assert "sip_password" not in body[0] and "sip_md5_cred" not in body[0]


def _astdb_phone(asterisk: LocalAsterisk, name: str) -> dict[str, dict[str, str]]:
    """The phone's PJSIP objects as Asterisk holds them in AstDB (asterisk -rx "database get ...")."""
    objects = {}
    for kind in ("endpoint", "auth", "aor"):
        output = asterisk.cli(f"database get ntpd112/{kind} {name}")
        objects[kind] = json.loads(output.split("Value:", 1)[1].strip())
    return objects


async def test_operators_and_agency_desks_share_one_phone_name_space(
    service: Service,
    local_asterisk: LocalAsterisk,
    api: tuple[aiohttp.ClientSession, dict[str, dict[str, str]]],
) -> None:
    session, headers = api
    admin = headers["admin"]
    desk = {"endpoint": "damkar-desk9", "agency": "damkar", "name": "Damkar", "contact": "sip:127.0.0.59:5070"}
    status, created_desk = await _call(session, "POST", "/api/agency-desks", admin, desk)
    assert status == 201, created_desk
    try:
        desk_phone = _astdb_phone(local_asterisk, "damkar-desk9")

        # An operator may not take the desk's name: refused, nothing stored, the desk's phone untouched.
        status, body = await _call(
            session, "POST", "/api/operators", admin, {"username": "damkar-desk9", "name": "Intruder"}
        )
        assert status == 409 and body["error"]["id"] == "name_taken", body
        status, body = await _call(session, "GET", "/api/operators", admin)
        assert status == 200 and body == []
        assert _astdb_phone(local_asterisk, "damkar-desk9") == desk_phone
        # The desk's SIP password still works: Asterisk checks digests against exactly this HA1.
        expected = md5_cred("damkar-desk9", created_desk["sip_password"])
        assert desk_phone["auth"]["md5_cred"] == expected

        # A desk may not take an operator's name either.
        status, _ = await _call(session, "POST", "/api/operators", admin, {"username": "op5", "name": "Rina"})
        assert status == 201
        operator_phone = _astdb_phone(local_asterisk, "op5")
        status, body = await _call(session, "POST", "/api/agency-desks", admin, desk | {"endpoint": "op5"})
        assert status == 409 and body["error"]["id"] == "name_taken", body
        status, body = await _call(session, "GET", "/api/agency-desks", admin)
        assert status == 200 and [d["endpoint"] for d in body] == ["damkar-desk9"]
        assert _astdb_phone(local_asterisk, "op5") == operator_phone

        # Removing the operator leaves the desk's phone where it was.
        status, _ = await _call(session, "DELETE", "/api/operators/op5", admin)
        assert status == 204
        assert _astdb_phone(local_asterisk, "damkar-desk9") == desk_phone
    finally:
        await service.desks.remove("damkar-desk9")


async def test_sessions_over_rest_with_json_errors(
    service: Service, api: tuple[aiohttp.ClientSession, dict[str, dict[str, str]]]
) -> None:
    session, headers = api
    phone = SippAgent("operator.xml", "127.0.0.35")
    async with running(phone):
        await _call(
            session,
            "POST",
            "/api/operators",
            headers["admin"],
            {"username": "op5", "name": "Rina", "contact": phone.contact},
        )
        op = {"Authorization": f"Bearer {await user_token(service, 'op5', 'operator')}"}
        status, body = await _call(session, "POST", "/api/operators/nobody/login", headers["supervisor"])
        assert status == 404 and body["error"]["id"] == "operator_not_found"
        status, body = await _call(session, "POST", "/api/operators/op5/login", op)
        assert status == 200 and body["logged_in"] is True
        status, body = await _call(session, "POST", "/api/operators/op5/login", op)
        assert status == 409 and body["error"]["id"] == "already_logged_in"
        status, body = await _call(session, "POST", "/api/operators/op5/pause", op, {"reason": "nap"})
        assert status == 400 and body["error"]["id"] == "invalid_request"

        # Pausing an operator who is on a call is refused; the call and the queue are untouched.
        number = unique_mobile_number()
        caller = asyncio.create_task(
            run_sipp(
                "caller.xml",
                source=TRUNK_ADDRESSES["xl"],
                keys={"caller": number, "caller_name": "On Call"},
                # Long enough for the refused pause below, which follows at once when op5 is on the call.
                hold_ms=3000,
            )
        )
        await wait_until(lambda: _in_call(service), timeout=10)
        status, body = await _call(session, "POST", "/api/operators/op5/pause", op, {"reason": "break"})
        assert status == 409 and body["error"]["id"] == "operator_on_call"
        assert (await caller).succeeded
        members = await service.operators.queue_members()
        assert members[interface("op5")].paused is False

        status, body = await _call(session, "POST", "/api/operators/op5/pause", op, {"reason": "break"})
        assert status == 200 and body["paused"] is True and body["pause_reason"] == "break"
        assert (await service.operators.queue_members())[interface("op5")].paused is True
        status, body = await _call(session, "POST", "/api/operators/op5/resume", op)
        assert status == 200 and body["paused"] is False
        status, body = await _call(session, "POST", "/api/operators/op5/logout", op)
        assert status == 200 and body["logged_in"] is False
        assert interface("op5") not in await service.operators.queue_members()


async def test_a_login_racing_the_operators_removal_is_refused_or_undone_never_a_5xx(
    service: Service, api: tuple[aiohttp.ClientSession, dict[str, dict[str, str]]]
) -> None:
    # Found by the schema fuzz: a removal committed while a login waited for its QueueAdd made the login a 500 and
    # left the removed operator in the queue. Either order is fine; a half of each is not.
    session, headers = api
    for round_ in range(6):
        username = f"race{round_}"
        new = {"username": username, "name": "Race", "contact": "sip:127.0.0.39:5070"}
        status, _ = await _call(session, "POST", "/api/operators", headers["admin"], new)
        assert status == 201
        (login, _), (removal, _) = await asyncio.gather(
            _call(session, "POST", f"/api/operators/{username}/login", headers["supervisor"]),
            _call(session, "DELETE", f"/api/operators/{username}", headers["admin"]),
        )
        assert (login, removal) in {(200, 204), (404, 204)}, (login, removal)
        assert interface(username) not in await service.operators.queue_members()
    status, body = await _call(session, "GET", "/api/operators", headers["admin"])
    assert status == 200 and body == []


async def _in_call(service: Service) -> bool:
    member = (await service.operators.queue_members()).get(interface("op5"))
    return member is not None and member.in_call


async def test_callback_list_over_rest(
    service: Service, api: tuple[aiohttp.ClientSession, dict[str, dict[str, str]]]
) -> None:
    session, headers = api
    status, body = await _call(session, "GET", "/api/callbacks", headers["operator"])
    assert status == 200 and body == []
    status, body = await _call(
        session, "POST", "/api/callbacks/not-a-uuid/take", headers["operator"], {"operator": "op1"}
    )
    assert status == 400 and body["error"]["id"] == "invalid_call_id"
    unknown = "00000000-0000-0000-0000-000000000001"
    status, body = await _call(
        session, "POST", f"/api/calls/{unknown}/callback", headers["operator"], {"reason": "silent"}
    )
    assert status == 404 and body["error"]["id"] == "call_not_found"


async def test_operators_from_the_command_line(service: Service) -> None:
    async def cli(*args: str) -> Run:
        return await ntpd112(service.settings.database_url.get_secret_value(), *args)

    added = await cli("operators", "add", "op8", "--name", "Budi", "--contact", "sip:127.0.0.38:5070", "--json")
    assert added.code == 0, added.err
    assert '"sip_password"' in added.out
    assert (await cli("operators", "login", "op8")).code == 0
    again = await cli("operators", "login", "op8")
    assert again.code == 1 and "already_logged_in" in again.err
    listed = await cli("operators", "list", "--json")
    assert '"logged_in": true' in listed.out
    bad = await cli("operators", "add", "Bad Name", "--name", "x")
    assert bad.code == 2 and "username" in bad.err
    assert (await cli("operators", "remove", "op8")).code == 0
