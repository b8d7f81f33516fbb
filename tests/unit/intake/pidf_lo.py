"""PIDF-LO documents (RFC 4119, RFC 5491 GML shapes) read into a ``LocationFix``: test-side only.

The service never sees the XML: Asterisk parses the body and hands over ``GEOLOC_PROFILE`` text
(``intake/call_location.py``). This reader checks that the shapes the handset sends reduce, through
the service's own ``geoloc`` building blocks, to what the service reads from Asterisk.
"""

from __future__ import annotations

import math
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from ntpd112.intake.errors import IntakeParseError, check_input_size
from ntpd112.intake.geoloc import (
    ANGLE_KEYS,
    LENGTH_KEYS,
    METRE_UOMS,
    SHAPES,
    LocationFix,
    Shape,
    check_angle,
    check_percent,
    clean_method,
    make_fix,
    parse_pos_list,
    parse_position,
    reduce_shape,
)
from ntpd112.intake.geometry import check_radius
from ntpd112.intake.lexical import parse_decimal

_DEGREE_UOM = "urn:ogc:def:uom:epsg::9102"
_RADIAN_UOM = "urn:ogc:def:uom:epsg::9101"
_CRS_2D = frozenset({"urn:ogc:def:crs:epsg::4326", "epsg:4326", "http://www.opengis.net/def/crs/epsg/0/4326"})
_CRS_3D = frozenset({"urn:ogc:def:crs:epsg::4979", "epsg:4979", "http://www.opengis.net/def/crs/epsg/0/4979"})


def parse_pidf_lo(body: str | bytes) -> LocationFix:
    """Parse a PIDF-LO document (RFC 4119 / RFC 5491) carrying a geodetic shape.

    The XML parser forbids DTDs, entities and external references (no billion laughs, no XXE).
    The first ``location-info`` with a GML shape wins; a civic-address-only document raises
    ``no_geodetic_location``. ``measured_at`` is the ``timestamp`` of the same tuple/device/person
    (ignored when it is not an RFC 3339 date-time with offset).
    """
    check_input_size(body, "PIDF-LO body")
    try:
        root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise IntakeParseError("xml_forbidden", f"forbidden XML construct: {type(exc).__name__}") from None
    except ParseError as exc:
        raise IntakeParseError("bad_xml", f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:
        # Bad encoding declarations and undecodable bytes surface as these.
        raise IntakeParseError("bad_xml", f"unreadable XML: {type(exc).__name__}") from None
    raw = body if isinstance(body, str) else body.decode("utf-8", "replace")
    if _local(root.tag) != "presence":
        raise IntakeParseError("not_pidf", "root element is not <presence>")
    for element in root:
        for location_info in element.iter():
            if _local(location_info.tag) != "location-info":
                continue
            shape_element = next((c for c in location_info if _local(c.tag) in SHAPES), None)
            if shape_element is None:
                continue
            shape = _shape_from_xml(shape_element)
            lat, lon, radius = reduce_shape(shape)
            return make_fix(
                source="pidf",
                lat=lat,
                lon=lon,
                radius_m=radius,
                confidence=_xml_confidence(location_info),
                method=clean_method(_first_text(element, "method")),
                measured_at=_parse_timestamp(_first_text(element, "timestamp")),
                raw=raw,
                shape=shape.name,
            )
    raise IntakeParseError("no_geodetic_location", "no location-info with a GML shape")


def _dimensions_from_srs_name(srs_name: str | None) -> int | None:
    if srs_name is None:
        return None
    lowered = srs_name.strip().lower()
    if lowered in _CRS_2D:
        return 2
    if lowered in _CRS_3D:
        return 3
    raise IntakeParseError("unsupported_crs", f"srsName {srs_name[:60]!r} is not EPSG 4326 or 4979")


def _local(tag: object) -> str:
    """Local name of an element tag ('{ns}name' -> 'name'); comments/PIs give ''."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _first_text(element: Element, local_name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == local_name:
            return (child.text or "").strip()
    return None


def _child(element: Element, local_name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == local_name), None)


def _shape_from_xml(element: Element) -> Shape:
    name = _local(element.tag)
    dims = _dimensions_from_srs_name(element.get("srsName"))
    shape = Shape(name=name)
    if name in ("Polygon", "Prism"):
        exterior = next((e for e in element.iter() if _local(e.tag) == "exterior"), None)
        if exterior is None:
            raise IntakeParseError("bad_shape", f"{name} without exterior ring")
        for node in exterior.iter():
            local = _local(node.tag)
            if local == "pos":
                shape.positions.append(parse_position(node.text or "", dims))
            elif local == "posList":
                list_dims = dims
                srs_dimension = node.get("srsDimension")
                if srs_dimension in ("2", "3"):
                    list_dims = int(srs_dimension)
                shape.positions.extend(parse_pos_list(node.text or "", list_dims, name))
    else:
        pos = _child(element, "pos")
        if pos is None:
            raise IntakeParseError("bad_shape", f"{name} without pos")
        shape.positions.append(parse_position(pos.text or "", dims))
    for child in element:
        local = _local(child.tag)
        if local in LENGTH_KEYS.values():
            shape.lengths[local] = _xml_length(child, local)
        elif local in ANGLE_KEYS.values():
            shape.angles[local] = _xml_angle(child, local)
    return shape


def _xml_length(element: Element, what: str) -> float:
    uom = element.get("uom")
    if uom is not None and uom.strip().lower() not in METRE_UOMS:
        raise IntakeParseError("unsupported_uom", f"{what} uom {uom[:60]!r} is not metres")
    value = parse_decimal(element.text or "", what)
    check_radius(value, what)
    return value


def _xml_angle(element: Element, what: str) -> float:
    uom = (element.get("uom") or _DEGREE_UOM).strip().lower()
    value = parse_decimal(element.text or "", what)
    if uom == _DEGREE_UOM:
        return check_angle(value, what)
    if uom == _RADIAN_UOM:
        return check_angle(math.degrees(value), what)
    raise IntakeParseError("unsupported_uom", f"{what} uom {uom[:60]!r} is not degrees/radians")


def _xml_confidence(location_info: Element) -> float | None:
    element = _child(location_info, "confidence")
    if element is None or not (element.text or "").strip():
        return None
    return check_percent(parse_decimal(element.text or "", "confidence"))


def _parse_timestamp(text: str | None) -> datetime | None:
    if not text or len(text) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
