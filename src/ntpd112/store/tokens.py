"""Personal API tokens: named, owned by a user, expiring; only their SHA-256 is stored (a 256-bit random token
needs no slow hash). A token acts with its user's roles, and stops working when its user is disabled."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import bindparam, select, update

from ntpd112.clock import utcnow
from ntpd112.store.db import Database
from ntpd112.store.models import ApiToken, User
from ntpd112.store.sessions import HOLDER_COLUMNS, Holder, holder_of, sha256_hex

TOKEN_PREFIX = "ntpd112_"  # noqa: S105 - a prefix that makes leaked tokens recognisable, not a secret
# last_used_at is written at most this often per token.
TOUCH_INTERVAL = timedelta(minutes=1)


class TokenView(BaseModel):
    id: uuid.UUID
    name: str
    username: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreatedToken(TokenView):
    token: str  # shown once; only its hash is stored


def _view(token: ApiToken, username: str) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        username=username,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


@dataclass(frozen=True)
class LiveToken:
    id: uuid.UUID
    expires_at: datetime
    user: Holder


# Every API request with a token asks this: built once (building the statement cost as much as running it), run on a
# Core connection in autocommit (an ORM session and its BEGIN and COMMIT cost more than the lookup itself).
_LIVE_TOKEN = (
    select(ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at, *HOLDER_COLUMNS)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_sha256 == bindparam("sha256"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
        User.active,
    )
)
_TOUCH_TOKEN = update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


class Tokens:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, user: User, name: str, expires_at: datetime) -> CreatedToken:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(user_id=user.id, name=name, token_sha256=sha256_hex(token), expires_at=expires_at)
        async with self._database.session() as session, session.begin():
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return CreatedToken(**_view(row, user.username).model_dump(), token=token)

    async def list(self, owner: uuid.UUID | None = None) -> list[TokenView]:
        """The tokens of `owner`, or everyone's; revoked and expired ones too (they say so)."""
        statement = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
        if owner is not None:
            statement = statement.where(ApiToken.user_id == owner)
        async with self._database.session() as session:
            rows = (await session.execute(statement.order_by(ApiToken.created_at, ApiToken.id))).all()
        return [_view(token, username) for token, username in rows]

    async def revoke(self, token_id: uuid.UUID, owner: uuid.UUID | None = None) -> bool:
        """Revoke a token (of `owner` only, when given); False when no such live token."""
        statement = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        if owner is not None:
            statement = statement.where(ApiToken.user_id == owner)
        async with self._database.session() as session, session.begin():
            result = await session.execute(statement.values(revoked_at=utcnow()).returning(ApiToken.id))
            return result.first() is not None

    async def live_until(self, token_id: uuid.UUID) -> datetime | None:
        """When the token expires, or None when it no longer works (revoked, expired, user disabled)."""
        statement = (
            select(ApiToken.expires_at)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow(), User.active)
        )
        async with self._database.session() as session:
            expires_at: datetime | None = await session.scalar(statement)
        return expires_at

    async def identify(self, token: str) -> LiveToken | None:
        """The live token and its active user, or None."""
        now = utcnow()
        async with self._database.autocommit_connection() as connection:
            found = (await connection.execute(_LIVE_TOKEN, {"sha256": sha256_hex(token), "now": now})).first()
            if found is None:
                return None
            token_id, expires_at, last_used_at = found[:3]
            if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
                await connection.execute(_TOUCH_TOKEN, {"token_id": token_id, "now": now})
        return LiveToken(token_id, expires_at, holder_of(found))
