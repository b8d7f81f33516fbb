"""Browser sessions: the cookie carries a random secret, PostgreSQL only its SHA-256 and the times that decide
its expiry (access/expiry.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

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
class LiveSession:
    id: uuid.UUID
    user: User
    expires_at: datetime


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
        return secret, LiveSession(row.id, user, self._expiry(row))

    async def identify(self, secret: str) -> LiveSession | None:
        """The live session of this secret (not revoked, not expired, its user active), or None."""
        now = utcnow()
        statement = (
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.secret_sha256 == sha256_hex(secret), UserSession.revoked_at.is_(None), User.active)
        )
        async with self._database.autocommit_session() as session, session.begin():
            found = (await session.execute(statement)).first()
            if found is None:
                return None
            row, user = found
            if not session_is_live(now, row.signed_in_at, row.last_seen_at, self.idle, self.absolute):
                return None
            if now - row.last_seen_at >= TOUCH_INTERVAL:
                row.last_seen_at = now
        return LiveSession(row.id, user, self._expiry(row))

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
        return self._expiry(row)

    async def revoke(self, session_id: uuid.UUID) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(UserSession)
                .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    def _expiry(self, row: UserSession) -> datetime:
        return session_expires_at(row.signed_in_at, row.last_seen_at, self.idle, self.absolute)
