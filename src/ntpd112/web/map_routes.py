"""The console map's optional tile layers: what is configured (GET /api/map), and the local tile directory served
at /api/tiles/{z}/{x}/{y}.png to signed-in users.

The base map is always the imported boundaries (area_routes.py); tiles are drawn under them only when an admin
configured them (settings map_tile_url, map_tile_dir). Nothing outside the tile directory is reachable: the path
is three integers, and the resolved file must still lie inside the directory (a symlink out is refused).
"""

from __future__ import annotations

from typing import Self

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ntpd112.web.common import DEPS, ApiError
from ntpd112.web.endpoints import RouteTable
from ntpd112.web.map_tiles import MapTiles, tile_file

routes = RouteTable()
LOCAL_TILE_TEMPLATE = "/api/tiles/{z}/{x}/{y}.png"
# Web Mercator tiles deeper than this do not exist in any common tile set.
MAX_TILE_ZOOM = 24
# Tiles change only when an admin replaces the directory: a console may keep them an hour (private: signed in).
TILE_HEADERS = {"Content-Type": "image/png", "Cache-Control": "private, max-age=3600"}


class TileLayer(BaseModel):
    url_template: str = Field(description="Leaflet tile URL template with {z}, {x} and {y}")
    local: bool = Field(description="served by this service (works without internet)")


class MapSettings(BaseModel):
    tile_layers: list[TileLayer] = Field(
        description="Drawn under the area boundaries, first at the bottom; empty: boundaries only"
    )


class TilePath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    z: int = Field(ge=0, le=MAX_TILE_ZOOM)
    x: int = Field(ge=0)
    y: int = Field(ge=0)

    @model_validator(mode="after")
    def _inside_the_zoom_level(self) -> Self:
        if self.x >= 2**self.z or self.y >= 2**self.z:
            raise ValueError("x and y must be below 2^z")
        return self


def map_settings(tiles: MapTiles) -> MapSettings:
    """The local tiles at the bottom (they always load), the online ones over them when configured."""
    layers = []
    if tiles.directory is not None:
        layers.append(TileLayer(url_template=LOCAL_TILE_TEMPLATE, local=True))
    if tiles.url_template is not None:
        layers.append(TileLayer(url_template=tiles.url_template, local=False))
    return MapSettings(tile_layers=layers)


@routes.get("/api/map", access="signed_in", summary="The console map's tile layers (none unless configured)")
async def get_map_settings(request: web.Request) -> MapSettings:
    return map_settings(request.app[DEPS].map_tiles)


@routes.get(
    "/api/tiles/{z}/{x}/{y}.png",
    access="signed_in",
    summary="A map tile (PNG) from the configured local tile directory",
    produces="image/png",
    refusals={404: ("tiles_not_configured", "tile_not_found")},
)
async def get_tile(request: web.Request, path: TilePath) -> web.StreamResponse:
    directory = request.app[DEPS].map_tiles.directory
    if directory is None:
        raise ApiError(404, "tiles_not_configured", "no local tile directory is configured")
    found = tile_file(directory, path.z, path.x, path.y)
    if found is None:
        raise ApiError(404, "tile_not_found", "no such tile", path.model_dump())
    return web.FileResponse(found, headers=TILE_HEADERS)
