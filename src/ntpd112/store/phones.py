"""Who holds a phone name: operators and agency desks share one PJSIP name space in AstDB (pbx/phones.py), while
PostgreSQL keeps them in two tables."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.store.models import AgencyDesk, Operator

PhoneHolder = Literal["operator", "agency desk"]


async def claim_phone_name(session: AsyncSession, name: str) -> PhoneHolder | None:
    """Who holds `name` already, or None. Locks the name space until the transaction ends, so that an operator and
    a desk created at the same moment cannot both take one name."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('ntpd112:phone-names'))"))
    if await session.scalar(select(Operator.id).where(Operator.username == name)) is not None:
        return "operator"
    if await session.scalar(select(AgencyDesk.id).where(AgencyDesk.endpoint == name)) is not None:
        return "agency desk"
    return None
