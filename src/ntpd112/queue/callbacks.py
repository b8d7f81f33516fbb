"""The callback list: callers who hung up before an operator answered (or whom an operator wants to call back).

An operator takes an item; the service rings the operator's phone and, once answered, the dialplan calls the
number back through the trunk the call came in on and bridges the two (context ntpd112-callback). The number is
dialed in the trunk's own format (trunks.toml `numbers`). The outcome comes back as a UserEvent and is logged on
the original call.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_, select, update

from ntpd112.clock import utcnow
from ntpd112.intake.numbering import trunk_dial_string
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import DialplanLocation, Originate
from ntpd112.pbx.asterisk_config import TrunkTable
from ntpd112.pbx.names import CALLBACK_CONTEXT, ENTRY_EXTENSION
from ntpd112.queue.operators import OperatorError, interface
from ntpd112.store.db import Database
from ntpd112.store.journal import Journal
from ntpd112.store.models import Call, Operator

log = get_logger(__name__)

# Statuses an item can be taken from: waiting, or a previous attempt that failed.
_TAKEABLE = ("pending", "failed")
# The Originate's ActionID, which its OriginateResponse event carries back.
_CALLBACK_ACTION_PREFIX = "ntpd112-callback-"


class CallbackItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    caller_number: str | None
    caller_number_raw: str | None
    trunk: str | None
    offered_at: datetime | None
    abandoned_at: datetime | None
    wait_seconds: float | None
    callback_status: str | None
    callback_reason: str | None
    callback_taken_by: str | None
    callback_attempts: int | None
    callback_outcome: str | None


class CallbackService:
    def __init__(self, database: Database, ami: AmiClient, journal: Journal, trunks: TrunkTable) -> None:
        self._database = database
        self._ami = ami
        self._journal = journal
        self._trunks = trunks

    def attach(self, ami: AmiClient) -> None:
        ami.on("UserEvent", self._user_event)
        ami.on("OriginateResponse", self._originate_response)

    async def list(self, include_done: bool = False) -> list[CallbackItem]:
        statement = select(Call).where(Call.callback_status.is_not(None))
        if not include_done:
            statement = statement.where(Call.callback_status != "done")
        async with self._database.session() as session:
            rows = (await session.scalars(statement.order_by(Call.abandoned_at.nulls_last(), Call.offered_at))).all()
        return [CallbackItem.model_validate(row) for row in rows]

    async def request(self, call_id: uuid.UUID, reason: Literal["silent", "operator"], requested_by: str) -> None:
        """An operator puts a call on the list (a silent call, a call cut off)."""
        async with self._database.session() as session, session.begin():
            call = await session.get(Call, call_id)
            if call is None:
                raise OperatorError(404, "call_not_found", "no call with this id")
            if call.callback_status in ("pending", "calling"):
                raise OperatorError(409, "callback_already_listed", "this call is already on the callback list")
            call.callback_status, call.callback_reason = "pending", reason
        self._journal.record_event(call_id, "callback_requested", {"reason": reason, "by": requested_by})

    async def take(self, call_id: uuid.UUID, operator_username: str) -> CallbackItem:
        async with self._database.session() as session, session.begin():
            operator = (await session.scalars(select(Operator).where(Operator.username == operator_username))).first()
            if operator is None:
                raise OperatorError(404, "operator_not_found", f"no operator {operator_username}")
            # Claimed atomically: two operators taking the same item cannot both get it.
            claimed = (
                await session.scalars(
                    update(Call)
                    .where(Call.id == call_id, or_(*(Call.callback_status == s for s in _TAKEABLE)))
                    .values(
                        callback_status="calling",
                        callback_taken_by=operator_username,
                        callback_taken_at=utcnow(),
                        callback_attempts=func.coalesce(Call.callback_attempts, 0) + 1,
                    )
                    .returning(Call)
                )
            ).first()
            if claimed is None:
                raise OperatorError(409, "callback_not_available", "this call is not waiting for a callback")
            # Raising here rolls the claim back: the item stays on the list.
            trunk = self._trunks.by_name(claimed.trunk or "")
            if trunk is None:
                raise OperatorError(409, "callback_impossible", "the call's trunk is unknown or no longer configured")
            number = trunk_dial_string(claimed.caller_number, claimed.caller_number_raw, trunk.numbers) or ""
            if not number.lstrip("+").isdigit():
                raise OperatorError(409, "callback_impossible", "the caller's number is unknown")
            item = CallbackItem.model_validate(claimed)
        try:
            await self._ami.send(
                Originate(
                    interface(operator_username),
                    DialplanLocation(CALLBACK_CONTEXT, ENTRY_EXTENSION),
                    action_id=f"{_CALLBACK_ACTION_PREFIX}{call_id}",
                    caller_id=f'"Callback 112" <{number}>',
                    ring_seconds=30,
                    variables={
                        "NTPD112_CALLBACK_NUMBER": number,
                        "NTPD112_CALLBACK_TRUNK": trunk.endpoint,
                        "NTPD112_CALLBACK_ID": str(call_id),
                    },
                )
            )
        except AmiError as error:
            await self._finish(call_id, "failed", "asterisk_unavailable")
            raise OperatorError(503, "asterisk_unavailable", str(error)) from None
        self._journal.record_event(call_id, "callback_started", {"operator": operator_username, "number": number})
        log.info("callback started", call_id=str(call_id), operator=operator_username)
        return item

    async def _finish(self, call_id: uuid.UUID, status: str, outcome: str) -> None:
        async with self._database.session() as session, session.begin():
            await session.execute(
                update(Call).where(Call.id == call_id).values(callback_status=status, callback_outcome=outcome)
            )
        self._journal.record_event(call_id, "callback_finished", {"status": status, "outcome": outcome})
        log.info("callback finished", call_id=str(call_id), status=status, outcome=outcome)

    async def _user_event(self, event: dict[str, str]) -> None:
        if event.get("UserEvent") != "Ntpd112Callback":
            return
        try:
            call_id = uuid.UUID(event.get("CallbackId", ""))
        except ValueError:
            log.warning("callback event without a valid id", callback_id=event.get("CallbackId"))
            return
        dial_status = event.get("DialStatus", "UNKNOWN")
        await self._finish(call_id, "done" if dial_status == "ANSWER" else "failed", f"caller_{dial_status.lower()}")

    async def _originate_response(self, event: dict[str, str]) -> None:
        action_id = event.get("ActionID", "")
        if not action_id.startswith(_CALLBACK_ACTION_PREFIX) or event.get("Response") == "Success":
            return
        # The operator's phone did not answer: the item goes back on the list.
        await self._finish(uuid.UUID(action_id.removeprefix(_CALLBACK_ACTION_PREFIX)), "failed", "operator_no_answer")
