"""REST for signing in and out (browser sessions), personal tokens and the audit trail.

The session contract (the console uses it): `POST /api/session` signs in and sets the HttpOnly, SameSite=Strict
`ntpd112_session` cookie (Secure under TLS); `GET` tells who is signed in; `DELETE` signs out (revoked in
PostgreSQL, cookie cleared); `POST /api/session/password` changes the password. Sign-in failures are limited per
username and per source address (429 too_many_attempts with Retry-After); an unknown user, a disabled one, one
without a password and a wrong password all answer the same 401 bad_credentials, in the same time.

Signing in is public; the session and token routes are open to any signed-in user (`signed_in`: agency users hold no
staff role); the audit trail needs an admin. The session routes write their own audit entries.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.access.expiry import TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX, token_expires_at
from ntpd112.access.passwords import MAX_LENGTH, needs_rehash, password_problems
from ntpd112.access.roles import Role
from ntpd112.clock import utcnow
from ntpd112.store.audit import AuditQuery, AuditView
from ntpd112.store.models import User
from ntpd112.store.tokens import CreatedToken, TokenView
from ntpd112.web.auth import (
    PASSWORD_PATH,
    SESSION_COOKIE,
    SESSION_PATH,
    TooManyAttempts,
    audit_entry,
    check_origin,
    identity_of,
    record_audit,
    source_address,
)
from ntpd112.web.common import DEPS, IDENTITY_KEY, ApiError, Identity, json_response
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()

Password = Annotated[str, Field(max_length=MAX_LENGTH * 4)]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(max_length=200)]
    password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class SignedInUser(BaseModel):
    username: str
    full_name: str
    roles: list[Role]
    agency: str | None
    must_change_password: bool


class SessionView(BaseModel):
    user: SignedInUser
    expires_at: datetime


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
    expires_in_days: Annotated[int, Field(ge=1, le=TOKEN_DAYS_MAX)] = TOKEN_DAYS_DEFAULT


class TokenPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token_id: uuid.UUID


class AuditPage(BaseModel):
    entries: list[AuditView]
    # Pass as `before` for the next (older) page; None: this was the last.
    next_before: int | None


def _session_view(user: User | Identity, expires_at: datetime) -> SessionView:
    signed_in = SignedInUser.model_validate(
        {
            "username": user.username,
            "full_name": user.full_name,
            "roles": list(user.roles),
            "agency": user.agency,
            "must_change_password": user.must_change_password,
        }
    )
    return SessionView(user=signed_in, expires_at=expires_at)


def _browser_origin(request: web.Request) -> None:
    """Sign-in from a browser (it sends Origin): only from the service's own pages. Checked before the body."""
    if "Origin" in request.headers:
        check_origin(request, request.app[DEPS].accounts)


@routes.post(
    SESSION_PATH,
    access="public",
    summary="Sign in: sets the ntpd112_session cookie",
    precheck=_browser_origin,
    response_model=SessionView,
    refusals={401: ("bad_credentials",), 403: ("bad_origin",), 429: ("too_many_attempts",)},
)
async def sign_in(request: web.Request, body: SignIn) -> web.Response:
    accounts = request.app[DEPS].accounts
    user_key, address = body.username.lower(), source_address(request) or "unknown"
    limits, now = accounts.limits, time.monotonic()
    waits = (limits.login_per_user.retry_after(user_key, now), limits.login_per_address.retry_after(address, now))
    blocked = [wait for wait in waits if wait is not None]
    if blocked:
        refused = TooManyAttempts(max(blocked))
        await record_audit(request, audit_entry(request, "login", 429, refused.error_id, body.username))
        return refused.response()
    user = await accounts.users.get(body.username)
    usable = user is not None and user.active
    # The same work whoever asks (verify_password checks a dummy hash when there is none): no user oracle.
    verified = await accounts.passwords.verify(user.password_hash if usable and user else None, body.password)
    if not verified or user is None or user.password_hash is None:
        limits.login_per_user.failed(user_key, time.monotonic())
        limits.login_per_address.failed(address, time.monotonic())
        await record_audit(request, audit_entry(request, "login", 401, "bad_credentials", body.username))
        raise ApiError(401, "bad_credentials", "wrong username or password")
    limits.login_per_user.succeeded(user_key)
    if needs_rehash(user.password_hash):
        new_hash = await accounts.passwords.hash(body.password)
        await accounts.users.rehash_password(user.username, user.password_hash, new_hash)
    secret, live = await accounts.sessions.open(user, source_address(request))
    response = json_response(_session_view(user, live.expires_at))
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="Strict", path="/", secure=request.secure)
    request[IDENTITY_KEY] = identity_of(live.user, "session", live.id, live.expires_at)
    await record_audit(request, audit_entry(request, "login", 200, "ok"))
    return response


