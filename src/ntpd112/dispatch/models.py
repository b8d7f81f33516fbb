"""What dispatch offers the room: the request an operator makes, the view of a dispatch, and its refusals."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from ntpd112.errors import RefusedError
from ntpd112.routing.agencies import Slug
from ntpd112.routing.categories import CategoryId
from ntpd112.routing.chain import Outcome
from ntpd112.routing.matching import DecisionKind


class DispatchMode(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"
    CONFERENCE = "conference"


class DispatchRequest(BaseModel):
    """What the operator asks for. `target` or `agency` replace the routing table's chain; `category` routes as if
    the incident had that category (the incident itself is not changed)."""

    model_config = ConfigDict(extra="forbid")

    mode: DispatchMode
    target: Slug | None = None
    agency: Slug | None = None
    category: CategoryId | None = None

    @model_validator(mode="after")
    def _one_override(self) -> DispatchRequest:
        if self.target is not None and self.agency is not None:
            raise ValueError("give a target or an agency, not both")
        return self


class AttemptView(BaseModel):
    number: int
    target: str
    agency: str
    devices: list[str]
    timeout: int
    outcome: Outcome | None


class DispatchView(BaseModel):
    call_id: uuid.UUID
    mode: DispatchMode | None
    state: str
    decision: DecisionKind | None
    rule_id: str | None
    table_version: int | None
    attempts: list[AttemptView]
    requested_by: str | None


class DispatchError(RefusedError):
    """A dispatch request that cannot be carried out; the call was not touched."""
