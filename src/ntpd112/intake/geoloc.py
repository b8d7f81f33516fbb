"""Geodetic locations sent in the INVITE, as Asterisk hands them over: ``GEOLOC_PROFILE`` text.

Asterisk parses the PIDF-LO body itself (it cannot be read over ARI, see ``call_location``); the
shapes below are the GML shapes of that body.

Every shape is reduced to a centre and a radius (metres) that covers the shape:

=========  =====================================================================================
Point      the position; ``radius_m=None`` means *accuracy unknown* (not "exact"; 0 is never used
           for that, because a radius of 0 would win every accuracy comparison)
Circle     position and ``radius``
Sphere     position and ``radius`` (altitude dropped)
Ellipse    position and the larger of ``semiMajorAxis``/``semiMinorAxis``
Ellipsoid  as Ellipse (the vertical axis does not matter on a map)
ArcBand    the middle of the band, radius to its farthest corner (or the arc centre with
           ``outerRadius`` when that is smaller, e.g. a full ring)
Polygon    area centroid, radius to the farthest vertex (haversine); holes are ignored
Prism      as Polygon for its base (height dropped)
=========  =====================================================================================

Standards: RFC 4119 (PIDF-LO), RFC 5491 clause 5.2 (GML shapes, EPSG::4326 2-D and EPSG::4979
3-D, lengths in EPSG::9001 metres, angles in EPSG::9102 degrees), RFC 7459 (confidence).

Asterisk (res_geolocation, ``geoloc_gml.c`` and ``pidf_to_eprofile.xslt``) renders the same data
as ``GEOLOC_PROFILE(location_info)``: comma separated ``key="value"`` pairs with the keys
``shape``, ``crs`` (``2d``/``3d``, or ``unknown`` for an unrecognised srsName), ``pos`` ("lat lon"
or "lat lon alt"; repeated once per vertex for Polygon and Prism), ``posList`` (what an incoming
``gml:posList`` becomes), ``radius``, ``semiMajorAxis``, ``semiMinorAxis``, ``verticalAxis``,
``orientation``, ``innerRadius``, ``outerRadius``, ``startAngle``, ``openingAngle``, ``height``.
Angles carry their unit as a suffix: ``orientation="25 radians"``.

Asterisk quirk: its XSLT labels an incoming angle whose uom is ``urn:ogc:def:uom:EPSG::9102``
"radians", but EPSG 9102 is the *degree* (9101 is the radian), and RFC 5491 always uses 9102.
Incoming calls (the only ones this service reads) therefore show degrees labelled radians, so
``parse_geoloc_profile`` reads a ``radians`` suffix as degrees unless told otherwise.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ntpd112.intake.errors import IntakeParseError, check_input_size
from ntpd112.intake.geometry import (
    MAX_RADIUS_M,
    check_lat_lon,
    check_radius,
    covering_circle,
    destination,
    haversine_m,
)
from ntpd112.intake.lexical import parse_decimal, read_quoted

# operator: a pin an operator placed by hand (POST /api/calls/{call_id}/locations).
LocationSource = Literal["cell", "pidf", "aml", "operator"]

SHAPES = ("Point", "Circle", "Ellipse", "ArcBand", "Polygon", "Sphere", "Ellipsoid", "Prism")
_SHAPE_BY_LOWER = {name.lower(): name for name in SHAPES}
_THREE_D_SHAPES = frozenset({"Sphere", "Ellipsoid", "Prism"})
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
LENGTH_KEYS = {
    "radius": "radius",
    "semimajoraxis": "semiMajorAxis",
    "semiminoraxis": "semiMinorAxis",
    "verticalaxis": "verticalAxis",
    "innerradius": "innerRadius",
    "outerradius": "outerRadius",
    "height": "height",
}
ANGLE_KEYS = {"orientation": "orientation", "startangle": "startAngle", "openingangle": "openingAngle"}
METRE_UOMS = frozenset({"urn:ogc:def:uom:epsg::9001", "epsg:9001", "m", "metre", "meter", "meters"})
_MAX_POSITIONS = 512
_MAX_METHOD_CHARS = 64


class LocationFix(BaseModel):
    """One location estimate for a call: a centre and the radius that covers it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: LocationSource
    lat: float = Field(ge=-90.0, le=90.0, allow_inf_nan=False)
    lon: float = Field(ge=-180.0, le=180.0, allow_inf_nan=False)
    # None: accuracy unknown (a bare point). Never 0 for "unknown".
    radius_m: float | None = Field(default=None, ge=0.0, le=MAX_RADIUS_M, allow_inf_nan=False)
    # Percent (RFC 7459 confidence, AML level of confidence).
    confidence: float | None = Field(default=None, ge=0.0, le=100.0, allow_inf_nan=False)
    # As reported: PIDF-LO <method> (RFC 4119 clause 2.2.3, e.g. GPS, A-GPS, Cell, Manual) or the
    # AML positioning method mapped to 'gnss', 'wifi', 'cell'.
    method: str | None = None
    measured_at: AwareDatetime | None = None
    raw: str
    shape: str | None = None


