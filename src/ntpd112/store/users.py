"""Users: people with roles (access/roles.py), an argon2 password hash and an active flag.

Hashing and verifying are the caller's (access/passwords.py, in a thread): this module stores what it is given.
Disabling a user or setting their password revokes their browser sessions; disabling also revokes their tokens.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.access.roles import Role
from ntpd112.clock import utcnow
from ntpd112.errors import RefusedError
from ntpd112.sip_names import SipName
from ntpd112.store.db import Database
from ntpd112.store.models import ApiToken, User, UserSession


class AccountError(RefusedError):
    """A request about an account that cannot be carried out; nothing was changed."""


def _distinct(roles: list[Role]) -> list[Role]:
    if len(set(roles)) != len(roles):
        raise ValueError("a role is given twice")
    return roles


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The SIP name pattern: an operator's username is also their phone's name.
    username: SipName
    full_name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")]
    roles: Annotated[list[Role], Field(min_length=1), AfterValidator(_distinct)]
    agency: Annotated[str | None, Field(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")] = None

    @model_validator(mode="after")
    def _agency_bound(self) -> NewUser:
        if ("agency" in self.roles) != (self.agency is not None):
            raise ValueError("an agency user is bound to exactly one agency, and only agency users are")
        return self


class UserView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str
    roles: list[str]
    agency: str | None
    must_change_password: bool
    active: bool
    created_at: datetime | None


async def find_user(session: AsyncSession, username: str) -> User | None:
    found: User | None = await session.scalar(select(User).where(User.username == username))
    return found


async def revoke_sessions(session: AsyncSession, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> None:
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    await session.execute(statement.values(revoked_at=utcnow()))


class Users:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def add(self, new: NewUser, password_hash: str | None) -> UserView:
        """A new user; with a password hash they must change it at first sign-in."""
        user = User(
            username=new.username,
            full_name=new.full_name,
            roles=list(new.roles),
            agency=new.agency,
            password_hash=password_hash,
            must_change_password=True,
            active=True,
        )
        async with self._database.session() as session, session.begin():
            if await find_user(session, new.username) is not None:
                raise AccountError(409, "user_exists", f"user {new.username} already exists")
            session.add(user)
        return UserView.model_validate(user)

    async def list(self) -> list[UserView]:
        async with self._database.session() as session:
            rows = (await session.scalars(select(User).order_by(User.username))).all()
        return [UserView.model_validate(row) for row in rows]

    async def get(self, username: str) -> User | None:
        async with self._database.session() as session:
            return await find_user(session, username)

    async def set_password(
        self, username: str, password_hash: str, *, must_change: bool, keep_session: uuid.UUID | None = None
    ) -> None:
        """Store a new password hash; every session of the user but `keep_session` ends."""
        async with self._database.session() as session, session.begin():
            user = await self._get(session, username)
            user.password_hash = password_hash
            user.must_change_password = must_change
            user.password_changed_at = utcnow()
            await revoke_sessions(session, user.id, keep=keep_session)

    async def rehash_password(self, username: str, old_hash: str, new_hash: str) -> None:
        """The same password hashed with today's parameters (at a sign-in): sessions and dates stay as they are. A
        password changed meanwhile is not overwritten."""
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(User)
                .where(User.username == username, User.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    async def disable(self, username: str) -> None:
        """The user can no longer sign in; their sessions and tokens end now."""
        async with self._database.session() as session, session.begin():
            user = await self._get(session, username)
            user.active = False
            await revoke_sessions(session, user.id)
            await session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    @staticmethod
    async def _get(session: AsyncSession, username: str) -> User:
        user = await find_user(session, username)
        if user is None:
            raise AccountError(404, "user_not_found", f"no user {username}")
        return user


async def user_for_operator(session: AsyncSession, username: str, full_name: str, role: str) -> User:
    """The user an operator's phone belongs to: the existing user of that username (given the operator's role if
    they lacked it) or a new one without a password (an admin sets it: `ntpd112 users reset-password`)."""
    user = await find_user(session, username)
    if user is None:
        user = User(username=username, full_name=full_name, roles=[role], must_change_password=True, active=True)
        session.add(user)
        await session.flush()
    elif role not in user.roles:
        user.roles = [*user.roles, role]
    return user
