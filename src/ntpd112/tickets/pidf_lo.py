"""PIDF-LO (RFC 4119, RFC 5491, civic address RFC 5139) as EIDO carries a location: a string of XML in
`locationByValue`. Pure: builds ours, reads the parts of others' that ntpd112 keeps (a point or circle in WGS 84 and
the civic A2/A3/A4 levels: kabupaten, kecamatan, kelurahan/desa).

Reading is defensive: the XML comes from outside. A document with a DOCTYPE (entity expansion, external entities)
is refused before any parser sees it; only element names and text are read, never attributes that point elsewhere.
"""

from __future__ import annotations

import math

# DOCTYPE (entity expansion, external entities: the attack surface of expat) is refused before parsing.
import xml.etree.ElementTree as ET
from dataclasses import dataclass

PIDF = "urn:ietf:params:xml:ns:pidf"
GP = "urn:ietf:params:xml:ns:pidf:geopriv10"
GML = "http://www.opengis.net/gml"
GS = "http://www.opengis.net/pidflo/1.0"
CA = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
WGS84_2D = "urn:ogc:def:crs:EPSG::4326"
METRE = "urn:ogc:def:uom:EPSG::9001"
#: A PIDF-LO we read is at most this long (one location; the whole EIDO is limited by the API's body size too).
MAX_PIDF_CHARS = 16_000
#: Civic text we keep (the call's area columns hold 256).
MAX_CIVIC_CHARS = 256

for _prefix, _uri in (("gp", GP), ("gml", GML), ("gs", GS), ("ca", CA)):
    ET.register_namespace(_prefix, _uri)


class PidfRefused(ValueError):
    """The location is not a PIDF-LO ntpd112 can read safely."""


@dataclass(frozen=True)
class Place:
    """What ntpd112 keeps of a location: a position (with its uncertainty radius in metres) and civic names."""

    lat: float | None = None
    lon: float | None = None
    radius_m: float | None = None
    kabupaten: str | None = None  # civic A2 (county level)
    kecamatan: str | None = None  # civic A3 (city / district level)
    kelurahan: str | None = None  # civic A4 (city division: kelurahan or desa)
    method: str | None = None  # how it was found: GPS, Cell, Manual, ...

    @property
    def empty(self) -> bool:
        return self.lat is None and not (self.kabupaten or self.kecamatan or self.kelurahan)


def build(place: Place, entity: str) -> str:
    """Our PIDF-LO of a place: a Circle when the radius is known, else a Point; the civic levels that are known."""
    presence = ET.Element(f"{{{PIDF}}}presence", {"entity": entity})
    status = ET.SubElement(ET.SubElement(presence, f"{{{PIDF}}}tuple", {"id": "location"}), f"{{{PIDF}}}status")
    geopriv = ET.SubElement(status, f"{{{GP}}}geopriv")
    info = ET.SubElement(geopriv, f"{{{GP}}}location-info")
    if place.lat is not None and place.lon is not None:
        if place.radius_m is not None:
            shape = ET.SubElement(info, f"{{{GS}}}Circle", {"srsName": WGS84_2D})
            ET.SubElement(shape, f"{{{GML}}}pos").text = f"{place.lat:.7f} {place.lon:.7f}"
            ET.SubElement(shape, f"{{{GS}}}radius", {"uom": METRE}).text = f"{place.radius_m:g}"
        else:
            shape = ET.SubElement(info, f"{{{GML}}}Point", {"srsName": WGS84_2D})
            ET.SubElement(shape, f"{{{GML}}}pos").text = f"{place.lat:.7f} {place.lon:.7f}"
    if place.kabupaten or place.kecamatan or place.kelurahan:
        civic = ET.SubElement(info, f"{{{CA}}}civicAddress")
        ET.SubElement(civic, f"{{{CA}}}country").text = "ID"
        for level, value in (("A2", place.kabupaten), ("A3", place.kecamatan), ("A4", place.kelurahan)):
            if value:
                ET.SubElement(civic, f"{{{CA}}}{level}").text = value
    ET.SubElement(geopriv, f"{{{GP}}}usage-rules")
    if place.method:
        ET.SubElement(geopriv, f"{{{GP}}}method").text = place.method
    return ET.tostring(presence, encoding="unicode")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element | None, limit: int = MAX_CIVIC_CHARS) -> str | None:
    if element is None or element.text is None:
        return None
    value = " ".join(element.text.split())
    if not value:
        return None
    if len(value) > limit or any(ord(ch) < 0x20 for ch in value):
        raise PidfRefused(f"<{_local(element.tag)}> is longer than {limit} characters or holds control characters")
    return value


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PidfRefused(f"{what} is not a number: {text[:40]!r}") from None
    if not math.isfinite(value):
        raise PidfRefused(f"{what} is not finite")
    return value


def parse(xml: str) -> Place:
    """Raises PidfRefused. Takes the first gml:pos (latitude then longitude, as in EPSG 4326 and 4979) with the
    radius of its Circle if any, and the first civicAddress; other shapes' extra dimensions are not kept."""
    if len(xml) > MAX_PIDF_CHARS:
        raise PidfRefused(f"a PIDF-LO is at most {MAX_PIDF_CHARS} characters")
    if "<!" in xml:
        raise PidfRefused("a PIDF-LO with a DOCTYPE, entity or CDATA section is refused")
    try:
        root = ET.fromstring(xml)  # noqa: S314 - no DOCTYPE reaches here (refused above)
    except ET.ParseError as error:
        raise PidfRefused(f"not well-formed XML: {error}") from None
    if _local(root.tag) != "presence":
        raise PidfRefused("the root element of a PIDF-LO is <presence>")
    elements = list(root.iter())
    lat = lon = radius = None
    for element in elements:
        if _local(element.tag) == "pos" and element.text:
            parts = element.text.split()
            if len(parts) not in (2, 3):
                raise PidfRefused("<gml:pos> holds latitude, longitude and optionally altitude")
            lat, lon = _number(parts[0], "latitude"), _number(parts[1], "longitude")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise PidfRefused("the position is outside -90..90, -180..180")
            break
    for element in elements:
        if _local(element.tag) == "radius" and element.text and lat is not None:
            radius = _number(element.text.strip(), "radius")
            if not 0 <= radius <= 1_000_000:
                raise PidfRefused("the radius is outside 0..1,000,000 m")
            break
    civic = next((e for e in elements if _local(e.tag) == "civicAddress"), None)
    levels: dict[str, str | None] = {"A2": None, "A3": None, "A4": None}
    if civic is not None:
        for child in civic:
            if _local(child.tag) in levels and levels[_local(child.tag)] is None:
                levels[_local(child.tag)] = _text(child)
    method = next((_text(e, 40) for e in elements if _local(e.tag) == "method"), None)
    return Place(lat, lon, radius, levels["A2"], levels["A3"], levels["A4"], method)
