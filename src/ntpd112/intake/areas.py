"""Administrative areas (kecamatan, kelurahan/desa) from GeoJSON, and which one holds a point.

GeoJSON per RFC 7946: a FeatureCollection of Features whose geometry is a Polygon or MultiPolygon;
positions are ``[longitude, latitude(, altitude)]``; the first ring of a polygon is its exterior,
further rings are holes. Rings should be closed (first position repeated last); an unclosed ring
is closed here rather than rejected, since several Indonesian boundary exports omit it.

Point-in-polygon is ray casting (even-odd rule) in plain longitude/latitude, with a bounding box
precheck. A point exactly on a shared boundary may be reported in either neighbour; that is fine
for choosing a dispatch area.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from ntpd112.intake.errors import IntakeParseError, check_input_size

# Boundary files are configuration, not request bodies: allow whole-country exports.
MAX_GEOJSON_BYTES = 512 * 1024 * 1024
_MAX_PROPERTY_CHARS = 256

Position = tuple[float, float]  # (lon, lat), GeoJSON order
Ring = tuple[Position, ...]
Polygon = tuple[Ring, ...]  # exterior first, then holes


class AreaPropertyKeys(BaseModel):
    """Which feature properties name the area; each list is tried in order, case-insensitively."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kabupaten: tuple[str, ...] = ("kabupaten", "kota", "kabupaten_kota", "kab_kota", "wadmkk", "regency")
    kecamatan: tuple[str, ...] = ("kecamatan", "nama_kecamatan", "nm_kecamatan", "wadmkc", "district")
    kelurahan: tuple[str, ...] = (
        "kelurahan",
        "desa",
        "village",
        "desa_kelurahan",
        "nama_desa",
        "nama_kelurahan",
        "wadmkd",
    )
    code: tuple[str, ...] = (
        "kode",
        "kode_desa",
        "kode_kelurahan",
        "kd_desa",
        "kdepum",
        "code",
        "village_code",
    )


DEFAULT_PROPERTY_KEYS = AreaPropertyKeys()


class AreaNames(BaseModel):
    """How an administrative area is named: the fields every view of an area shares (a call's area, the API)."""

    code: str | None
    kabupaten: str | None
    kecamatan: str | None
    kelurahan: str | None


class AdminArea(AreaNames):
    """One administrative area with its (multi)polygon."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    polygons: tuple[Polygon, ...]
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat

    def contains(self, lat: float, lon: float) -> bool:
        """True when (lat, lon) lies inside one of the polygons and outside its holes."""
        min_lon, min_lat, max_lon, max_lat = self.bbox
        if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
            return False
        return any(_polygon_contains(polygon, lon, lat) for polygon in self.polygons)


# `locate` returns the caller's own kind of area (the store's carries its row id).
AreaT = TypeVar("AreaT", bound=AdminArea)


def parse_feature_collection(
    data: str | bytes | Mapping[str, Any], keys: AreaPropertyKeys = DEFAULT_PROPERTY_KEYS
) -> list[AdminArea]:
    """Parse a FeatureCollection; the first bad feature raises with its index in the message."""
    document = _load(data)
    if document.get("type") != "FeatureCollection":
        raise IntakeParseError("not_feature_collection", "GeoJSON type is not FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise IntakeParseError("bad_geojson", "FeatureCollection.features is not a list")
    areas: list[AdminArea] = []
    for index, feature in enumerate(features):
        try:
            areas.append(parse_feature(feature, keys))
        except IntakeParseError as exc:
            raise IntakeParseError(exc.code, f"feature {index}: {exc.message}") from None
    return areas


def parse_feature(feature: object, keys: AreaPropertyKeys = DEFAULT_PROPERTY_KEYS) -> AdminArea:
    """Parse one GeoJSON Feature with a Polygon or MultiPolygon geometry."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise IntakeParseError("bad_feature", "not a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping):
        raise IntakeParseError("missing_geometry", "feature has no geometry")
    geometry_type = geometry.get("type")
    coordinates = geometry.get("coordinates")
    polygons: tuple[Polygon, ...]
    if geometry_type == "Polygon":
        polygons = (_parse_polygon(coordinates),)
    elif geometry_type == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise IntakeParseError("bad_geometry", "MultiPolygon needs a non-empty list of polygons")
        polygons = tuple(_parse_polygon(polygon) for polygon in coordinates)
    else:
        raise IntakeParseError("unsupported_geometry", f"geometry type {str(geometry_type)[:30]!r}")
    properties = feature.get("properties")
    props: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    lowered = {str(name).lower(): value for name, value in props.items()}
    exteriors = [vertex for polygon in polygons for vertex in polygon[0]]
    bbox = (
        min(v[0] for v in exteriors),
        min(v[1] for v in exteriors),
        max(v[0] for v in exteriors),
        max(v[1] for v in exteriors),
    )
    return AdminArea(
        kabupaten=_property(lowered, keys.kabupaten),
        kecamatan=_property(lowered, keys.kecamatan),
        kelurahan=_property(lowered, keys.kelurahan),
        code=_property(lowered, keys.code),
        polygons=polygons,
        bbox=bbox,
    )


