"""No input causes a 5xx: every route of the live service (real Asterisk and PostgreSQL) under the hostile matrix
and under schemathesis, for every role.

The matrix sends, to each declared route, one request per class of hostile input (credentials, roles, JSON, types,
NUL and control characters, sizes, overflows, ids, traversal, duplicates, replay), injecting the class's value
into every path parameter, query field and body field the route declares. Any 5xx fails; every refusal is JSON with
a stable error id; no table gains or loses a row. The routes come from the declarations (web/endpoints.py), so a
new route is covered without touching this file.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, update

from ntpd112.access.roles import STAFF_RANK, Role
from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.store.models import ApiToken, Base, User
from ntpd112.web.endpoints import (
    ENDPOINTS,
    FORM_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    MULTIPART_MEDIA_TYPE,
    Endpoint,
    needs_identity,
    role_of,
)
from tests.integration.conftest import password_hash, service_settings, user_token, wait_until
from tests.integration.hostile_matrix import Probe, RouteProbes, send_probes
from tests.integration.raw_http import raw_request
from tests.integration.schema_fuzz import ROLES as FUZZ_ROLES
from tests.integration.schema_fuzz import planned_requests, send

ROLES: tuple[Role, ...] = ("operator", "supervisor", "admin")


@pytest.fixture
async def hostile_service(local_asterisk: LocalAsterisk, clean_database: str, tmp_path: Path) -> AsyncIterator[Service]:
    # No Asterisk configuration directory: a routing table published by the fuzzer must not reach the shared
    # Asterisk's fail-safe include.
    service = Service(service_settings(clean_database, tmp_path / "spool", asterisk_config_dir=None))
    await service.start()
    try:
        await wait_until(lambda: service.ari.connected and service.ami.connected)
        yield service
    finally:
        await service.stop()


async def bearer_tokens(service: Service) -> dict[str, str]:
    """A personal token per staff role and one of an agency user (the wrong role for operator-level routes), each
    of its own user."""
    tokens = {role: await user_token(service, f"hostile-{role}", role) for role in ROLES}
    async with service.database.session() as session, session.begin():
        agency_user = User(
            username="hostile-agency",
            full_name="Damkar Desk",
            roles=["agency"],
            agency="damkar",
            must_change_password=False,
            active=True,
        )
        session.add(agency_user)
    created = await service.accounts.tokens.create(agency_user, "test", utcnow() + timedelta(days=1))
    return tokens | {"agency": created.token}


# -- credentials -------------------------------------------------------------------------------------------


Credential = tuple[bytes, bytes]  # a header: name and value


async def _unknown_token(service: Service) -> Credential:
    return b"Authorization", b"Bearer ntpd112_" + b"x" * 43


async def _revoked_token_row(service: Service) -> Credential:
    """A personal token whose row was marked revoked in the database."""
    token = await user_token(service, "hostile-revoked-row", "admin")
    found = await service.accounts.tokens.identify(token)
    assert found is not None
    async with service.database.session() as session, session.begin():
        await session.execute(update(ApiToken).where(ApiToken.id == found.id).values(revoked_at=utcnow()))
    return b"Authorization", f"Bearer {token}".encode()


async def _revoked_personal_token(service: Service) -> Credential:
    """An admin's personal token, created and revoked through the API (POST and DELETE /api/tokens)."""
    port, json_type = service.settings.http_port, (b"Content-Type", JSON_MEDIA_TYPE.encode())
    owner = (b"Authorization", f"Bearer {await user_token(service, 'hostile-revoker', 'admin')}".encode())
    answer = await raw_request(port, "POST", b"/api/tokens", [owner, json_type], b'{"name": "to be revoked"}')
    assert answer.status == 201, answer.body
    created = answer.json()
    answer = await raw_request(port, "DELETE", f"/api/tokens/{created['id']}".encode(), [owner])
    assert answer.status == 204, answer.body
    return b"Authorization", f"Bearer {created['token']}".encode()


