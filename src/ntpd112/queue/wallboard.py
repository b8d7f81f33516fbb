"""The wallboard's snapshot (GET /api/wallboard): the records (store/wallboard.py) joined to what only Asterisk
knows (the phones' device states and app_queue's count of waiting callers). Asterisk unreachable: the snapshot is
still given, from the records, with `phone_registered` unknown (what a 112 room needs then is the rest of it)."""

from __future__ import annotations

from datetime import datetime

from ntpd112.live import Hub
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import PhoneState, PjsipShowEndpoints
from ntpd112.reports.rules import report_names
from ntpd112.reports.wallboard import (
    BoardOperator,
    BoardOperatorCall,
    OperatorFacts,
    OperatorState,
    Wallboard,
    operator_state,
    today_range,
)
from ntpd112.room.config import QueueSettings, ReportSettings
from ntpd112.routing.tables import RoutingTable
from ntpd112.store.wallboard import OperatorRecord, WallboardRepository

log = get_logger(__name__)
# The wallboard must not hang on a slow AMI: past this the phones' states are left unknown.
PHONES_TIMEOUT = 2.0


class WallboardService:
    def __init__(
        self, repository: WallboardRepository, ami: AmiClient, hub: Hub, queue: QueueSettings, reports: ReportSettings
    ) -> None:
        self._repository = repository
        self._ami = ami
        self._hub = hub
        self._queue = queue
        self._reports = reports

    async def snapshot(self, now: datetime, table: RoutingTable | None) -> Wallboard:
        categories, agency_names = report_names(table)
        today = today_range(now, self._reports.timezone)
        records = await self._repository.read(
            now, today, self._reports.phantom_abandon_seconds, categories, agency_names
        )
        phones = await self._phones()
        return Wallboard(
            generated_at=now,
            queue_count=self._hub.queue_waiting,
            waiting=records.waiting,
            operators=[self._row(record, phones, now) for record in records.operators],
            wrapup_seconds=self._queue.wrapup_seconds,
            today=records.today,
            incidents=records.incidents,
            tickets=records.tickets,
            dispatches=records.dispatches,
            escalations=records.escalations,
        )

    async def _phones(self) -> dict[str, PhoneState] | None:
        try:
            return await self._ami.send(PjsipShowEndpoints(), timeout=PHONES_TIMEOUT)
        except AmiError as error:
            log.warning("wallboard: phone states unavailable", error=str(error))
            return None

    def _row(self, record: OperatorRecord, phones: dict[str, PhoneState] | None, now: datetime) -> BoardOperator:
        # The operator's phone is the endpoint of their username (pbx/phones.py).
        phone = None if phones is None else phones.get(record.username)
        facts = OperatorFacts(
            logged_in=record.logged_in,
            paused=record.paused,
            state_changed_at=record.state_changed_at,
            device_state=None if phone is None else phone.device_state,
            open_call=record.open_call,
            last_call_ended_at=record.last_call_ended_at,
        )
        reading = operator_state(facts, now, self._queue.wrapup_seconds)
        # The call beside the state only while on it (after a transfer the caller's call goes on without them).
        call = record.open_call if reading.state is OperatorState.ON_CALL else None
        return BoardOperator(
            username=record.username,
            name=record.name,
            role=record.role,
            state=reading.state,
            in_queue=record.logged_in,
            since=reading.since,
            wrap_up_until=reading.until,
            pause_reason=record.pause_reason if record.paused else None,
            phone_registered=None if phone is None else phone.registered,
            call=None
            if call is None
            else BoardOperatorCall(
                call_id=call.call_id, caller_number=call.caller_number, answered_at=call.answered_at
            ),
        )