def locate(areas: Iterable[AreaT], lat: float, lon: float) -> AreaT | None:
    """The most precise area holding (lat, lon), or None: a kelurahan/desa before a kecamatan, then the smallest
    bounding box; among equals the first in ``areas``."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    holding = (area for area in areas if area.contains(lat, lon))
    return min(holding, key=_precision, default=None)


def _precision(area: AdminArea) -> tuple[bool, float]:
    min_lon, min_lat, max_lon, max_lat = area.bbox
    return area.kelurahan is None, (max_lon - min_lon) * (max_lat - min_lat)


def _load(data: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    check_input_size(data, "GeoJSON", MAX_GEOJSON_BYTES)
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and undecodable bytes; RecursionError deep nesting.
        raise IntakeParseError("bad_json", f"not JSON: {type(exc).__name__}") from None
    if not isinstance(document, dict):
        raise IntakeParseError("bad_geojson", "GeoJSON root is not an object")
    return document


def _parse_polygon(rings: object) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise IntakeParseError("bad_geometry", "polygon needs a non-empty list of rings")
    return tuple(_parse_ring(ring) for ring in rings)


def _parse_ring(positions: object) -> Ring:
    if not isinstance(positions, list):
        raise IntakeParseError("bad_geometry", "ring is not a list of positions")
    ring = [_parse_position(position) for position in positions]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(set(ring)) < 3:
        raise IntakeParseError("bad_geometry", "ring needs at least 3 distinct positions")
    return tuple(ring)


def _parse_position(position: object) -> Position:
    if not isinstance(position, list) or not 2 <= len(position) <= 3:
        raise IntakeParseError("bad_geometry", "position is not [lon, lat] or [lon, lat, alt]")
    numbers = []
    for number in position:
        # bool is an int subclass in Python; JSON true/false are no coordinates.
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise IntakeParseError("bad_geometry", "coordinate is not a number")
        # A huge JSON integer would overflow float(); no coordinate is that large anyway.
        if isinstance(number, int) and abs(number) > 1_000:
            raise IntakeParseError("bad_geometry", "coordinate out of range")
        if not math.isfinite(number):
            raise IntakeParseError("bad_geometry", "coordinate is not finite")
        numbers.append(float(number))
    lon, lat = numbers[0], numbers[1]
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise IntakeParseError("bad_geometry", f"position [{lon}, {lat}] outside WGS 84 ranges")
    return lon, lat


def _property(properties: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = properties.get(name.lower())
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float | str):
            text = " ".join(str(value).split())[:_MAX_PROPERTY_CHARS]
            if text:
                return text
    return None


def _polygon_contains(polygon: Polygon, x: float, y: float) -> bool:
    exterior, *holes = polygon
    return _ring_contains(exterior, x, y) and not any(_ring_contains(hole, x, y) for hole in holes)


def _ring_contains(ring: Ring, x: float, y: float) -> bool:
    """Even-odd ray casting towards +x."""
    inside = False
    x_prev, y_prev = ring[-1]
    for x_cur, y_cur in ring:
        if (y_cur > y) != (y_prev > y):
            x_cross = (x_prev - x_cur) * (y - y_cur) / (y_prev - y_cur) + x_cur
            if x < x_cross:
                inside = not inside
        x_prev, y_prev = x_cur, y_cur
    return inside
