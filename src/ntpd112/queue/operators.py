"""Operators, their SIP phones and their sessions in the queue.

PostgreSQL holds the truth (who exists, who is logged in, who is paused and why). Asterisk is told over AMI:
phones as PJSIP objects in AstDB (sorcery's astdb wizard, so a remote Asterisk needs no file edits), queue
membership with QueueAdd/QueueRemove/QueuePause. After every AMI login `resync` makes app_queue agree with the
database again, so nobody silently drops out of the queue and no paused operator is rung.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select

from ntpd112.clock import utcnow
from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError, refusal
from ntpd112.pbx.ami_actions import AmiAction, QueueAdd, QueueMember, QueuePause, QueueRemove, QueueStatus, Reply
from ntpd112.pbx.names import OPERATOR_CONTEXT, QUEUE_NAME
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
from ntpd112.queue.phone_state import PhoneState, phone_state
from ntpd112.store.db import Database
from ntpd112.store.models import Operator
from ntpd112.store.phones import claim_phone_name
from ntpd112.store.users import user_for_operator

log = get_logger(__name__)

PauseReason = Literal["break", "training", "wrap-up", "meal", "other"]


class OperatorError(RefusedError):
    """A request about an operator that cannot be carried out; nothing was changed."""


class NewOperator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: PhoneName
    name: Annotated[str, Field(min_length=1, max_length=120), AfterValidator(printable_or("operator"))]
    role: Literal["operator", "supervisor"] = "operator"
    contact: Contact | None = None


class OperatorView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    name: str
    role: str
    contact: str | None
    logged_in: bool
    paused: bool
    pause_reason: str | None
    # What the phone does now, from app_queue (queue/phone_state.py); unknown when not in the queue or when
    # Asterisk did not answer.
    phone_state: PhoneState = "unknown"
    wrapup_until: datetime | None = None


class CreatedOperator(OperatorView):
    sip_password: str  # shown once; only its digest is stored


def interface(username: str) -> str:
    return f"PJSIP/{username}"


def desk_phone(operator: Operator) -> DeskPhone:
    return DeskPhone(operator.username, operator.name, operator.sip_md5_cred, operator.contact, OPERATOR_CONTEXT)


class OperatorService:
    def __init__(self, database: Database, ami: AmiClient, *, wrapup_seconds: int = 0) -> None:
        self._database = database
        self._ami = ami
        # The queue's wrapuptime (room.toml), for the phone state of members without their own.
        self._wrapup_seconds = wrapup_seconds

    # -- directory ----------------------------------------------------------------------------------------

    async def add(self, new: NewOperator) -> CreatedOperator:
        """A phone for the user of the same username, created (without a password) when there is none yet."""
        password, digest = new_sip_password(new.username)
        operator = Operator(
            username=new.username,
            name=new.name,
            role=new.role,
            contact=new.contact,
            sip_md5_cred=digest,
            logged_in=False,
            paused=False,
        )
        async with self._database.session() as session, session.begin():
            holder = await claim_phone_name(session, new.username)
            if holder == "operator":
                raise OperatorError(409, "operator_exists", f"operator {new.username} already exists")
            if holder is not None:
                raise name_taken(new.username, holder, OperatorError)
            operator.user_id = (await user_for_operator(session, new.username, new.name, new.role)).id
            session.add(operator)
        await self._push_phone(operator)
        await reload_pjsip(self._ami)
        log.info("operator added", username=new.username, role=new.role)
        return CreatedOperator(**OperatorView.model_validate(operator).model_dump(), sip_password=password)

    async def remove(self, username: str) -> None:
        async with self._database.session() as session, session.begin():
            operator = await self._get(session, username, for_change=True)
            await session.delete(operator)
        await self._ami_quiet(QueueRemove(QUEUE_NAME, interface(username)))
        await delete_phone(self._ami, username)
        log.info("operator removed", username=username)

    async def list(self) -> list[OperatorView]:
        async with self._database.session() as session:
            rows = (await session.scalars(select(Operator).order_by(Operator.username))).all()
        members = await self._phones()
        return [self._view(row, members) for row in rows]

    async def get(self, username: str) -> OperatorView:
        async with self._database.session() as session:
            operator = await self._get(session, username)
        return self._view(operator, await self._phones())

    # -- sessions -----------------------------------------------------------------------------------------

    async def login(self, username: str) -> OperatorView:
        async with self._database.session() as session, session.begin():
            operator = await self._get(session, username, for_change=True)
            if operator.logged_in:
                raise OperatorError(409, "already_logged_in", f"{username} is already logged in")
            await self._ami_required(QueueAdd(QUEUE_NAME, interface(username), member_name=username))
            self._set_state(operator, logged_in=True, paused=False, reason=None)
        log.info("operator logged in", username=username)
        return self._view(operator, await self._phones())

    async def logout(self, username: str) -> OperatorView:
        async with self._database.session() as session, session.begin():
            operator = await self._get(session, username, for_change=True)
            if not operator.logged_in:
                raise OperatorError(409, "not_logged_in", f"{username} is not logged in")
            await self._ami_required(QueueRemove(QUEUE_NAME, interface(username), absent_ok=True))
            self._set_state(operator, logged_in=False, paused=False, reason=None)
        log.info("operator logged out", username=username)
        return self._view(operator, await self._phones())

    async def pause(self, username: str, reason: PauseReason, *, force: bool = False) -> OperatorView:
        """Pause a logged-in operator. An operator pauses only between calls; a supervisor's forced pause also
        takes one on a call (app_queue then offers them no next call; the call in progress goes on)."""
        async with self._database.session() as session, session.begin():
            operator = await self._get(session, username, for_change=True)
            if not operator.logged_in:
                raise OperatorError(409, "not_logged_in", f"{username} is not logged in")
            if operator.paused:
                raise OperatorError(409, "already_paused", f"{username} is already paused ({operator.pause_reason})")
            member = (await self.queue_members()).get(interface(username))
            if member is not None and member.in_call and not force:
                raise OperatorError(409, "operator_on_call", f"{username} is on a call; pause after it ends")
            await self._ami_required(QueuePause(QUEUE_NAME, interface(username), paused=True, reason=reason))
            self._set_state(operator, logged_in=True, paused=True, reason=reason)
        log.info("operator paused", username=username, reason=reason)
        return self._view(operator, await self._phones())

    async def resume(self, username: str) -> OperatorView:
        async with self._database.session() as session, session.begin():
            operator = await self._get(session, username, for_change=True)
            if not operator.paused:
                raise OperatorError(409, "not_paused", f"{username} is not paused")
            await self._ami_required(QueuePause(QUEUE_NAME, interface(username), paused=False))
            self._set_state(operator, logged_in=True, paused=False, reason=None)
        log.info("operator resumed", username=username)
        return self._view(operator, await self._phones())

    # -- resync -------------------------------------------------------------------------------------------

    async def queue_members(self) -> dict[str, QueueMember]:
        """app_queue's view of the operators' queue, by interface."""
        return await self._ami.send(QueueStatus(QUEUE_NAME))

    async def resync(self) -> None:
        """Make Asterisk agree with PostgreSQL: phones exist, logged-in operators are members, pauses match."""
        try:
            async with self._database.session() as session:
                operators = list((await session.scalars(select(Operator))).all())
            for operator in operators:
                await self._push_phone(operator)
            await reload_pjsip(self._ami)
            members = await self.queue_members()
            wanted = {interface(o.username): o for o in operators if o.logged_in}
            for iface, operator in wanted.items():
                member = members.get(iface)
                if member is None:
                    await self._ami_required(
                        QueueAdd(
                            QUEUE_NAME,
                            iface,
                            member_name=operator.username,
                            paused=operator.paused,
                            reason=operator.pause_reason,
                        )
                    )
                    log.warning("resync: operator was missing from the queue; added", username=operator.username)
                elif member.paused != operator.paused:
                    await self._ami_required(
                        QueuePause(QUEUE_NAME, iface, paused=operator.paused, reason=operator.pause_reason)
                    )
                    log.warning("resync: pause state corrected", username=operator.username, paused=operator.paused)
            for iface, member in members.items():
                if iface not in wanted and member.dynamic:
                    await self._ami_quiet(QueueRemove(QUEUE_NAME, iface))
                    log.warning("resync: queue member not logged in per database; removed", interface=iface)
        except (AmiError, OperatorError, OSError) as error:
            log.error("operator resync failed; next AMI login retries", error=str(error))  # noqa: TRY400
        except Exception:
            log.exception("operator resync failed; next AMI login retries")

    # -- internals ----------------------------------------------------------------------------------------

    async def _phones(self) -> dict[str, QueueMember]:
        """app_queue's members for the phone states. Asterisk not answering leaves the phones unknown rather than
        failing the answer: the database's queue state still holds."""
        try:
            return await self.queue_members()
        except (AmiError, OSError) as error:
            log.warning("queue status unavailable; phone states unknown", error=str(error))
            return {}

    def _view(self, operator: Operator, members: dict[str, QueueMember]) -> OperatorView:
        state, wrapup_until = phone_state(members.get(interface(operator.username)), utcnow(), self._wrapup_seconds)
        view = OperatorView.model_validate(operator)
        return view.model_copy(update={"phone_state": state, "wrapup_until": wrapup_until})

    @staticmethod
    async def _find(session: Any, username: str, *, for_change: bool = False) -> Operator | None:
        query = select(Operator).where(Operator.username == username)
        found: Operator | None = (await session.scalars(query.with_for_update() if for_change else query)).first()
        return found

    async def _get(self, session: Any, username: str, *, for_change: bool = False) -> Operator:
        """The operator's row; `for_change` locks it until the transaction ends. A change holds its transaction over
        its AMI action: without the lock, a removal committed meanwhile made the change's UPDATE match no row (a 500,
        StaleDataError, found by the schema fuzz) after its QueueAdd had put the removed operator in the queue, and
        two logins both passed the logged-in check."""
        operator = await self._find(session, username, for_change=for_change)
        if operator is None:
            raise OperatorError(404, "operator_not_found", f"no operator {username}")
        return operator

    @staticmethod
    def _set_state(operator: Operator, *, logged_in: bool, paused: bool, reason: str | None) -> None:
        operator.logged_in = logged_in
        operator.paused = paused
        operator.pause_reason = reason
        operator.state_changed_at = utcnow()

    async def _push_phone(self, operator: Operator) -> None:
        try:
            await put_phone(self._ami, desk_phone(operator))
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _ami_required(self, action: AmiAction[Reply]) -> None:
        """Send an action whose failure must stop the request (the database change is then rolled back)."""
        try:
            await self._ami.require(action)
        except AmiError as error:
            raise refusal(error, OperatorError) from None

    async def _ami_quiet(self, action: AmiAction[Reply]) -> None:
        try:
            await self._ami.send(action)
        except AmiError as error:
            log.warning("ami action failed", action=action.name, error=str(error))
