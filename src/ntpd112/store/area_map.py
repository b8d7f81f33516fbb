"""The imported administrative areas as one GeoJSON FeatureCollection: the console's offline base map.

The boundaries are the full polygons `ntpd112 areas import` stored (validated then), not only their boxes. The
encoded collection is kept in memory per level and per data version (the number of rows and the highest row id:
an import, replacing or adding, changes one of them), so a console reload costs one small query.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlalchemy import func, select

from ntpd112.logs import get_logger
from ntpd112.store.db import Database
from ntpd112.store.models import AdminAreaRow

AreaLevel = Literal["kabupaten", "kecamatan", "kelurahan"]
LevelFilter = Literal["kecamatan", "kelurahan", "all"]
Position = list[float]  # [lon, lat] or [lon, lat, altitude]


class PolygonGeometry(BaseModel):
    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygonGeometry(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


class AreaProperties(BaseModel):
    code: str | None
    name: str | None  # the most precise name the area has
    level: AreaLevel
    kabupaten: str | None
    kecamatan: str | None
    kelurahan: str | None


class AreaFeature(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    id: int
    geometry: PolygonGeometry | MultiPolygonGeometry
    properties: AreaProperties


class AreaCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[AreaFeature]


log = get_logger(__name__)
_COLLECTION = TypeAdapter(AreaCollection)


def level_of(kecamatan: str | None, kelurahan: str | None) -> AreaLevel:
    if kelurahan:
        return "kelurahan"
    return "kecamatan" if kecamatan else "kabupaten"


def _feature(row: AdminAreaRow) -> AreaFeature | None:
    try:
        return AreaFeature.model_validate(
            {
                "id": row.id,
                "geometry": row.geometry,
                "properties": {
                    "code": row.code,
                    "name": row.kelurahan or row.kecamatan or row.kabupaten,
                    "level": level_of(row.kecamatan, row.kelurahan),
                    "kabupaten": row.kabupaten,
                    "kecamatan": row.kecamatan,
                    "kelurahan": row.kelurahan,
                },
            }
        )
    except ValidationError:
        # Validated on import; a row edited by hand since then is left off the map, not fatal.
        log.warning("area with unusable geometry left off the map", area_id=row.id)
        return None


class AreaMap:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._cache: dict[LevelFilter, tuple[tuple[int, int], bytes]] = {}

    async def collection_json(self, level: LevelFilter) -> bytes:
        """The areas of `level` (all: every area) as an encoded FeatureCollection, ordered by row id."""
        async with self._database.session() as session:
            count, highest = (await session.execute(select(func.count(), func.max(AdminAreaRow.id)))).one()
            version = (int(count), int(highest or 0))
            cached = self._cache.get(level)
            if cached is not None and cached[0] == version:
                return cached[1]
            statement = select(AdminAreaRow).order_by(AdminAreaRow.id)
            if level == "kelurahan":
                statement = statement.where(AdminAreaRow.kelurahan.is_not(None))
            elif level == "kecamatan":
                statement = statement.where(AdminAreaRow.kelurahan.is_(None), AdminAreaRow.kecamatan.is_not(None))
            rows = (await session.scalars(statement)).all()
        features = [feature for row in rows if (feature := _feature(row)) is not None]
        encoded = _COLLECTION.dump_json(AreaCollection(features=features))
        self._cache[level] = (version, encoded)
        return encoded