@dataclass
class Shape:
    """A shape in neutral form: positions as (lat, lon), lengths in metres, angles in degrees."""

    name: str
    positions: list[tuple[float, float]] = field(default_factory=list)
    lengths: dict[str, float] = field(default_factory=dict)
    angles: dict[str, float] = field(default_factory=dict)


def parse_key_value_list(text: str) -> list[tuple[str, str]]:
    """Tolerant reader for Asterisk variable lists: ``a="x, y",b=z, c = "w"``.

    Pairs are separated by commas and/or blanks; values may be double or single quoted (commas
    inside quotes are kept; backslash escapes the next character) or bare (ending at a comma).
    Keys keep their case and may repeat.
    """
    check_input_size(text, "location_info")
    pairs: list[tuple[str, str]] = []
    index = 0
    length = len(text)
    while True:
        while index < length and (text[index] == "," or text[index].isspace()):
            index += 1
        if index >= length:
            return pairs
        match = _KEY.match(text, index)
        if match is None:
            raise IntakeParseError("bad_syntax", f"expected a key at offset {index}")
        key = match.group()
        index = match.end()
        while index < length and text[index].isspace():
            index += 1
        if index >= length or text[index] != "=":
            raise IntakeParseError("bad_syntax", f"expected '=' after {key[:30]!r}")
        index += 1
        while index < length and text[index] in " \t":
            index += 1
        if index < length and text[index] in "\"'":
            quoted = read_quoted(text, index)
            if quoted is None:
                raise IntakeParseError("bad_syntax", f"unterminated quote in value of {key[:30]!r}")
            value, index = quoted
            if index < length and not (text[index] == "," or text[index].isspace()):
                raise IntakeParseError("bad_syntax", f"text right after the quoted value of {key[:30]!r}")
        else:
            end = text.find(",", index)
            end = length if end < 0 else end
            value = text[index:end].strip()
            index = end
        pairs.append((key, value))


def parse_geoloc_profile(
    location_info: str,
    *,
    method: str | None = None,
    confidence: str | None = None,
    measured_at: datetime | None = None,
    radians_label_means_degrees: bool = True,
) -> LocationFix:
    """Parse ``GEOLOC_PROFILE(location_info)`` (GML format) into a ``LocationFix``.

    ``method`` is ``GEOLOC_PROFILE(method)``; ``confidence`` is ``GEOLOC_PROFILE(confidence)``
    (``pdf="normal",value="95"``) or a bare percentage. See the module docstring for the keys
    and for ``radians_label_means_degrees``.
    """
    pairs = parse_key_value_list(location_info)
    values: dict[str, str] = {}
    positions_text: list[str] = []
    pos_list_text: str | None = None
    for key, value in pairs:
        lowered = key.lower()
        if lowered in ("pos", "pos3d"):
            positions_text.append(value)
            continue
        if lowered == "poslist":
            if pos_list_text is not None:
                raise IntakeParseError("duplicate_key", "posList given twice")
            pos_list_text = value
            continue
        if lowered in values:
            raise IntakeParseError("duplicate_key", f"{key[:30]!r} given twice")
        values[lowered] = value
    shape_text = values.get("shape")
    if not shape_text:
        raise IntakeParseError("missing_shape", "no shape in location_info")
    name = _SHAPE_BY_LOWER.get(shape_text.strip().lower())
    if name is None:
        raise IntakeParseError("unsupported_shape", f"shape {shape_text[:30]!r} is not a GML shape")
    dims = _dimensions_from_crs_label(values.get("crs", ""), name)
    shape = Shape(name=name)
    for text in positions_text:
        shape.positions.append(parse_position(text, dims))
    if pos_list_text is not None:
        shape.positions.extend(parse_pos_list(pos_list_text, dims, name))
    for lowered, canonical in LENGTH_KEYS.items():
        if lowered in values:
            shape.lengths[canonical] = _parse_length_value(values[lowered], canonical)
    for lowered, canonical in ANGLE_KEYS.items():
        if lowered in values:
            shape.angles[canonical] = _parse_angle_value(values[lowered], canonical, radians_label_means_degrees)
    lat, lon, radius = reduce_shape(shape)
    return make_fix(
        source="pidf",
        lat=lat,
        lon=lon,
        radius_m=radius,
        confidence=_parse_confidence_profile(confidence),
        method=clean_method(method),
        measured_at=measured_at,
        raw=location_info,
        shape=name,
    )


