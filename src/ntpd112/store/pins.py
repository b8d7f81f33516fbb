"""An operator's manual pin: a location fix of source `operator`, written while the operator waits.

Written directly (not through the journal's queue) so the answer carries the stored fix and its area; the fix,
its area lookup, the best-location decision (intake/best_location.py: a pin becomes the best location when placed)
and the timeline events commit together. Other fixes are never touched: a pin is one more fix.
"""

from __future__ import annotations

import json
import uuid

from pydantic import BaseModel
from sqlalchemy import select

from ntpd112.clock import utcnow
from ntpd112.intake.geoloc import LocationFix
from ntpd112.live import CallActivity, Hub
from ntpd112.store.db import Database
from ntpd112.store.incidents import CallNotFound
from ntpd112.store.journal import write_timeline
from ntpd112.store.locations import StoredArea, TimelineEntry, fix_columns, resolve_area, store_fix
from ntpd112.store.models import Call, LocationFixRow
from ntpd112.store.repo import FixView

PIN_EVENT = "operator_pin"


class PinStored(BaseModel):
    fix: FixView
    area: StoredArea | None


class Pins:
    def __init__(self, database: Database, hub: Hub | None = None) -> None:
        self._database = database
        self._hub = hub

    async def store(
        self, call_id: uuid.UUID, lat: float, lon: float, radius_m: float, note: str | None, author: str
    ) -> PinStored:
        """Store the pin as a fix of the call. Raises CallNotFound."""
        now = utcnow()
        fix = LocationFix(
            source="operator", lat=lat, lon=lon, radius_m=radius_m, method="manual", measured_at=now, raw=""
        )
        # The pin as it was given, like every fix keeps its raw input.
        raw = json.dumps({"lat": lat, "lon": lon, "radius_m": radius_m, "note": note, "by": author})
        columns = fix_columns(fix, source="operator", channel="console", received_at=now, raw=raw)
        columns["shape"] = "Circle"
        fix_id = uuid.uuid4()
        async with self._database.engine.begin() as connection:
            if (await connection.execute(select(Call.id).where(Call.id == call_id))).first() is None:
                raise CallNotFound(call_id)
            entries = await store_fix(connection, fix_id, call_id, columns) or []
            area = await resolve_area(connection, lat, lon)
            pin = {"fix_id": str(fix_id), "lat": lat, "lon": lon, "radius_m": radius_m, "note": note, "by": author}
            pin["area"] = area.model_dump() if area else None
            await write_timeline(connection, call_id, [TimelineEntry(PIN_EVENT, pin, now), *entries])
            row = (await connection.execute(select(LocationFixRow).where(LocationFixRow.id == fix_id))).mappings().one()
        if self._hub is not None:
            types = frozenset({PIN_EVENT, *(entry.type for entry in entries)})
            self._hub.publish(CallActivity(call_id, types))
        return PinStored(fix=FixView.model_validate(dict(row)), area=area)
