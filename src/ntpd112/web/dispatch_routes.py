"""HTTP API of dispatch: routing tables (admins), route explanations and agencies (operators), incidents.

Routing table writes are validated whole by `load_table`; a refused table answers 422 `invalid_routing_table`
with one detail per problem, naming the rule (or target, agency, ...) and the field, and nothing changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.routing.agencies import Agency, Target
from ntpd112.routing.categories import Category
from ntpd112.routing.diff import diff
from ntpd112.routing.matching import RouteDecision, explain, match
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import load_table
from ntpd112.store.incidents import IncidentView
from ntpd112.store.routing_versions import StoredTable, VersionInfo
from ntpd112.web.call_routes import CallPath
from ntpd112.web.common import DEPS, ApiError, Identity, require_call_of
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
MIN_AT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_AT = datetime(9000, 1, 1, tzinfo=UTC)

# -- boundary models ---------------------------------------------------------------------------------------


# Versions are PostgreSQL integers; a larger number is no version and must not reach the database.
MAX_VERSION = 2**31 - 1


class WriteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=500)


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_version: int = Field(alias="from", ge=1, le=MAX_VERSION)
    to_version: int = Field(alias="to", ge=1, le=MAX_VERSION)


class ExplainQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=40)
    area: str | None = Field(None, min_length=1, max_length=80)
    # ISO 8601; without an offset it is local time in the table's timezone. Default: now.
    at: datetime | None = None

    @field_validator("at")
    @classmethod
    def _within_calendar(cls, at: datetime | None) -> datetime | None:
        # 9999-12-31T23:59:59-14:00 parses but overflows once moved to another zone (a 500 before).
        if at is not None and not MIN_AT.year < at.year < MAX_AT.year:
            raise ValueError(f"must lie between the years {MIN_AT.year} and {MAX_AT.year}")
        return at


class VersionPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_VERSION)


_VERSION = {404: ("routing_version_not_found",)}
_TABLE = {422: ("invalid_routing_table",)}


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


# -- routing tables ----------------------------------------------------------------------------------------


@routes.get("/api/routes", access="admin", summary="Every version of the routing table")
async def list_versions(request: web.Request) -> list[VersionInfo]:
    return await request.app[DEPS].routing.versions.list_versions()


@routes.get("/api/routes/current", access="admin", summary="The table this service routes with (normally the newest)")
async def current_table(request: web.Request) -> StoredTable:
    return request.app[DEPS].routing.current


@routes.put(
    "/api/routes",
    access="admin",
    summary="Publish a new routing table (validated whole; refused whole)",
    status=201,
    body_parser=load_table,
    refusals=_TABLE,
)
async def put_table(request: web.Request, query: WriteQuery, body: RoutingTable, identity: Identity) -> Published:
    routing = request.app[DEPS].routing
    before = routing.current.table
    stored = await routing.publish(body, identity.username, query.comment)
    return Published(info=stored.info, changes=diff(before, stored.table))


@routes.post(
    "/api/routes/validate",
    access="admin",
    summary="Check a routing table and list its changes against the table in force; nothing is stored",
    body_parser=load_table,
    refusals=_TABLE,
)
async def validate_table(request: web.Request, body: RoutingTable) -> Validated:
    current = request.app[DEPS].routing.current.table
    # Compare content, not numbering: the candidate would become the next version.
    candidate = body.model_copy(update={"version": current.version})
    return Validated(valid=True, changes=diff(current, candidate))


@routes.get("/api/routes/diff", access="admin", summary="What changed between two versions", refusals=_VERSION)
async def diff_versions(request: web.Request, query: DiffQuery) -> VersionDiff:
    versions = request.app[DEPS].routing.versions
    old = await versions.get(query.from_version)
    new = await versions.get(query.to_version)
    return VersionDiff(from_version=query.from_version, to_version=query.to_version, changes=diff(old.table, new.table))


@routes.get(
    "/api/routes/explain", access="operator", summary="Where a call of this category and area would go, and why"
)
async def explain_route(request: web.Request, query: ExplainQuery) -> Explanation:
    at = query.at or datetime.now(UTC)
    table = request.app[DEPS].routing.current.table
    decision = match(table, query.category, query.area, at)
    return Explanation(decision=decision, text=explain(table, query.category, query.area, at))


@routes.get("/api/agencies", access="operator", summary="Agencies and their targets in the table in force")
async def list_agencies(request: web.Request) -> list[AgencyEntry]:
    table = request.app[DEPS].routing.current.table
    return [AgencyEntry(agency=a, targets=[t for t in table.targets if t.agency == a.id]) for a in table.agencies]


@routes.get(
    "/api/categories",
    access="operator",
    summary="Incident categories and call outcomes of the table in force, in table order (the console's keys)",
)
async def list_categories(request: web.Request) -> list[Category]:
    return request.app[DEPS].routing.current.table.categories


# After the fixed paths above: the router tries routes in the order they were added.
@routes.get("/api/routes/{version}", access="admin", summary="One version of the routing table", refusals=_VERSION)
async def get_version(request: web.Request, path: VersionPath) -> StoredTable:
    return await request.app[DEPS].routing.versions.get(path.version)


@routes.post(
    "/api/routes/{version}/restore",
    access="admin",
    summary="Publish an earlier version again as the newest",
    status=201,
    refusals=_VERSION,
)
async def restore_version(request: web.Request, path: VersionPath, query: WriteQuery, identity: Identity) -> Published:
    routing = request.app[DEPS].routing
    before = routing.current.table
    stored = await routing.restore(path.version, identity.username, query.comment)
    return Published(info=stored.info, changes=diff(before, stored.table))


# -- incidents ---------------------------------------------------------------------------------------------


@routes.put(
    "/api/calls/{call_id}/incident",
    access="operator",
    summary="Classify the call: set its incident",
    refusals={403: ("not_your_call",), 404: ("call_not_found",), 422: ("unknown_category",)},
)
async def put_incident(request: web.Request, path: CallPath, body: IncidentChange, identity: Identity) -> IncidentView:
    await require_call_of(request, identity, path.call_id, unanswered_too=True)
    return await request.app[DEPS].incidents.set(path.call_id, body, identity.username)


@routes.get(
    "/api/calls/{call_id}/incident",
    access="operator",
    summary="The call's incident",
    refusals={404: ("incident_not_found",)},
)
async def get_incident(request: web.Request, path: CallPath) -> IncidentView:
    incident = await request.app[DEPS].incidents.get(path.call_id)
    if incident is None:
        raise ApiError(404, "incident_not_found", "this call has no incident yet", {"call_id": str(path.call_id)})
    return incident
