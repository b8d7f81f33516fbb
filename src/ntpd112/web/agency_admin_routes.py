"""REST for the admins' agency screen: agencies (OPD), their contacts and camats, and the contacts CSV import.

Every write is an edit of the routing table: it is applied to the version the admin read (`base_version`), checked
whole like a table from the CLI (422 `invalid_routing_table` naming section, item and field; nothing published),
and published as a new version with the admin as author. An edit made on a version that is no longer the newest is
refused with 409 `stale_routing_version` and the current version: reload and edit again. The audit middleware
records every write; a webhook's secret is not here (PUT /api/agencies/{agency}/webhook-secret, write-only).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ntpd112.routing.agency_edit import AgencyForm, apply_agency, form_of, raw_item_id, routed_by
from ntpd112.routing.categories import Category
from ntpd112.routing.contacts_csv import MAX_CSV_BYTES, apply_contacts, parse_contacts
from ntpd112.routing.diff import diff
from ntpd112.routing.tables import Camat, RoutingTable, RoutingTableError, TableIssue
from ntpd112.routing.validation import load_table
from ntpd112.store.routing_versions import StaleVersion
from ntpd112.web.agency_routes import AgencyPath
from ntpd112.web.common import DEPS, ApiError, Identity
from ntpd112.web.dispatch_routes import MAX_VERSION, Published
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]
Comment = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]


class AgencyEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: Version  # the version the form was read from
    agency: AgencyForm
    comment: Comment = ""


class CamatsEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: Version
    camats: list[Camat] = Field(max_length=500)
    comment: Comment = ""


class ContactsImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_version: Version
    # The file's text; bad encodings, NUL, formulas and oversize files are refused by parse_contacts.
    csv: str = Field(max_length=MAX_CSV_BYTES)
    comment: Comment = ""


class AgencyAdminView(BaseModel):
    form: AgencyForm
    routed_by: list[str]  # other rules that reach the agency (edited in the routing table)


class AgencyDirectory(BaseModel):
    version: int  # send it back as base_version
    agencies: list[AgencyAdminView]
    categories: list[Category]  # incident categories an agency can handle or set limits for
    camats: list[Camat]


class ContactsImported(Published):
    heads: int
    duty: int
    camats: int


def _parser(model: type[BaseModel]) -> Any:
    """A body parser whose refusals are the table's: 422 naming the field, as for a whole table."""

    def parse(raw: bytes) -> BaseModel:
        try:
            data = json.loads(raw)
        except ValueError as error:
            raise RoutingTableError([TableIssue("table", None, "", f"invalid JSON: {error}")]) from None
        try:
            return model.model_validate(data)
        except ValidationError as error:
            issues: list[TableIssue] = []
            for e in error.errors(include_url=False):
                loc = list(e["loc"])
                if loc[:1] == ["agency"] and isinstance(data, dict):
                    field = ".".join(str(p) for p in loc[1:])
                    issues.append(TableIssue("agencies", raw_item_id(data.get("agency")), field, e["msg"]))
                else:
                    issues.append(TableIssue("table", None, ".".join(str(p) for p in loc), e["msg"]))
            raise RoutingTableError(issues) from None

    return parse


async def _publish(
    request: web.Request, before: RoutingTable, edited: RoutingTable, identity: Identity, comment: str
) -> Published:
    stored = await request.app[DEPS].routing.publish(edited, identity.username, comment, based_on=before.version)
    return Published(info=stored.info, changes=diff(before, stored.table))


async def _base(request: web.Request, base_version: int) -> RoutingTable:
    """The table the admin edited, if it is still the newest (else 409 with the current version)."""
    stored = await request.app[DEPS].routing.versions.current()
    current = stored.info.version if stored is not None else None
    if stored is None or current != base_version:
        raise StaleVersion(base_version, current)
    return stored.table


_REFUSALS = {409: ("stale_routing_version",), 422: ("invalid_routing_table",)}


@routes.get("/api/admin/agencies", access="admin", summary="Agencies (OPD) as the agency screen edits them")
async def list_agency_forms(request: web.Request) -> AgencyDirectory:
    stored = request.app[DEPS].routing.current
    table = stored.table
    views = []
    for agency in table.agencies:
        form = form_of(table, agency.id)
        if form is not None:
            views.append(AgencyAdminView(form=form, routed_by=routed_by(table, agency.id)))
    return AgencyDirectory(
        version=stored.info.version,
        agencies=views,
        categories=[c for c in table.categories if c.dispatch],
        camats=table.camats,
    )


@routes.post(
    "/api/admin/agencies",
    access="admin",
    summary="Add an agency (publishes a new routing table version)",
    status=201,
    body_parser=_parser(AgencyEdit),
    refusals={**_REFUSALS, 409: ("stale_routing_version", "agency_exists")},
)
async def add_agency(request: web.Request, body: AgencyEdit, identity: Identity) -> Published:
    table = await _base(request, body.base_version)
    if table.agency(body.agency.id) is not None:
        raise ApiError(409, "agency_exists", "an agency with this id exists: edit it", {"agency": body.agency.id})
    comment = body.comment or f"add agency {body.agency.id}"
    return await _publish(request, table, apply_agency(table, body.agency), identity, comment)


@routes.put(
    "/api/admin/agencies/{agency}",
    access="admin",
    summary="Change an agency (publishes a new routing table version)",
    status=201,
    body_parser=_parser(AgencyEdit),
    refusals={**_REFUSALS, 400: ("agency_id_mismatch",), 404: ("agency_not_found",)},
)
async def edit_agency(request: web.Request, path: AgencyPath, body: AgencyEdit, identity: Identity) -> Published:
    if body.agency.id != path.agency:
        raise ApiError(400, "agency_id_mismatch", "an agency's id cannot change; add a new one instead")
    table = await _base(request, body.base_version)
    if table.agency(path.agency) is None:
        raise ApiError(404, "agency_not_found", "no agency with this id", {"agency": path.agency})
    comment = body.comment or f"change agency {path.agency}"
    return await _publish(request, table, apply_agency(table, body.agency), identity, comment)


@routes.put(
    "/api/admin/camats",
    access="admin",
    summary="Set the camats told when a ticket of their kecamatan escalates (publishes a new version)",
    status=201,
    body_parser=_parser(CamatsEdit),
    refusals=_REFUSALS,
)
async def set_camats(request: web.Request, body: CamatsEdit, identity: Identity) -> Published:
    table = await _base(request, body.base_version)
    raw = table.model_dump(mode="json")
    raw["camats"] = [c.model_dump(mode="json") for c in body.camats]
    edited = load_table(raw)
    return await _publish(request, table, edited, identity, body.comment or "set camats")


@routes.post(
    "/api/admin/contacts/import",
    access="admin",
    summary="Import escalation contacts from CSV (heads, people on duty, camats); all rows or none",
    status=201,
    body_parser=_parser(ContactsImport),
    refusals={**_REFUSALS, 422: ("invalid_routing_table", "invalid_contacts_csv")},
)
async def import_contacts(request: web.Request, body: ContactsImport, identity: Identity) -> ContactsImported:
    rows = parse_contacts(body.csv)
    table = await _base(request, body.base_version)
    published = await _publish(
        request, table, apply_contacts(table, rows), identity, body.comment or "import contacts (CSV)"
    )
    count = {kind: sum(1 for r in rows if r.type == kind) for kind in ("head", "duty", "camat")}
    return ContactsImported(**published.model_dump(), heads=count["head"], duty=count["duty"], camats=count["camat"])
