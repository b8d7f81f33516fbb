"""Small spherical-earth helpers shared by the location parsers (pure Python, no shapely).

A sphere of the IUGG mean radius is used. Its error against WGS 84 (< 0.5 %) is far below the
uncertainty of any emergency location, so the simpler formulas are the better trade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ntpd112.intake.errors import IntakeParseError

EARTH_MEAN_RADIUS_M = 6_371_008.8
MAX_RADIUS_M = 1_000_000.0


def check_lat_lon(lat: float, lon: float) -> None:
    """Reject coordinates outside WGS 84 ranges (lat in [-90, 90], lon in [-180, 180])."""
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise IntakeParseError("bad_latitude", f"latitude {lat!r} outside [-90, 90]")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise IntakeParseError("bad_longitude", f"longitude {lon!r} outside [-180, 180]")


def check_radius(radius_m: float, what: str = "radius") -> None:
    """Reject a distance that is not finite or lies outside [0, 1e6] metres."""
    if not (math.isfinite(radius_m) and 0.0 <= radius_m <= MAX_RADIUS_M):
        raise IntakeParseError("bad_radius", f"{what} {radius_m!r} m outside [0, {MAX_RADIUS_M:.0f}]")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # min() guards against a rounding excursion just above 1.0.
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point reached from (lat, lon) after ``distance_m`` along ``bearing_deg`` (from north)."""
    delta = distance_m / EARTH_MEAN_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    lon2 = (math.degrees(lambda2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


def polygon_centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Area centroid of a small polygon given as (lat, lon) vertices.

    Computed in a local equirectangular plane (longitude scaled by cos(mean latitude)), which is
    accurate for the city-sized polygons that carry emergency locations. A degenerate (zero-area)
    polygon falls back to the mean of its vertices. The closing vertex may be repeated or not.
    """
    vertices = list(points)
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        vertices = vertices[:-1]
    if not vertices:
        raise IntakeParseError("empty_polygon", "polygon has no vertices")
    mean_lat = sum(p[0] for p in vertices) / len(vertices)
    mean_lon = sum(p[1] for p in vertices) / len(vertices)
    scale = max(math.cos(math.radians(mean_lat)), 1e-6)
    # Work relative to the vertex mean to keep the products small and precise.
    xy = [((p[1] - mean_lon) * scale, p[0] - mean_lat) for p in vertices]
    twice_area = 0.0
    cx = 0.0
    cy = 0.0
    for (x0, y0), (x1, y1) in zip(xy, xy[1:] + xy[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        twice_area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    width = max(x for x, _ in xy) - min(x for x, _ in xy)
    height = max(y for _, y in xy) - min(y for _, y in xy)
    # Near-zero area (collinear points, a self-crossing "bow tie") makes the formula divide by
    # almost nothing; the vertex mean is the sane centre then.
    if abs(twice_area) <= 1e-9 * width * height or twice_area == 0.0:
        return mean_lat, mean_lon
    cx /= 3.0 * twice_area
    cy /= 3.0 * twice_area
    if not (
        min(x for x, _ in xy) <= cx <= max(x for x, _ in xy) and min(y for _, y in xy) <= cy <= max(y for _, y in xy)
    ):
        return mean_lat, mean_lon
    return mean_lat + cy, mean_lon + cx / scale


def covering_circle(points: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """Centroid of the polygon and the largest distance from it to any vertex (metres).

    The disc is convex and holds every vertex, so it holds the whole polygon.
    """
    lat, lon = polygon_centroid(points)
    radius = max(haversine_m(lat, lon, p[0], p[1]) for p in points)
    return lat, lon, radius
