"""HTTP API of dispatch: routing tables (admins), route explanations and agencies (operators), incidents.

Routing table writes are validated whole by `load_table`; a refused table answers 422 `invalid_routing_table`
with one detail per problem, naming the rule (or target, agency, ...) and the field, and nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.routing.agencies import Agency, Target
from ntpd112.routing.diff import diff
from ntpd112.routing.matching import RouteDecision, explain, match
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import load_table
from ntpd112.store.routing_versions import StoredTable, VersionInfo
from ntpd112.web.common import DEPS, ApiError, call_id_param, json_response, require_role

# -- boundary models ---------------------------------------------------------------------------------------


class WriteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=500)


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_version: int = Field(alias="from", ge=1)
    to_version: int = Field(alias="to", ge=1)


class ExplainQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40)
    area: str | None = Field(None, min_length=1, max_length=80)
    # ISO 8601; without an offset it is local time in the table's timezone. Default: now.
    at: datetime | None = None


class Published(BaseModel):
    info: VersionInfo
    changes: list[str]


class Validated(BaseModel):
    valid: bool
    changes: list[str]  # against the table in force


class Explanation(BaseModel):
    decision: RouteDecision
    text: str


class AgencyEntry(BaseModel):
    agency: Agency
    targets: list[Target]


class VersionDiff(BaseModel):
    from_version: int
    to_version: int
    changes: list[str]


# -- helpers -----------------------------------------------------------------------------------------------


def _version_param(request: web.Request) -> int:
    return int(request.match_info["version"])  # the route's pattern admits digits only


async def _table_from_body(request: web.Request) -> RoutingTable:
    return load_table(await request.read())


# -- routing tables ----------------------------------------------------------------------------------------


async def list_versions(request: web.Request) -> web.Response:
    require_role(request, "admin")
    return json_response(await request.app[DEPS].routing.versions.list_versions())


async def current_table(request: web.Request) -> web.Response:
    """The table this service routes with (normally the newest version)."""
    require_role(request, "admin")
    return json_response(request.app[DEPS].routing.current)


async def get_version(request: web.Request) -> web.Response:
    require_role(request, "admin")
    stored: StoredTable = await request.app[DEPS].routing.versions.get(_version_param(request))
    return json_response(stored)


async def put_table(request: web.Request) -> web.Response:
    identity = require_role(request, "admin")
    query = WriteQuery.model_validate(dict(request.query))
    routing = request.app[DEPS].routing
    table = await _table_from_body(request)
    before = routing.current.table
    stored = await routing.publish(table, identity.username, query.comment)
    return json_response(Published(info=stored.info, changes=diff(before, stored.table)), status=201)


async def validate_table(request: web.Request) -> web.Response:
    require_role(request, "admin")
    routing = request.app[DEPS].routing
    table = await _table_from_body(request)
    current = routing.current.table
    # Compare content, not numbering: the candidate would become the next version.
    candidate = table.model_copy(update={"version": current.version})
    return json_response(Validated(valid=True, changes=diff(current, candidate)))


async def restore_version(request: web.Request) -> web.Response:
    identity = require_role(request, "admin")
    query = WriteQuery.model_validate(dict(request.query))
    routing = request.app[DEPS].routing
    before = routing.current.table
    stored = await routing.restore(_version_param(request), identity.username, query.comment)
    return json_response(Published(info=stored.info, changes=diff(before, stored.table)), status=201)


async def diff_versions(request: web.Request) -> web.Response:
    require_role(request, "admin")
    query = DiffQuery.model_validate(dict(request.query))
    versions = request.app[DEPS].routing.versions
    old = await versions.get(query.from_version)
    new = await versions.get(query.to_version)
    return json_response(
        VersionDiff(from_version=query.from_version, to_version=query.to_version, changes=diff(old.table, new.table))
    )


async def explain_route(request: web.Request) -> web.Response:
    require_role(request, "operator")
    query = ExplainQuery.model_validate(dict(request.query))
    at = query.at or datetime.now(UTC)
    table = request.app[DEPS].routing.current.table
    decision = match(table, query.category, query.area, at)
    return json_response(Explanation(decision=decision, text=explain(table, query.category, query.area, at)))


async def list_agencies(request: web.Request) -> web.Response:
    require_role(request, "operator")
    table = request.app[DEPS].routing.current.table
    return json_response(
        [AgencyEntry(agency=a, targets=[t for t in table.targets if t.agency == a.id]) for a in table.agencies]
    )


# -- incidents ---------------------------------------------------------------------------------------------


async def put_incident(request: web.Request) -> web.Response:
    identity = require_role(request, "operator")
    call_id = call_id_param(request)
    change = IncidentChange.model_validate_json(await request.read())
    incident = await request.app[DEPS].incidents.set(call_id, change, identity.username)
    return json_response(incident)


async def get_incident(request: web.Request) -> web.Response:
    require_role(request, "operator")
    call_id = call_id_param(request)
    incident = await request.app[DEPS].incidents.get(call_id)
    if incident is None:
        raise ApiError(404, "incident_not_found", "this call has no incident yet", {"call_id": str(call_id)})
    return json_response(incident)


def add_dispatch_routes(app: web.Application) -> None:
    app.router.add_get("/api/routes", list_versions)
    app.router.add_put("/api/routes", put_table)
    app.router.add_get("/api/routes/current", current_table)
    app.router.add_get("/api/routes/diff", diff_versions)
    app.router.add_get("/api/routes/explain", explain_route)
    app.router.add_post("/api/routes/validate", validate_table)
    app.router.add_get(r"/api/routes/{version:\d{1,9}}", get_version)
    app.router.add_post(r"/api/routes/{version:\d{1,9}}/restore", restore_version)
    app.router.add_get("/api/agencies", list_agencies)
    app.router.add_get("/api/calls/{call_id}/incident", get_incident)
    app.router.add_put("/api/calls/{call_id}/incident", put_incident)