def make_fix(
    *,
    source: LocationSource,
    lat: float,
    lon: float,
    radius_m: float | None,
    confidence: float | None,
    method: str | None,
    measured_at: datetime | None,
    raw: str,
    shape: str | None = None,
) -> LocationFix:
    """Build a ``LocationFix`` after range checks, raising only IntakeParseError."""
    check_lat_lon(lat, lon)
    if radius_m is not None:
        check_radius(radius_m)
    try:
        return LocationFix(
            source=source,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            confidence=confidence,
            method=method,
            measured_at=measured_at,
            raw=raw,
            shape=shape,
        )
    except ValidationError as exc:
        raise IntakeParseError("bad_location", f"invalid location: {exc.error_count()} errors") from None


def reduce_shape(shape: Shape) -> tuple[float, float, float | None]:
    """Centre and covering radius of a shape (see the module docstring)."""
    name = shape.name
    positions = shape.positions
    if name in ("Polygon", "Prism"):
        distinct = set(positions)
        if len(positions) < 3 or len(distinct) < 3:
            raise IntakeParseError("bad_shape", f"{name} needs at least 3 distinct positions")
        if len(positions) > _MAX_POSITIONS:
            raise IntakeParseError("bad_shape", f"{name} has more than {_MAX_POSITIONS} positions")
        for lat, lon in positions:
            check_lat_lon(lat, lon)
        if "height" in shape.lengths:
            check_radius(shape.lengths["height"], "height")
        lat, lon, radius = covering_circle(positions)
        return lat, lon, radius
    if len(positions) != 1:
        raise IntakeParseError("bad_shape", f"{name} needs exactly one position, got {len(positions)}")
    lat, lon = positions[0]
    check_lat_lon(lat, lon)
    for key, value in shape.lengths.items():
        check_radius(value, key)
    if name == "Point":
        return lat, lon, None
    if name in ("Circle", "Sphere"):
        return lat, lon, _require(shape.lengths, "radius", name)
    if name in ("Ellipse", "Ellipsoid"):
        major = _require(shape.lengths, "semiMajorAxis", name)
        minor = _require(shape.lengths, "semiMinorAxis", name)
        return lat, lon, max(major, minor)
    return _reduce_arc_band(lat, lon, shape)


def _reduce_arc_band(lat: float, lon: float, shape: Shape) -> tuple[float, float, float]:
    inner = _require(shape.lengths, "innerRadius", "ArcBand")
    outer = _require(shape.lengths, "outerRadius", "ArcBand")
    start = _require(shape.angles, "startAngle", "ArcBand")
    opening = _require(shape.angles, "openingAngle", "ArcBand")
    if inner > outer:
        raise IntakeParseError("bad_shape", "ArcBand innerRadius is larger than outerRadius")
    if not (0.0 <= start <= 360.0 and 0.0 < opening <= 360.0):
        raise IntakeParseError("bad_shape", "ArcBand angles out of range")
    if opening >= 180.0:
        # A half ring or more: the arc centre is as good a centre as any.
        return lat, lon, outer
    middle_lat, middle_lon = destination(lat, lon, start + opening / 2.0, (inner + outer) / 2.0)
    # Distance from the band's middle grows monotonically towards the ends of either arc, so the
    # four corners are the farthest points of the band.
    corners = [
        destination(lat, lon, bearing, distance) for bearing in (start, start + opening) for distance in (inner, outer)
    ]
    radius = max(haversine_m(middle_lat, middle_lon, c_lat, c_lon) for c_lat, c_lon in corners)
    if radius >= outer:
        return lat, lon, outer
    return middle_lat, middle_lon, radius