async def _signed_out_session(service: Service) -> Credential:
    """An admin's session cookie, signed in and out through the API."""
    port = service.settings.http_port
    await user_token(service, "hostile-session", "admin")  # the user, with the first password changed
    async with service.database.session() as session, session.begin():
        await session.execute(
            update(User).where(User.username == "hostile-session").values(password_hash=password_hash(PASSWORD))
        )
    sign_in = json.dumps({"username": "hostile-session", "password": PASSWORD}).encode()
    answer = await raw_request(port, "POST", b"/api/session", [(b"Content-Type", JSON_MEDIA_TYPE.encode())], sign_in)
    assert answer.status == 200, answer.body
    cookie = answer.headers["set-cookie"].split(";")[0].encode()
    origin = (service.accounts.public_origin or "http://127.0.0.1").encode()  # raw_request's Host has no port
    answer = await raw_request(port, "DELETE", b"/api/session", [(b"Cookie", cookie), (b"Origin", origin)])
    assert answer.status == 204, answer.body
    return b"Cookie", cookie


# Each makes a credential that was valid once or never was, as the header that carries it.
REVOKED_CREDENTIALS: dict[str, Callable[[Service], Awaitable[Credential]]] = {
    "unknown token": _unknown_token,
    "revoked token row": _revoked_token_row,
    "revoked personal token": _revoked_personal_token,
    "signed-out session": _signed_out_session,
}
PASSWORD = "korek-api-biru-7"


# -- the matrix --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """What one class of hostile input puts into a path parameter, a query field and a body field."""

    path: str
    query: str
    body: Any


