"""Agency desks: the SIP phones that the routing table's hunt groups ring.

Made like operators' phones (pbx/phones.py: PJSIP objects in AstDB over AMI, static contact or registration), in
context `ntpd112-refuse-all`: a desk phone is only ever called, it can never dial anything through the 112 room.
PostgreSQL holds the directory; `resync` pushes it to Asterisk after every AMI login.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select

from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError, refusal
from ntpd112.pbx.names import DESK_CONTEXT
from ntpd112.pbx.phones import (
    Contact,
    DeskPhone,
    PhoneName,
    delete_phone,
    name_taken,
    new_sip_password,
    printable_or,
    put_phone,
    reload_pjsip,
)
from ntpd112.routing.agencies import Slug
from ntpd112.store.db import Database
from ntpd112.store.models import AgencyDesk
from ntpd112.store.phones import claim_phone_name

log = get_logger(__name__)


class DeskError(RefusedError):
    """A request about a desk that cannot be carried out; nothing was changed."""


class NewDesk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: PhoneName
    agency: Slug
    name: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(printable_or("desk"))]
    contact: Contact | None = None


class DeskView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    endpoint: str
    agency: str
    name: str
    contact: str | None


class CreatedDesk(DeskView):
    sip_password: str  # shown once; only its digest is stored


def desk_phone(desk: AgencyDesk) -> DeskPhone:
    return DeskPhone(desk.endpoint, desk.name, desk.sip_md5_cred, desk.contact, DESK_CONTEXT)


class DeskService:
    def __init__(self, database: Database, ami: AmiClient) -> None:
        self._database = database
        self._ami = ami

    async def add(self, new: NewDesk, known_agencies: set[str]) -> CreatedDesk:
        if new.agency not in known_agencies:
            raise DeskError(422, "unknown_agency", f"no agency {new.agency!r} in the routing table in force")
        password, digest = new_sip_password(new.endpoint)
        desk = AgencyDesk(
            endpoint=new.endpoint, agency=new.agency, name=new.name, contact=new.contact, sip_md5_cred=digest
        )
        async with self._database.session() as session, session.begin():
            holder = await claim_phone_name(session, new.endpoint)
            if holder == "agency desk":
                raise DeskError(409, "endpoint_exists", f"a desk phone named {new.endpoint} already exists")
            if holder is not None:
                raise name_taken(new.endpoint, holder, DeskError)
            session.add(desk)
            await self._push(desk)  # inside the transaction: Asterisk refusing it leaves no row behind
        await reload_pjsip(self._ami)
        log.info("agency desk added", endpoint=new.endpoint, agency=new.agency)
        return CreatedDesk(**DeskView.model_validate(desk).model_dump(), sip_password=password)

    async def remove(self, endpoint: str) -> None:
        async with self._database.session() as session, session.begin():
            desk = await session.scalar(select(AgencyDesk).where(AgencyDesk.endpoint == endpoint))
            if desk is None:
                raise DeskError(404, "desk_not_found", f"no agency desk {endpoint}")
            await session.delete(desk)
        await delete_phone(self._ami, endpoint)
        log.info("agency desk removed", endpoint=endpoint)

    async def list(self) -> list[DeskView]:
        async with self._database.session() as session:
            rows = (await session.scalars(select(AgencyDesk).order_by(AgencyDesk.agency, AgencyDesk.endpoint))).all()
        return [DeskView.model_validate(row) for row in rows]

    async def resync(self) -> None:
        """After every AMI login: every desk in the database exists in Asterisk."""
        try:
            async with self._database.session() as session:
                desks = list((await session.scalars(select(AgencyDesk))).all())
            for desk in desks:
                await self._push(desk)
            if desks:
                await reload_pjsip(self._ami)
        except (AmiError, DeskError, OSError) as error:
            log.error("agency desk resync failed; next AMI login retries", error=str(error))  # noqa: TRY400

    async def _push(self, desk: AgencyDesk) -> None:
        try:
            await put_phone(self._ami, desk_phone(desk))
        except AmiError as error:
            raise refusal(error, DeskError) from None
