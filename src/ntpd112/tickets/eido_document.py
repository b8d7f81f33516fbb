"""The EIDO document's models (NENA-STA-021.1 JSON; github NENA911/EIDO-JSON Schema/openapi.yaml): the components
ntpd112 maps, with the fields it reads or writes (tickets/eido.py maps them). Pure.

Components and fields ntpd112 does not map (vehicles, alarms, agents, ...) are ignored on import, not refused: an EIDO
from a richer CAD still imports. What is mapped is typed and bounded: identifiers 255 characters, texts 8,000, lists
200 items (1,000 notes); the API's body limit bounds the whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ntpd112.tickets.pidf_lo import MAX_PIDF_CHARS

MAX_ITEMS = 200

Id = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]
Short = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")]
Text = Annotated[str, StringConstraints(max_length=8000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]


def _utc(value: datetime) -> datetime:
    # The NENA sample carries a timestamp without an offset; EIDO times are UTC, so a naive one is read as UTC.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past datetime's range in UTC: a refusal, not a 500
        raise ValueError("the time is out of range in UTC") from None


Stamp = Annotated[datetime, AfterValidator(_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Ref(_Model):
    ref: Id = Field(alias="$ref")


Refs = Annotated[list[Ref], Field(max_length=MAX_ITEMS)]
Strings = Annotated[list[Short], Field(max_length=MAX_ITEMS)]


class Component(_Model):
    """The prologue every EIDO data component starts with."""

    id: Id = Field(alias="$id")
    lastUpdateTimeStamp: Stamp
    updatedByAgencyReference: Ref
    updatedByAgentReference: Ref | None = None


class AgencyComponent(Component):
    agencyRoleDescriptionRegistryText: Strings
    agencyType: Strings
    incidentOwningAgencyIndicator: bool | None = None


class IncidentComponent(Component):
    incidentTypeCommonRegistryText: Short
    incidentTypeInternalCode: Short | None = None
    incidentTypeInternalText: Short | None = None
    incidentStatusInternalText: Strings = []
    incidentPriorityInternalText: Short | None = None
    incidentCommonPriorityNumber: int | None = Field(None, ge=0, le=1000)
    internalIncidentId: Short | None = None
    locationReference: Refs = []
    personReference: Refs = []
    notesReference: Refs = []


class CallComponent(Component):
    callStateRegistryText: Short
    standardPrimaryCallType: Short
    direction: Literal["incoming", "outgoing", "internal"]
    callStartTimestamp: Stamp
    answerDate: Stamp | None = None
    callBackReference: Ref | None = None
    locationReference: Refs = []
    personReference: Refs = []


class CallbackComponent(Component):
    callBackInformationUri: Strings = []


class LocationComponent(Component):
    locationTypeDescriptionRegistryText: Short
    locationByValue: Annotated[str, StringConstraints(max_length=MAX_PIDF_CHARS)] | None = None
    locationByReferenceUrl: Short | None = None
    locationDescriptionText: Text | None = None


class PersonComponent(Component):
    personIncidentRoleRegistryText: Strings
    callIdentifier: Strings = []
    callBackReference: Ref | None = None


class DispatchComponent(Component):
    agencyReference: Ref | None = None
    emergencyResourceReference: Refs = []
    notesReference: Refs = []


class EmergencyResourceComponent(Component):
    agentReference: Refs = []
    emergencyResourceTypeCommonRegistryText: Short
    emergencyResourceName: Short | None = None
    primaryUnitStatusRegistryText: Short
    secondaryUnitStatusRegistryText: Strings = []
    resourceAttributeRegistryText: Strings = []
    unitStatusInternal: Strings = []


class NotesComponent(Component):
    notesActionComments: Text


class EidoDocument(Component):
    eidoVersion: Literal["1.0"]
    issuingElementIdentification: Short
    incidentComponent: IncidentComponent | None = None
    callComponent: Annotated[list[CallComponent], Field(max_length=MAX_ITEMS)] = []
    callbackComponent: Annotated[list[CallbackComponent], Field(max_length=MAX_ITEMS)] = []
    dispatchComponent: Annotated[list[DispatchComponent], Field(max_length=MAX_ITEMS)] = []
    emergencyResourceComponent: Annotated[list[EmergencyResourceComponent], Field(max_length=MAX_ITEMS)] = []
    notesComponent: Annotated[list[NotesComponent], Field(max_length=1000)] = []
    agencyComponent: Annotated[list[AgencyComponent], Field(min_length=1, max_length=MAX_ITEMS)]
    locationComponent: Annotated[list[LocationComponent], Field(max_length=MAX_ITEMS)] = []
    personComponent: Annotated[list[PersonComponent], Field(max_length=MAX_ITEMS)] = []
    context: dict[str, Short] | None = Field(None, alias="@context")

    def json_body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
