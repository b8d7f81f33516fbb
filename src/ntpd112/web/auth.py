"""Who is asking, and the record of what they did.

`auth_middleware` identifies every request but the public ones: `Authorization: Bearer <personal token>` when the
header is there, else the `ntpd112_session` cookie. A state-changing request signed in by the cookie must carry an
`Origin` equal to the service's own (a cross-site form or script cannot), else 403 bad_origin; bearer requests
need none (a browser never adds the header by itself). Wrong bearer tokens are limited per source address. A user
who must change their password may only do that, look at their session and sign out.

`audit_middleware` writes one audit entry per state-changing /api request once it is answered (who, roles, the
route, the path, status and error id, source address). The session routes write their own entries (sign-in,
sign-out, password change) and the signed AML posts none (they come from handsets, not people). An audit write
that fails is logged and does not fail the request: a 112 room keeps working while PostgreSQL hiccups.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Literal

from aiohttp import web

from ntpd112.logs import get_logger
from ntpd112.store.audit import AuditRecord
from ntpd112.store.sessions import Holder
from ntpd112.web.common import (
    DEPS,
    IDENTITY_KEY,
    PUBLIC_PATHS,
    SIGNED_PATHS,
    Accounts,
    ApiError,
    Handler,
    Identity,
    error_response,
)

log = get_logger(__name__)

SESSION_COOKIE = "ntpd112_session"
SESSION_PATH = "/api/session"
PASSWORD_PATH = "/api/session/password"  # noqa: S105 - a route, not a password
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a session secret or a token can look like (secrets.token_urlsafe, with the token prefix): anything else is
# refused before it is hashed or looked up (non-UTF-8 bytes included).
_CREDENTIAL = re.compile(r"^[A-Za-z0-9_-]{16,200}$")


def identity_of(
    user: Holder, via: Literal["session", "token"], credential_id: uuid.UUID, expires_at: datetime
) -> Identity:
    return Identity(**asdict(user), via=via, credential_id=credential_id, expires_at=expires_at)


def source_address(request: web.Request) -> str | None:
    return request.remote


class TooManyAttempts(ApiError):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(
            429,
            "too_many_attempts",
            f"too many failed attempts; try again in {self.retry_after} s",
            {"retry_after": self.retry_after},
        )

    def response(self) -> web.Response:
        response = error_response(self.status, self.error_id, self.message, self.details)
        response.headers["Retry-After"] = str(self.retry_after)
        return response


def check_origin(request: web.Request, accounts: Accounts) -> None:
    """A state-changing browser request must come from a page of the service itself."""
    expected = accounts.public_origin or f"{request.scheme}://{request.host}"
    if request.headers.get("Origin") != expected:
        raise ApiError(403, "bad_origin", "this request must come from the service's own pages (Origin)")


async def _identify(request: web.Request) -> Identity:
    not_signed_in = "not_signed_in" if request.path.startswith(SESSION_PATH) else "unauthorized"
    header = request.headers.get("Authorization")
    # The accounts are looked up only once there is a credential to check: an anonymous request costs nothing.
    if header is not None:
        return await _identify_bearer(request, request.app[DEPS].accounts, header)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise ApiError(401, not_signed_in, "sign in, or send a personal token: Authorization: Bearer <token>")
    accounts = request.app[DEPS].accounts
    live = await accounts.sessions.identify(secret) if _CREDENTIAL.match(secret) else None
    if live is None:
        raise ApiError(401, not_signed_in, "the session has ended; sign in again")
    if request.method in STATE_CHANGING:
        check_origin(request, accounts)
    return identity_of(live.user, "session", live.id, live.expires_at)


async def _identify_bearer(request: web.Request, accounts: Accounts, header: str) -> Identity:
    address = source_address(request) or "unknown"
    limiter = accounts.limits.tokens_per_address
    retry_after = limiter.retry_after(address, time.monotonic())
    if retry_after is not None:
        raise TooManyAttempts(retry_after)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "a bearer token is required")
    live = await accounts.tokens.identify(token) if _CREDENTIAL.match(token) else None
    if live is None:
        limiter.failed(address, time.monotonic())
        raise ApiError(401, "unauthorized", "the token is not valid (unknown, revoked or expired)")
    return identity_of(live.user, "token", live.id, live.expires_at)


def allowed_before_password_change(method: str, path: str) -> bool:
    """What a user who must change their password may do: that, look at their session and sign out."""
    return (path == SESSION_PATH and method in ("GET", "DELETE")) or (path == PASSWORD_PATH and method == "POST")


def needs_no_credentials(method: str, path: str) -> bool:
    """The public routes, the signed AML posts and signing in. Outside /api/ are /health, /metrics and the console's
    static files (the console signs in through the API)."""
    signing_in = path == SESSION_PATH and method == "POST"
    return not path.startswith("/api/") or path in PUBLIC_PATHS or path in SIGNED_PATHS or signing_in


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if needs_no_credentials(request.method, request.path):
        return await handler(request)
    try:
        identity = await _identify(request)
    except TooManyAttempts as refused:
        return refused.response()
    if identity.must_change_password and not allowed_before_password_change(request.method, request.path):
        raise ApiError(403, "password_change_required", "change your password first: POST /api/session/password")
    request[IDENTITY_KEY] = identity
    return await handler(request)


def _outcome(response: web.StreamResponse) -> str:
    if response.status < 400:
        return "ok"
    try:
        error_id = json.loads(response.body)["error"]["id"]  # type: ignore[attr-defined]
    except (AttributeError, TypeError, ValueError, KeyError):
        return f"http_{response.status}"
    return str(error_id)


async def record_audit(request: web.Request, entry: AuditRecord) -> None:
    try:
        await request.app[DEPS].accounts.audit.record(entry)
    except Exception:
        log.exception("audit entry not written", action=entry.action, username=entry.username)


def audit_entry(
    request: web.Request, action: str, status: int, outcome: str, username: str | None = None
) -> AuditRecord:
    identity = request.get(IDENTITY_KEY)
    return AuditRecord(
        username=identity.username if identity else username,
        roles=list(identity.roles) if identity else [],
        via=identity.via if identity else None,
        action=action,
        target=request.path,
        status=status,
        outcome=outcome,
        source_address=source_address(request),
    )


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: it sees the answer as rendered, refusals included."""
    audited = (
        request.method in STATE_CHANGING
        and request.path.startswith("/api/")
        and not request.path.startswith(SESSION_PATH)
        and request.path not in SIGNED_PATHS
    )
    response = await handler(request)
    if audited:
        route = request.match_info.route.resource
        action = f"{request.method} {route.canonical if route is not None else '(no route)'}"
        await record_audit(request, audit_entry(request, action, response.status, _outcome(response)))
    return response
