"""The room's reports over HTTP: JSON, the recap as CSV or XLSX, the printable PDF (definitions: reports/rules.py)."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.clock import utcnow
from ntpd112.publish.report_files import ReportFileError
from ntpd112.reports.files import MEDIA_TYPES, ReportFormat, file_name
from ntpd112.reports.rules import RangeError, Report, ReportRange
from ntpd112.web.common import DEPS, ApiError, table_in_force
from ntpd112.web.endpoints import RouteTable

routes = RouteTable()
# Dates a 112 room can have records of; also keeps "the day after the last" inside Python's calendar.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first: date = Field(alias="from", ge=EARLIEST, le=LATEST, description="First day, in the room's time zone")
    last: date = Field(alias="to", ge=EARLIEST, le=LATEST, description="Last day (included), in the room's time zone")
    format: ReportFormat = "json"


@routes.get(
    "/api/reports",
    access="supervisor",
    summary="The room's report for whole days (JSON; format=csv, xlsx or pdf: a download)",
    refusals={400: ("invalid_range",), 503: ("report_file_failed",)},
    response_model=Report,
)
async def get_report(request: web.Request, query: ReportQuery) -> web.Response:
    deps = request.app[DEPS]
    settings = deps.report_settings
    try:
        period = ReportRange(query.first, query.last, settings.timezone)
    except RangeError as error:
        raise ApiError(400, "invalid_range", str(error)) from None
    report = await deps.reports.build(period, settings, table_in_force(request), utcnow())
    try:
        body = await deps.report_files.render(report, query.format)
    except ReportFileError as error:
        raise ApiError(503, "report_file_failed", f"{error}; try again") from None
    response = web.Response(body=body)
    response.headers["Content-Type"] = MEDIA_TYPES[query.format]
    if query.format != "json":
        response.headers["Content-Disposition"] = f'attachment; filename="{file_name(report, query.format)}"'
    return response
