"""The administrative areas as GeoJSON, for the console's offline base map."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.store.area_map import AreaCollection, LevelFilter
from ntpd112.web.common import DEPS
from ntpd112.web.endpoints import JSON_MEDIA_TYPE, RouteTable

routes = RouteTable()
# Boundaries change only with an import: a console may keep them a few minutes (private: behind a sign-in).
CACHE_CONTROL = "private, max-age=300"


class AreaQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: LevelFilter = "all"


@routes.get(
    "/api/areas",
    access="operator",
    summary="Imported kecamatan and kelurahan/desa boundaries as a GeoJSON FeatureCollection",
    response_model=AreaCollection,
)
async def list_areas(request: web.Request, query: AreaQuery) -> web.Response:
    body = await request.app[DEPS].areas.collection_json(query.level)
    return web.Response(body=body, content_type=JSON_MEDIA_TYPE, headers={"Cache-Control": CACHE_CONTROL})
