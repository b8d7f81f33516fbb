"""Browser sessions: the cookie carries a random secret, PostgreSQL only its SHA-256 and the times that decide
its expiry (access/expiry.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

from ntpd112.access.expiry import session_expires_at, session_is_live
from ntpd112.clock import utcnow
from ntpd112.store.db import Database
from ntpd112.store.models import User, UserSession

# last_seen_at is written at most this often per session: enough precision for an idle expiry of minutes, and
# a console polling the API does not cause a write per request.
TOUCH_INTERVAL = timedelta(seconds=15)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Holder:
    """The user a credential acts for: what every API request needs to know of them (web.common.Identity adds the
    credential to it)."""

    user_id: uuid.UUID
    username: str
    full_name: str
    roles: tuple[str, ...]
    agency: str | None
    must_change_password: bool

    @classmethod
    def of(cls, user: User) -> Holder:
        return cls(user.id, user.username, user.full_name, tuple(user.roles), user.agency, user.must_change_password)


# A Holder's columns, in its fields' order (roles comes back a list: made a tuple by holder_of).
HOLDER_COLUMNS = (User.id, User.username, User.full_name, User.roles, User.agency, User.must_change_password)


def holder_of(values: Sequence[Any]) -> Holder:
    """The Holder of a result row's last len(HOLDER_COLUMNS) values."""
    user_id, username, full_name, roles, agency, must_change_password = values[-len(HOLDER_COLUMNS) :]
    return Holder(user_id, username, full_name, tuple(roles), agency, must_change_password)


@dataclass(frozen=True)
class LiveSession:
    id: uuid.UUID
    user: Holder
    expires_at: datetime


# Every request from the console asks these: built once, run on a Core connection in autocommit (an ORM session
# and its BEGIN and COMMIT cost more than the lookup itself).
_LIVE_SESSION = (
    select(UserSession.id, UserSession.signed_in_at, UserSession.last_seen_at, *HOLDER_COLUMNS)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.secret_sha256 == bindparam("sha256"), UserSession.revoked_at.is_(None), User.active)
)
_TOUCH_SESSION = (
    update(UserSession).where(UserSession.id == bindparam("session_id")).values(last_seen_at=bindparam("now"))
)


class Sessions:
    def __init__(self, database: Database, idle: timedelta, absolute: timedelta) -> None:
        self._database = database
        self.idle = idle
        self.absolute = absolute

    async def open(self, user: User, source_address: str | None) -> tuple[str, LiveSession]:
        """A new session for `user`; returns the secret for the cookie (shown nowhere else) and the session."""
        secret = secrets.token_urlsafe(32)
        now = utcnow()
        row = UserSession(
            user_id=user.id,
            secret_sha256=sha256_hex(secret),
            signed_in_at=now,
            last_seen_at=now,
            source_address=source_address,
        )
        async with self._database.session() as session, session.begin():
            session.add(row)
        return secret, LiveSession(row.id, Holder.of(user), self._expiry(row.signed_in_at, row.last_seen_at))

    async def identify(self, secret: str) -> LiveSession | None:
        """The live session of this secret (not revoked, not expired, its user active), or None."""
        now = utcnow()
        async with self._database.autocommit_connection() as connection:
            found = (await connection.execute(_LIVE_SESSION, {"sha256": sha256_hex(secret)})).first()
            if found is None:
                return None
            session_id, signed_in_at, last_seen_at = found[:3]
            if not session_is_live(now, signed_in_at, last_seen_at, self.idle, self.absolute):
                return None
            if now - last_seen_at >= TOUCH_INTERVAL:
                last_seen_at = now
                await connection.execute(_TOUCH_SESSION, {"session_id": session_id, "now": now})
        return LiveSession(session_id, holder_of(found), self._expiry(signed_in_at, last_seen_at))

    async def live_until(self, session_id: uuid.UUID) -> datetime | None:
        """When the session will expire if nothing extends it, or None when it is over (revoked, expired, user
        disabled). Reading it does not count as activity: a long-lived connection (the console's stream) must not
        keep an unattended session alive."""
        statement = (
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None), User.active)
        )
        async with self._database.session() as session:
            row = (await session.scalars(statement)).first()
        if row is None or not session_is_live(utcnow(), row.signed_in_at, row.last_seen_at, self.idle, self.absolute):
            return None
        return self._expiry(row.signed_in_at, row.last_seen_at)

    async def revoke(self, session_id: uuid.UUID) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(UserSession)
                .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    def _expiry(self, signed_in_at: datetime, last_seen_at: datetime) -> datetime:
        return session_expires_at(signed_in_at, last_seen_at, self.idle, self.absolute)