INJECTED = {
    "wrong types": Hostile("true", "[1]", [[1]]),
    "nul character": Hostile("a%00b", "a\x00b", "a\x00b"),
    "control characters": Hostile("a%01%1b[31mb", "a\x01\x1b[31mb\r\nX-Injected: 1", "a\x01\x1b[31mb\r\n"),
    "over-long strings": Hostile("a" * 5000, "a" * 5000, "a" * 100_000),
    "integer overflow": Hostile("99999999999999999999", "99999999999999999999", 10**30),
    "date overflow": Hostile("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59-14:00"),
    "invalid ids": Hostile("not-an-id", "-1", -1),
    "traversal": Hostile("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "../../etc/passwd"),
}
PLAUSIBLE_PATH_VALUES = {
    "call_id": "00000000-0000-4000-8000-000000000112",
    "username": "hostile-op",
    "endpoint": "hostile-desk",
    "version": "999999",  # no such version: a restore must be refused, not done
    "asset": "docs.js",
    "token_id": "00000000-0000-4000-8000-000000000404",  # no such token: a revoke must be refused
    "ticket_id": "00000000-0000-4000-8000-000000000115",  # no such ticket: a transition must be refused
    "photo_id": "00000000-0000-4000-8000-000000000116",  # no such photo
    "agency": "no-such-agency",  # not in the routing table: a webhook secret must be refused
    "mode": "barge",  # a supervisor's listen (hostile-op is no operator: refused 404)
    # A map tile that no configured directory holds (the matrix's service has none: 404).
    "z": "3",
    "x": "2",
    "y": "1",
}


def _fields(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _target(endpoint: Endpoint, path_value: str | None = None, query: dict[str, str] | None = None) -> bytes:
    def fill(match: re.Match[str]) -> str:
        return path_value if path_value is not None else PLAUSIBLE_PATH_VALUES[match.group(1)]

    path = re.sub(r"{(\w+)(?::[^}]*)?}", fill, endpoint.path)
    query_text = urllib.parse.urlencode(query or {})
    return (path + ("?" + query_text if query_text else "")).encode("utf-8", "surrogateescape")


def _encode_body(endpoint: Endpoint, fields: dict[str, Any]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    if endpoint.media_type == FORM_MEDIA_TYPE:
        form = {name: value if isinstance(value, str) else json.dumps(value) for name, value in fields.items()}
        return [(b"Content-Type", FORM_MEDIA_TYPE.encode())], urllib.parse.urlencode(form).encode()
    if endpoint.media_type == JSON_MEDIA_TYPE:
        return [(b"Content-Type", JSON_MEDIA_TYPE.encode())], json.dumps(fields).encode()
    if endpoint.media_type == MULTIPART_MEDIA_TYPE:
        return _multipart(fields)
    return [], b""


def _multipart(fields: dict[str, Any]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """One file part per field, the hostile value as its file name (raw bytes in the part's header) and content."""
    boundary = b"hostile-boundary"
    body = b""
    for name, value in fields.items():
        text = (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogateescape")
        disposition = b'Content-Disposition: form-data; name="' + name.encode() + b'"; filename="' + text + b'"'
        body += b"--" + boundary + b"\r\n" + disposition + b"\r\n\r\n" + text + b"\r\n"
    content_type = f"{MULTIPART_MEDIA_TYPE}; boundary={boundary.decode()}".encode()
    return [(b"Content-Type", content_type)], body + b"--" + boundary + b"--\r\n"


def _body_model(endpoint: Endpoint) -> type[BaseModel] | None:
    return endpoint.inputs.get("body") or endpoint.inputs.get("form")


def probes(endpoint: Endpoint, good: bytes, revoked: dict[str, Credential], lower_role: bytes | None) -> list[Probe]:
    """Every hostile request for one route. `good` is a credential with the route's role."""
    auth = [(b"Authorization", good)]
    method, base_target = endpoint.method, _target(endpoint)
    content_type, base_body = _encode_body(endpoint, {})
    json_type = [(b"Content-Type", JSON_MEDIA_TYPE.encode())]
    out = [
        Probe("missing credentials", method, base_target, content_type, base_body),
        Probe("malformed credentials", method, base_target, [(b"Authorization", b"Bearer a b c"), *content_type]),
        Probe("basic credentials", method, base_target, [(b"Authorization", b"Basic dXNlcjpwdw=="), *content_type]),
        Probe("non-utf8 credentials", method, base_target, [(b"Authorization", b"Bearer \xff\xfe\xfd"), *content_type]),
        *(
            Probe(f"revoked: {name}", method, base_target, [header, *content_type], base_body)
            for name, header in revoked.items()
        ),
        Probe("malformed json", method, base_target, auth + json_type, b'{"a": '),
        Probe("deeply nested json", method, base_target, auth + json_type, b"[" * 1100 + b"]" * 1100),
        Probe("nested json object", method, base_target, auth + json_type, b'{"a":' * 1100 + b"1" + b"}" * 1100),
        Probe("oversize body", method, base_target, auth + content_type, b"{" + b" " * (300 * 1024) + b"}"),
        Probe("duplicate json fields", method, base_target, auth + json_type, b'{"reason": "x", "reason": "y"}'),
        Probe("control character header", method, base_target, [*auth, (b"X-Evil", b"a\x01b")]),
        Probe("non-utf8 header", method, base_target, [*auth, (b"User-Agent", b"\xc3\x28")]),
        Probe("nul in target", method, base_target + b"%00", auth),
    ]
    if lower_role is not None:
        out.append(Probe("wrong role", method, base_target, [(b"Authorization", lower_role), *content_type], base_body))
    query_fields = _fields(endpoint.inputs.get("query")) or ["unexpected"]
    out.append(
        Probe(
            "duplicate query fields",
            method,
            _target(endpoint) + b"?" + "&".join(f"{name}=1&{name}=2" for name in query_fields).encode(),
            auth + content_type,
            base_body,
        )
    )
    body_fields = _fields(_body_model(endpoint)) or list((endpoint.upload_schema or {}).get("properties", {}))
    for kind, hostile in INJECTED.items():
        has_path = "{" in endpoint.path
        target = _target(endpoint, hostile.path if has_path else None, dict.fromkeys(query_fields, hostile.query))
        headers, body = _encode_body(endpoint, dict.fromkeys(body_fields, hostile.body))
        out.append(Probe(kind, method, target, auth + headers, body))
    return out


def _lower_role(endpoint: Endpoint, tokens: dict[str, str]) -> bytes | None:
    role = role_of(endpoint.access)
    if role is None or role == "agency":
        return None
    # Below operator there is no staff role: an agency user holds none, so theirs is the wrong role there.
    lower = [r for r in ROLES if STAFF_RANK[r] < STAFF_RANK[role]] or ["agency"]
    return f"Bearer {tokens[lower[-1]]}".encode()


# The audit trail records refused requests too (README, Audit trail): the one table a refusal adds to.
AUDITED = "audit_log"


async def _row_counts(service: Service) -> dict[str, int]:
    async with service.database.session() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name != AUDITED
        }


# Both tests send from two worker processes, each taking the next of eight shares as it finishes one, while the
# service answers in the test's process.
WORKER_PROCESSES = 2
SHARES = 8
T = TypeVar("T")


async def from_worker_processes(send: Callable[..., T], items: Sequence[Any], *args: Any) -> list[T]:
    """`send(share, *args)` for every share of `items`, in spawned worker processes."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(WORKER_PROCESSES, mp_context=multiprocessing.get_context("spawn")) as workers:
        shares = [loop.run_in_executor(workers, send, items[share::SHARES], *args) for share in range(SHARES)]
        return await asyncio.gather(*shares)


async def test_the_hostile_matrix_causes_no_5xx_and_stores_nothing(hostile_service: Service) -> None:
    service = hostile_service
    tokens = await bearer_tokens(service)
    revoked = {name: await make(service) for name, make in REVOKED_CREDENTIALS.items()}
    before = await _row_counts(service)
    routes: list[RouteProbes] = []
    for endpoint in service.web_app[ENDPOINTS]:
        role = role_of(endpoint.access) or "admin"
        good = f"Bearer {tokens[role]}".encode()
        endpoint_probes = probes(endpoint, good, revoked, _lower_role(endpoint, tokens))
        assert len({p.kind for p in endpoint_probes}) >= 15, endpoint.path
        first = sum(len(route.probes) for route in routes)
        routes.append(RouteProbes(endpoint.path, needs_identity(endpoint.access), endpoint_probes, first))
    results = await from_worker_processes(send_probes, routes, service.settings.http_port)
    problems = [found for result in results for found in result.problems]
    assert problems == [], "\n".join(problems)
    await service.journal.flushed()
    assert await _row_counts(service) == before
    assert [p for p in service.settings.ticket_attachments_dir.rglob("*") if p.is_file()] == []  # no photo file
    assert sum(result.sent for result in results) > 1000


# -- schemathesis ------------------------------------------------------------------------------------------


@pytest.mark.schema_fuzz
async def test_schemathesis_finds_no_5xx_for_any_role(hostile_service: Service) -> None:
    base_url = f"http://127.0.0.1:{hostile_service.settings.http_port}"
    planned = await asyncio.to_thread(planned_requests)
    async with aiohttp.ClientSession() as client, client.get(f"{base_url}/api/openapi.json") as served:
        # What the requests were planned from (built in the planning process) is what the service serves.
        assert await served.json() == planned.document
    tokens = await bearer_tokens(hostile_service)
    results = await from_worker_processes(send, planned.requests, base_url, tokens)
    reached = set().union(*(result.reached for result in results))
    failures = [failure for result in results for failure in result.failures]
    # Every operation reached the service for every role.
    assert reached == {(operation, role) for operation in planned.operations for role in FUZZ_ROLES}, sorted(reached)
    assert failures == [], "\n".join(failures[:50])
