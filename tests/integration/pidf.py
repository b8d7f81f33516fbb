"""PIDF-LO documents (RFC 4119, RFC 5491 GML shapes) as handsets send them, on one line for SIPp's -key."""

from __future__ import annotations

_GML = 'xmlns:gml="http://www.opengis.net/gml"'
_GS = 'xmlns:gs="http://www.opengis.net/pidflo/1.0"'
_SRS = 'srsName="urn:ogc:def:crs:EPSG::4326"'
_M = 'uom="urn:ogc:def:uom:EPSG::9001"'
_DEG = 'uom="urn:ogc:def:uom:EPSG::9102"'


def pidf(shape_xml: str, method: str = "GPS", timestamp: str = "") -> str:
    stamp = f"<timestamp>{timestamp}</timestamp>" if timestamp else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
        f' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" {_GML} {_GS} entity="pres:caller@ntpd112.test">'
        '<dm:device id="handset"><gp:geopriv><gp:location-info>'
        f"{shape_xml}"
        f"</gp:location-info><gp:usage-rules/><gp:method>{method}</gp:method></gp:geopriv>"
        f"<dm:deviceID>mac:00112233</dm:deviceID>{stamp}</dm:device></presence>"
    )


def point(lat: float, lon: float) -> str:
    return pidf(f"<gml:Point {_SRS}><gml:pos>{lat} {lon}</gml:pos></gml:Point>")


def circle(lat: float, lon: float, radius: float) -> str:
    return pidf(f"<gs:Circle {_SRS}><gml:pos>{lat} {lon}</gml:pos><gs:radius {_M}>{radius}</gs:radius></gs:Circle>")


def ellipse(lat: float, lon: float, major: float, minor: float, orientation: float) -> str:
    return pidf(
        f"<gs:Ellipse {_SRS}><gml:pos>{lat} {lon}</gml:pos>"
        f"<gs:semiMajorAxis {_M}>{major}</gs:semiMajorAxis><gs:semiMinorAxis {_M}>{minor}</gs:semiMinorAxis>"
        f"<gs:orientation {_DEG}>{orientation}</gs:orientation></gs:Ellipse>"
    )


def polygon(vertices: list[tuple[float, float]]) -> str:
    ring = [*vertices, vertices[0]]
    positions = " ".join(f"{lat} {lon}" for lat, lon in ring)
    return pidf(
        f"<gml:Polygon {_SRS}><gml:exterior><gml:LinearRing><gml:posList>{positions}</gml:posList>"
        "</gml:LinearRing></gml:exterior></gml:Polygon>"
    )


# Hostile bodies: the parser in Asterisk (libxml2) sees them first, then ours.
BROKEN_XML = pidf("<gs:Circle><gml:pos>-6.2 106.8</gml:pos><gs:radius>50").replace("</presence>", "")
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']><presence xmlns="urn:ietf:params:xml:ns:pidf">&i;</presence>'
)
OUT_OF_RANGE = circle(123.456, 406.8, 10)
