"""AML messages into PostgreSQL: stored once (by dedup key), matched to their call by number and time.

Unlike call handling, an AML message is written while its sender waits: the answer says whether it was stored,
was a duplicate, and which call it went to. The fix, its match and its timeline events commit together.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from ntpd112.intake.aml import AmlMessage
from ntpd112.live import CallActivity, Hub
from ntpd112.store.db import Database
from ntpd112.store.journal import write_timeline
from ntpd112.store.locations import fix_columns, lock_number, match_call, store_fix


class AmlStored(BaseModel):
    fix_id: uuid.UUID | None
    call_id: uuid.UUID | None
    duplicate: bool


class AmlRepository:
    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self._database = database
        self._hub = hub

    async def store(self, message: AmlMessage, received_at: datetime) -> AmlStored:
        columns = fix_columns(
            message.fix,
            source="aml",
            channel=message.channel,
            received_at=received_at,
            raw=message.raw,
            caller_number=message.caller_number,
            dedup_key=message.dedup_key,
        )
        if message.fix is None:
            # pm=N (no position): nothing to locate, but the method the handset reported is kept.
            columns["method"] = message.positioning_method
        fix_id = uuid.uuid4()
        async with self._database.engine.begin() as connection:
            call_id = None
            if message.caller_number:
                await lock_number(connection, message.caller_number)
                call_id = await match_call(connection, message.caller_number, received_at)
            entries = await store_fix(connection, fix_id, call_id, columns)
            if entries is None:
                return AmlStored(fix_id=None, call_id=None, duplicate=True)
            if call_id is not None:
                await write_timeline(connection, call_id, entries)
        if call_id is not None and self._hub is not None:
            self._hub.publish(CallActivity(call_id, frozenset(entry.type for entry in entries)))
        return AmlStored(fix_id=fix_id, call_id=call_id, duplicate=False)
