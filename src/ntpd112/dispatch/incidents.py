"""Classifying a call: the operator's incident, checked against the categories of the routing table in force."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ntpd112.routing.categories import CategoryId, Severity
from ntpd112.routing.tables import TableSource
from ntpd112.store.incidents import IncidentRepository, IncidentView

#: Free text from people: no control characters but newlines and tabs.
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
FreeText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=FREE_TEXT_PATTERN)]
AreaText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class IncidentChange(BaseModel):
    """What the operator sets. Fields left out keep their stored value; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    category: CategoryId
    severity: Severity | None = None
    address: FreeText | None = None
    description: FreeText | None = None
    area: AreaText | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    # Dispatched, acknowledged, failed and ticket are set by dispatch itself, never by hand.
    status: Literal["open", "closed"] | None = None

    @model_validator(mode="after")
    def _position_is_a_pair(self) -> IncidentChange:
        given = {"lat", "lon"} & self.model_fields_set
        if given and (len(given) == 1 or (self.lat is None) != (self.lon is None)):
            raise ValueError("lat and lon are set (or cleared) together")
        return self


class UnknownCategory(ValueError):
    def __init__(self, category: str, known: list[str]) -> None:
        super().__init__(f"category {category!r} is not in the routing table in force; known: {', '.join(known)}")
        self.category = category
        self.known = known


class IncidentService:
    def __init__(self, repository: IncidentRepository, tables: TableSource) -> None:
        self._repository = repository
        self._tables = tables

    async def get(self, call_id: uuid.UUID) -> IncidentView | None:
        return await self._repository.get(call_id)

    async def set(self, call_id: uuid.UUID, change: IncidentChange, author: str) -> IncidentView:
        """Raises UnknownCategory, and CallNotFound (from the repository)."""
        table = await self._tables.current_table()
        category = table.category(change.category)
        if category is None:
            raise UnknownCategory(change.category, [c.id for c in table.categories])
        fields = change.model_dump(mode="json", exclude_unset=True)
        severity = category.default_severity
        defaults = {"severity": severity.value} if severity is not None else {}
        return await self._repository.save(call_id, fields, author, defaults)