def _require(values: dict[str, float], key: str, shape: str) -> float:
    if key not in values:
        raise IntakeParseError("bad_shape", f"{shape} needs {key}")
    return values[key]


def _dimensions_from_crs_label(label: str, shape: str) -> int | None:
    """2 or 3 for Asterisk's ``crs`` label; None (infer) for ``unknown`` or missing."""
    lowered = label.strip().lower()
    if lowered == "2d":
        return 2
    if lowered == "3d":
        return 3
    if lowered in ("", "unknown"):
        return None
    raise IntakeParseError("unsupported_crs", f"crs {label[:30]!r} is neither 2d nor 3d")


def parse_position(text: str, dims: int | None) -> tuple[float, float]:
    tokens = text.split()
    allowed = (dims,) if dims is not None else (2, 3)
    if len(tokens) not in allowed:
        raise IntakeParseError("bad_position", f"position {text[:40]!r} needs {allowed} numbers")
    numbers = [parse_decimal(token, "coordinate") for token in tokens]
    return numbers[0], numbers[1]


def parse_pos_list(text: str, dims: int | None, shape: str) -> list[tuple[float, float]]:
    tokens = text.split()
    if len(tokens) > _MAX_POSITIONS * 3:
        raise IntakeParseError("bad_shape", "posList too long")
    if dims is None:
        # Unknown CRS: 3-D shapes use triples; otherwise pairs unless only triples divide evenly.
        only_triples = len(tokens) % 2 != 0 and len(tokens) % 3 == 0
        dims = 3 if shape in _THREE_D_SHAPES or only_triples else 2
    if not tokens or len(tokens) % dims != 0:
        raise IntakeParseError("bad_position", f"posList length {len(tokens)} is not a multiple of {dims}")
    numbers = [parse_decimal(token, "coordinate") for token in tokens]
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), dims)]


def _parse_length_value(text: str, what: str) -> float:
    tokens = text.split()
    if not tokens or len(tokens) > 2:
        raise IntakeParseError("bad_length", f"{what} {text[:40]!r} is not a length")
    if len(tokens) == 2 and tokens[1].lower() not in METRE_UOMS:
        raise IntakeParseError("unsupported_uom", f"{what} unit {tokens[1][:40]!r} is not metres")
    value = parse_decimal(tokens[0], what)
    check_radius(value, what)
    return value


def _parse_angle_value(text: str, what: str, radians_label_means_degrees: bool) -> float:
    tokens = text.split()
    if not tokens or len(tokens) > 2:
        raise IntakeParseError("bad_angle", f"{what} {text[:40]!r} is not an angle")
    value = parse_decimal(tokens[0], what)
    unit = tokens[1].lower() if len(tokens) == 2 else "degrees"
    if unit.startswith("deg"):
        degrees = value
    elif unit.startswith("rad"):
        degrees = value if radians_label_means_degrees else math.degrees(value)
    else:
        raise IntakeParseError("unsupported_uom", f"{what} unit {tokens[1][:40]!r} is not degrees/radians")
    return check_angle(degrees, what)


def check_angle(degrees: float, what: str) -> float:
    if not (math.isfinite(degrees) and -360.0 <= degrees <= 360.0):
        raise IntakeParseError("bad_angle", f"{what} {degrees!r} degrees out of range")
    return degrees


def _parse_confidence_profile(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    if "=" in stripped:
        pairs = {key.lower(): value for key, value in parse_key_value_list(stripped)}
        if "value" not in pairs:
            return None
        stripped = pairs["value"]
    return check_percent(parse_decimal(stripped, "confidence"))


def check_percent(value: float) -> float:
    if not 0.0 <= value <= 100.0:
        raise IntakeParseError("bad_confidence", f"confidence {value!r} outside 0..100 %")
    return value


def clean_method(method: str | None) -> str | None:
    if method is None:
        return None
    cleaned = "".join(c for c in method if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:_MAX_METHOD_CHARS] or None