_SESSION_ENDED = {401: ("not_signed_in",)}


@routes.get(SESSION_PATH, access="signed_in", summary="Who is signed in, until when", refusals=_SESSION_ENDED)
async def get_session(request: web.Request, identity: Identity) -> SessionView:
    return _session_view(identity, identity.expires_at)


@routes.delete(
    SESSION_PATH,
    access="signed_in",
    summary="Sign out: the session is revoked and the cookie cleared",
    status=204,
    refusals={400: ("not_a_session",), **_SESSION_ENDED},
)
async def sign_out(request: web.Request, identity: Identity) -> web.Response:
    if identity.via != "session":
        raise ApiError(400, "not_a_session", "a personal token is revoked with DELETE /api/tokens/{id}")
    await request.app[DEPS].accounts.sessions.revoke(identity.credential_id)
    await record_audit(request, audit_entry(request, "logout", 204, "ok"))
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.post(
    PASSWORD_PATH,
    access="signed_in",
    summary="Change your password (ends your other sessions)",
    status=204,
    refusals={400: ("weak_password",), 401: ("not_signed_in", "bad_credentials"), 429: ("too_many_attempts",)},
)
async def change_password(request: web.Request, body: PasswordChange, identity: Identity) -> web.Response:
    accounts = request.app[DEPS].accounts
    # The current password is guessed no faster here than at sign-in.
    retry_after = accounts.limits.login_per_user.retry_after(identity.username, time.monotonic())
    if retry_after is not None:
        return TooManyAttempts(retry_after).response()
    user = await accounts.users.get(identity.username)
    if user is None or not await accounts.passwords.verify(user.password_hash, body.current_password):
        accounts.limits.login_per_user.failed(identity.username, time.monotonic())
        await record_audit(request, audit_entry(request, "password_change", 401, "bad_credentials"))
        raise ApiError(401, "bad_credentials", "the current password is wrong")
    problems = password_problems(body.new_password, user.username, user.full_name)
    if body.new_password == body.current_password:
        problems.append("it must differ from the current password")
    if problems:
        await record_audit(request, audit_entry(request, "password_change", 400, "weak_password"))
        raise ApiError(400, "weak_password", "the new password is too weak: " + "; ".join(problems), problems)
    new_hash = await accounts.passwords.hash(body.new_password)
    keep = identity.credential_id if identity.via == "session" else None
    await accounts.users.set_password(user.username, new_hash, must_change=False, keep_session=keep)
    await record_audit(request, audit_entry(request, "password_change", 204, "ok"))
    return web.Response(status=204)


@routes.get("/api/tokens", access="signed_in", summary="Personal tokens: yours (an admin sees everyone's)")
async def list_tokens(request: web.Request, identity: Identity) -> list[TokenView]:
    owner = None if identity.has_role("admin") else identity.user_id
    return await request.app[DEPS].accounts.tokens.list(owner)


@routes.post(
    "/api/tokens",
    access="signed_in",
    summary="Create a personal token (the token is in this answer only)",
    status=201,
)
async def create_token(request: web.Request, body: NewToken, identity: Identity) -> CreatedToken:
    accounts = request.app[DEPS].accounts
    user = await accounts.users.get(identity.username)
    if user is None:
        raise ApiError(401, "unauthorized", "the user is gone")
    expires_at = token_expires_at(utcnow(), body.expires_in_days)
    return await accounts.tokens.create(user, body.name, expires_at)


@routes.delete(
    "/api/tokens/{token_id}",
    access="signed_in",
    summary="Revoke a personal token (yours; an admin's: anyone's)",
    refusals={400: ("invalid_token_id",), 404: ("token_not_found",)},
)
async def revoke_token(request: web.Request, path: TokenPath, identity: Identity) -> None:
    owner = None if identity.has_role("admin") else identity.user_id
    if not await request.app[DEPS].accounts.tokens.revoke(path.token_id, owner):
        raise ApiError(404, "token_not_found", "no live token with this id among yours", {"id": str(path.token_id)})


@routes.get("/api/audit", access="admin", summary="The audit trail, newest first (next_before pages on)")
async def list_audit(request: web.Request, query: AuditQuery) -> AuditPage:
    entries = await request.app[DEPS].accounts.audit.query(query)
    next_before = entries[-1].id if len(entries) == query.limit else None
    return AuditPage(entries=entries, next_before=next_before)
