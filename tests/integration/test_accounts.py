"""Accounts against the real service and PostgreSQL: sign-in and out, expiry, revocation, attempt limits, the
Origin check, operators acting only on themselves, personal tokens and the audit trail (its contents, that it is
append-only and never holds a password or a token), and the commands that manage them."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import argon2
import pytest
from sqlalchemy import text, update

from ntpd112.access.passwords import needs_rehash
from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.queue.operators import NewOperator
from ntpd112.store.models import User, UserSession
from ntpd112.store.users import NewUser
from tests.integration.cli import Run, ntpd112
from tests.integration.conftest import password_hash, user_token

PASSWORD = "korek-api-biru-7"
NEW_PASSWORD = "Sapu lidi di pojok dapur"


class Client:
    """Requests to the service with the session cookie handled by hand (aiohttp's jar ignores IP-address hosts)."""

    def __init__(self, http: aiohttp.ClientSession, origin: str) -> None:
        self.http = http
        self.origin = origin
        self.cookie: str | None = None

    async def request(
        self, method: str, path: str, body: Any = None, *, origin: str | None = "own", token: str | None = None
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = {}
        if self.cookie is not None:
            headers["Cookie"] = f"ntpd112_session={self.cookie}"
        if origin is not None:
            headers["Origin"] = self.origin if origin == "own" else origin
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, path, json=body, headers=headers) as response:
            data = await response.json() if response.content_type == "application/json" else None
            morsel = response.cookies.get("ntpd112_session")
            if morsel is not None:
                self.cookie = morsel.value or None
            return response.status, data, response

    async def sign_in(self, username: str, password: str) -> tuple[int, Any, aiohttp.ClientResponse]:
        return await self.request("POST", "/api/session", {"username": username, "password": password})


@pytest.fixture
async def client(service: Service) -> AsyncIterator[Client]:
    origin = f"http://127.0.0.1:{service.settings.http_port}"
    async with aiohttp.ClientSession(base_url=origin, cookie_jar=aiohttp.DummyCookieJar()) as http:
        yield Client(http, origin)


async def add_user(service: Service, username: str, roles: list[str], agency: str | None = None) -> None:
    new = NewUser.model_validate(
        {"username": username, "full_name": "Rina Wulandari", "roles": roles, "agency": agency}
    )
    await service.accounts.users.add(new, password_hash(PASSWORD))


async def signed_in(service: Service, client: Client, username: str, roles: list[str]) -> None:
    """`username` exists, has changed the first password and is signed in."""
    await add_user(service, username, roles)
    status, _, _ = await client.sign_in(username, PASSWORD)
    assert status == 200
    status, body, _ = await client.request(
        "POST", "/api/session/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert status == 204, body


async def test_sign_in_first_password_change_and_sign_out(service: Service, client: Client) -> None:
    await add_user(service, "rina", ["operator"])
    status, body, _ = await client.sign_in("rina", "wrong-password-123")
    assert (status, body["error"]["id"]) == (401, "bad_credentials")
    status, body, _ = await client.sign_in("nobody", PASSWORD)
    assert (status, body["error"]["id"]) == (401, "bad_credentials")  # the same answer: no user oracle
    assert client.cookie is None

    status, body, response = await client.sign_in("rina", PASSWORD)
    assert status == 200
    assert body["user"] == {
        "username": "rina",
        "full_name": "Rina Wulandari",
        "roles": ["operator"],
        "agency": None,
        "must_change_password": True,
    }
    assert body["expires_at"]
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain HTTP on loopback
    async with service.database.session() as session:
        stored = await session.scalar(text("SELECT secret_sha256 FROM user_sessions"))
    assert client.cookie and stored and client.cookie not in stored  # only the hash is stored

    # Until the password is changed, only the session routes answer.
    status, body, _ = await client.request("GET", "/api/calls")
    assert (status, body["error"]["id"]) == (403, "password_change_required")
    change = {"current_password": PASSWORD, "new_password": "Password2026!"}
    status, body, _ = await client.request("POST", "/api/session/password", change, origin=None)
    assert (status, body["error"]["id"]) == (403, "bad_origin")
    status, body, _ = await client.request("POST", "/api/session/password", change)
    assert (status, body["error"]["id"]) == (400, "weak_password")
    change = {"current_password": "not-the-password", "new_password": NEW_PASSWORD}
    status, body, _ = await client.request("POST", "/api/session/password", change)
    assert (status, body["error"]["id"]) == (401, "bad_credentials")
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    status, _, _ = await client.request("POST", "/api/session/password", change)
    assert status == 204

    status, body, _ = await client.request("GET", "/api/calls")
    assert status == 200 and isinstance(body, list)
    status, body, _ = await client.request("GET", "/api/session")
    assert status == 200 and body["user"]["must_change_password"] is False

    old_cookie = client.cookie
    status, _, response = await client.request("DELETE", "/api/session")
    assert status == 204 and "ntpd112_session=" in response.headers["Set-Cookie"] and client.cookie is None
    client.cookie = old_cookie  # replayed after sign-out: revoked server-side
    status, body, _ = await client.request("GET", "/api/session")
    assert (status, body["error"]["id"]) == (401, "not_signed_in")
    client.cookie = None
    status, body, _ = await client.request("GET", "/api/session")
    assert (status, body["error"]["id"]) == (401, "not_signed_in")
    # The old password is gone, the new one works.
    assert (await client.sign_in("rina", PASSWORD))[0] == 401
    assert (await client.sign_in("rina", NEW_PASSWORD))[0] == 200


async def test_a_hash_of_older_parameters_signs_in_and_is_made_again_with_todays(
    service: Service, client: Client
) -> None:
    # Hashes made before the parameters changed (argon2-cffi's default) still sign in, and their next sign-in stores
    # the same password with today's parameters; nothing else of the account changes.
    await add_user(service, "tua", ["operator"])
    older = argon2.PasswordHasher().hash(PASSWORD)
    async with service.database.session() as session, session.begin():
        await session.execute(update(User).where(User.username == "tua").values(password_hash=older))
    before = await service.accounts.users.get("tua")
    assert before is not None and needs_rehash(older)
    status, _, _ = await client.sign_in("tua", PASSWORD)
    assert status == 200
    after = await service.accounts.users.get("tua")
    assert after is not None and after.password_hash != older and not needs_rehash(after.password_hash or "")
    assert (after.password_changed_at, after.must_change_password) == (
        before.password_changed_at,
        before.must_change_password,
    )
    client.cookie = None
    assert (await client.sign_in("tua", PASSWORD))[0] == 200  # the new hash verifies the same password
    assert (await client.sign_in("tua", NEW_PASSWORD))[0] == 401


async def test_sessions_expire_when_idle_or_too_old_and_end_when_the_user_is_disabled(
    service: Service, client: Client
) -> None:
    await signed_in(service, client, "rina", ["operator"])
    assert (await client.request("GET", "/api/calls"))[0] == 200
    idle = service.accounts.sessions.idle
    async with service.database.session() as session, session.begin():
        await session.execute(update(UserSession).values(last_seen_at=utcnow() - idle - timedelta(seconds=1)))
    status, body, _ = await client.request("GET", "/api/calls")
    assert (status, body["error"]["id"]) == (401, "unauthorized")

    assert (await client.sign_in("rina", NEW_PASSWORD))[0] == 200
    absolute = service.accounts.sessions.absolute
    async with service.database.session() as session, session.begin():
        await session.execute(
            update(UserSession)
            .where(UserSession.revoked_at.is_(None))
            .values(signed_in_at=utcnow() - absolute - timedelta(seconds=1), last_seen_at=utcnow())
        )
    assert (await client.request("GET", "/api/calls"))[0] == 401

    assert (await client.sign_in("rina", NEW_PASSWORD))[0] == 200
    token = (await client.request("POST", "/api/tokens", {"name": "script"}))[1]["token"]
    assert (await client.request("GET", "/api/calls"))[0] == 200
    await service.accounts.users.disable("rina")
    assert (await client.request("GET", "/api/calls"))[0] == 401
    client.cookie = None
    assert (await client.request("GET", "/api/calls", token=token))[0] == 401
    assert (await client.sign_in("rina", NEW_PASSWORD))[0] == 401


async def test_state_changing_cookie_requests_need_the_services_origin(service: Service, client: Client) -> None:
    await signed_in(service, client, "rina", ["operator"])
    for origin in (None, "http://evil.example", "null", client.origin + ".evil.example"):
        status, body, _ = await client.request("POST", "/api/tokens", {"name": "x"}, origin=origin)
        assert (status, body["error"]["id"]) == (403, "bad_origin"), origin
    assert (await client.request("GET", "/api/tokens", origin=None))[0] == 200  # reads need no Origin
    status, body, _ = await client.request("POST", "/api/tokens", {"name": "script"})
    assert status == 201
    # A bearer token needs no Origin (a browser never adds the header by itself).
    bearer = Client(client.http, client.origin)
    status, body, _ = await bearer.request("POST", "/api/tokens", {"name": "other"}, origin=None, token=body["token"])
    assert status == 201


async def test_personal_tokens_are_listed_expire_and_are_revoked(service: Service, client: Client) -> None:
    await signed_in(service, client, "rina", ["operator"])
    status, created, _ = await client.request("POST", "/api/tokens", {"name": "laporan harian", "expires_in_days": 7})
    assert status == 201 and created["token"].startswith("ntpd112_") and created["username"] == "rina"
    for bad in ({"name": ""}, {"name": "x", "expires_in_days": 366}, {"name": "x", "expires_in_days": 0}):
        status, body, _ = await client.request("POST", "/api/tokens", bad)
        assert (status, body["error"]["id"]) == (400, "invalid_request"), bad
    other = await user_token(service, "budi", "operator")

    status, listed, _ = await client.request("GET", "/api/tokens")
    assert status == 200 and [t["name"] for t in listed] == ["laporan harian"]  # not budi's
    assert all("token" not in t for t in listed)
    status, body, _ = await client.request("GET", "/api/tokens", token=await user_token(service, "adm", "admin"))
    assert {t["username"] for t in body} >= {"rina", "budi", "adm"}  # an admin sees everyone's

    budi_token_id = next(t["id"] for t in body if t["username"] == "budi")
    status, body, _ = await client.request("DELETE", f"/api/tokens/{budi_token_id}")
    assert (status, body["error"]["id"]) == (404, "token_not_found")  # not hers to revoke
    assert (await client.request("GET", "/api/calls", origin=None, token=other))[0] == 200

    assert (await client.request("GET", "/api/calls", token=created["token"]))[0] == 200
    assert (await client.request("DELETE", f"/api/tokens/{created['id']}"))[0] == 204
    assert (await client.request("GET", "/api/calls", token=created["token"]))[0] == 401
    assert (await client.request("DELETE", "/api/tokens/not-a-uuid"))[1]["error"]["id"] == "invalid_token_id"

    async with service.database.session() as session, session.begin():
        await session.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second'"))
    assert (await client.request("GET", "/api/calls", token=other))[0] == 401


async def test_sign_in_failures_are_limited_per_user_and_per_address(service: Service, client: Client) -> None:
    await add_user(service, "rina", ["operator"])
    for _ in range(5):
        assert (await client.sign_in("rina", "wrong-password-123"))[0] == 401
    status, body, response = await client.sign_in("rina", PASSWORD)  # even the right password now
    assert (status, body["error"]["id"]) == (429, "too_many_attempts")
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert client.cookie is None

    await add_user(service, "budi", ["operator"])
    for n in range(15):  # 5 failures for rina above + 15 for made-up users: 20 from this address
        assert (await client.sign_in(f"user{n}", "wrong-password-123"))[0] == 401
    status, body, response = await client.sign_in("budi", PASSWORD)
    assert (status, body["error"]["id"]) == (429, "too_many_attempts") and "Retry-After" in response.headers


async def test_wrong_bearer_tokens_meet_a_limit(service: Service, client: Client) -> None:
    statuses = []
    for n in range(40):
        statuses.append((await client.request("GET", "/api/calls", origin=None, token=f"ntpd112_guess{n:020d}"))[0])
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    good = await user_token(service, "rina", "operator")
    status, body, response = await client.request("GET", "/api/calls", origin=None, token=good)
    assert (status, body["error"]["id"]) == (429, "too_many_attempts") and int(response.headers["Retry-After"]) >= 1
    # Non-UTF-8 and garbage credentials are refused, never a 5xx.
    async with client.http.get("/api/calls", headers={"Cookie": "ntpd112_session=\udcff\udcfe"}) as response:
        assert response.status == 401


async def test_an_operator_acts_only_on_themself(service: Service, client: Client) -> None:
    for username in ("opa", "opb"):
        await service.operators.add(NewOperator(username=username, name=username, contact="sip:127.0.0.39:5070"))
    try:
        opa = await user_token(service, "opa", "operator")
        supervisor = await user_token(service, "spv", "supervisor")
        for action in ("login", "logout", "resume"):
            status, body, _ = await client.request("POST", f"/api/operators/opb/{action}", token=opa)
            assert (status, body["error"]["id"]) == (403, "not_yourself"), action
        status, body, _ = await client.request("POST", "/api/operators/opa/logout", token=opa)
        assert (status, body["error"]["id"]) == (409, "not_logged_in")  # allowed: it is herself
        status, body, _ = await client.request("POST", "/api/operators/opb/logout", token=supervisor)
        assert (status, body["error"]["id"]) == (409, "not_logged_in")  # a supervisor may act on others

        call_id = service.journal.record_call(f"test-{uuid.uuid4()}", trunk="telkomsel", operator="opb")
        await service.journal.flushed()
        status, body, _ = await client.request("POST", f"/api/callbacks/{call_id}/take", {"operator": "opb"}, token=opa)
        assert (status, body["error"]["id"]) == (403, "not_yourself")
        status, body, _ = await client.request("POST", f"/api/calls/{call_id}/dispatch", {"mode": "blind"}, token=opa)
        assert (status, body["error"]["id"]) == (403, "not_your_call")
    finally:
        for username in ("opa", "opb"):
            await service.operators.remove(username)
    # Removing the phone keeps the person: the user (and the trail of what they did) stays.
    assert {"opa", "opb"} <= {user.username for user in await service.accounts.users.list()}


async def test_an_agency_user_is_bound_to_an_agency_and_holds_no_staff_role(service: Service, client: Client) -> None:
    with pytest.raises(ValueError, match="bound to exactly one agency"):
        NewUser.model_validate({"username": "damkar1", "full_name": "D", "roles": ["agency"]})
    new = NewUser.model_validate({"username": "damkar1", "full_name": "D", "roles": ["agency"], "agency": "damkar"})
    await service.accounts.users.add(new, password_hash(PASSWORD))
    status, body, _ = await client.sign_in("damkar1", PASSWORD)
    assert status == 200 and body["user"]["agency"] == "damkar" and body["user"]["roles"] == ["agency"]
    await client.request("POST", "/api/session/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    status, body, _ = await client.request("GET", "/api/calls")
    assert (status, body["error"]["id"]) == (403, "forbidden")


async def test_the_audit_trail_records_who_did_what_and_never_a_secret(service: Service, client: Client) -> None:
    since = utcnow()
    await add_user(service, "rina", ["operator"])
    assert (await client.sign_in("rina", "wrong-password-123"))[0] == 401
    assert (await client.sign_in("rina", PASSWORD))[0] == 200
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await client.request("POST", "/api/session/password", change))[0] == 204
    status, created, _ = await client.request("POST", "/api/tokens", {"name": "script"})
    session_cookie = client.cookie
    assert (await client.request("POST", "/api/operators/opz/login"))[0] == 403  # refused: audited too
    assert (await client.request("DELETE", "/api/session"))[0] == 204

    admin = await user_token(service, "adm", "admin")
    status, body, _ = await client.request("GET", "/api/audit", token=await user_token(service, "spv", "supervisor"))
    assert (status, body["error"]["id"]) == (403, "forbidden")
    status, page, _ = await client.request("GET", f"/api/audit?user=rina&since={quote(since.isoformat())}", token=admin)
    assert status == 200
    entries = [(e["action"], e["status"], e["outcome"]) for e in reversed(page["entries"])]
    assert entries == [
        ("login", 401, "bad_credentials"),
        ("login", 200, "ok"),
        ("password_change", 204, "ok"),
        ("POST /api/tokens", 201, "ok"),
        # The audit names the declared route, one per action.
        ("POST /api/operators/{username}/login", 403, "not_yourself"),
        ("logout", 204, "ok"),
    ]
    assert {e["source_address"] for e in page["entries"]} == {"127.0.0.1"}
    assert page["entries"][0]["roles"] == ["operator"] and page["entries"][0]["via"] == "session"
    assert page["entries"][1]["target"] == "/api/operators/opz/login"

    status, first, _ = await client.request("GET", "/api/audit?user=rina&limit=2", token=admin)
    status, second, _ = await client.request(
        "GET", f"/api/audit?user=rina&limit=2&before={first['next_before']}", token=admin
    )
    assert [e["id"] for e in first["entries"]] > [e["id"] for e in second["entries"]]
    assert not {e["id"] for e in first["entries"]} & {e["id"] for e in second["entries"]}
    status, body, _ = await client.request("GET", "/api/audit?limit=0", token=admin)
    assert (status, body["error"]["id"]) == (400, "invalid_request")

    async with service.database.session() as session:
        everything = " ".join(str(row) for row in (await session.execute(text("SELECT * FROM audit_log"))).all())
    for secret in (PASSWORD, NEW_PASSWORD, "wrong-password-123", created["token"], admin, session_cookie):
        assert secret and secret not in everything

    for statement in ("UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        async with service.database.session() as session:
            with pytest.raises(Exception, match="append-only"):
                await session.execute(text(statement))


async def test_users_tokens_and_audit_from_the_command_line(service: Service) -> None:
    async def cli(*args: str, stdin: str = "") -> Run:
        return await ntpd112(service.settings.database_url.get_secret_value(), *args, stdin=stdin)

    add_sari = ("users", "add", "sari", "--name", "Sari", "--role", "supervisor", "--password-from", "stdin")
    weak = await cli(*add_sari, stdin="sari12345678\n")
    assert weak.code == 2 and "weak_password" in weak.err
    added = await cli(*add_sari, stdin=NEW_PASSWORD + "\n")
    assert added.code == 0, added.err
    assert NEW_PASSWORD not in added.out  # read from stdin: not printed back
    again = await cli("users", "add", "sari", "--name", "Sari", "--role", "operator")
    assert again.code == 1 and "user_exists" in again.err
    unbound = await cli("users", "add", "bpbd1", "--name", "B", "--role", "agency")
    assert unbound.code == 2 and "agency" in unbound.err
    reset = await cli("users", "reset-password", "sari")
    assert reset.code == 0 and "shown once" in reset.out
    listed = await cli("users", "list", "--json")
    assert '"username": "sari"' in listed.out and "password" not in listed.out.replace("must_change_password", "")

    token = await cli("tokens", "create", "--user", "sari", "--name", "nightly export", "--days", "30")
    assert token.code == 0 and token.out.startswith("ntpd112_")
    tokens = await cli("tokens", "list", "--user", "sari", "--json")
    [row] = json.loads(tokens.out)
    assert row["name"] == "nightly export" and token.out.strip() not in tokens.out
    assert (await cli("tokens", "revoke", row["id"])).code == 0
    assert (await cli("tokens", "revoke", row["id"])).code == 1
    assert (await cli("users", "disable", "sari")).code == 0

    trail = await cli("audit", "--user", f"cli:{getpass.getuser()}", "--json")
    actions = [entry["action"] for entry in json.loads(trail.out)]
    assert actions[:5] == ["users disable", "tokens revoke", "tokens create", "users reset-password", "users add"]
