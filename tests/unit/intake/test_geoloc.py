"""GEOLOC_PROFILE(location_info) and PIDF-LO bodies."""

from __future__ import annotations

import contextlib
import math
import time
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.geoloc import parse_geoloc_profile, parse_key_value_list
from ntpd112.intake.geometry import destination, haversine_m
from tests.unit.intake.pidf_lo import parse_pidf_lo


def test_architecture_example_circle() -> None:
    text = 'shape="Circle",crs="2d",pos="-6.2885 106.7180",radius="150"'
    fix = parse_geoloc_profile(text, method="GPS")
    assert fix.source == "pidf"
    assert (fix.lat, fix.lon, fix.radius_m) == (-6.2885, 106.7180, 150.0)
    assert fix.method == "GPS"
    assert fix.shape == "Circle"
    assert fix.raw == text
    assert fix.measured_at is None


def test_point_has_unknown_accuracy() -> None:
    fix = parse_geoloc_profile('shape="Point",crs="2d",pos="-6.2 106.8"')
    assert (fix.lat, fix.lon) == (-6.2, 106.8)
    assert fix.radius_m is None


def test_point_3d() -> None:
    fix = parse_geoloc_profile('shape="Point",crs="3d",pos="-6.2 106.8 12.5"')
    assert (fix.lat, fix.lon, fix.radius_m) == (-6.2, 106.8, None)


def test_ellipse_uses_semi_major_axis() -> None:
    fix = parse_geoloc_profile(
        'shape="Ellipse",crs="2d",pos="-6.2 106.8",semiMajorAxis="120",semiMinorAxis="40",orientation="30 degrees"'
    )
    assert fix.radius_m == 120.0


def test_ellipse_with_swapped_axes_still_covers() -> None:
    fix = parse_geoloc_profile(
        'shape="Ellipse",pos="-6.2 106.8",semiMajorAxis="40",semiMinorAxis="120",orientation="0"'
    )
    assert fix.radius_m == 120.0


def test_ellipsoid_and_sphere_drop_altitude() -> None:
    ellipsoid = parse_geoloc_profile(
        'shape="Ellipsoid",crs="3d",pos="-6.2 106.8 30",semiMajorAxis="90",semiMinorAxis="50",'
        'verticalAxis="15",orientation="90 degrees"'
    )
    sphere = parse_geoloc_profile('shape="Sphere",crs="3d",pos="-6.2 106.8 30",radius="25"')
    assert (ellipsoid.lat, ellipsoid.lon, ellipsoid.radius_m) == (-6.2, 106.8, 90.0)
    assert (sphere.lat, sphere.lon, sphere.radius_m) == (-6.2, 106.8, 25.0)


def _square(lat: float, lon: float, size: float) -> list[tuple[float, float]]:
    return [(lat, lon), (lat, lon + size), (lat - size, lon + size), (lat - size, lon)]


def test_polygon_with_repeated_pos_keys() -> None:
    vertices = _square(-6.0, 106.0, 0.01)
    text = 'shape="Polygon",crs="2d",' + ",".join(f'pos="{a} {b}"' for a, b in vertices)
    fix = parse_geoloc_profile(text)
    assert fix.lat == pytest.approx(-6.005, abs=1e-9)
    assert fix.lon == pytest.approx(106.005, abs=1e-9)
    expected = max(haversine_m(fix.lat, fix.lon, a, b) for a, b in vertices)
    assert fix.radius_m == pytest.approx(expected)
    assert 780 < (fix.radius_m or 0) < 790  # half the diagonal of a ~1.1 km square


def test_polygon_pos_list_from_incoming_pidf() -> None:
    vertices = [*_square(-6.0, 106.0, 0.01), (-6.0, 106.0)]
    pos_list = " ".join(f"{a} {b}" for a, b in vertices)
    fix = parse_geoloc_profile(f'shape="Polygon",crs="unknown",posList="{pos_list}"')
    assert fix.lat == pytest.approx(-6.005, abs=1e-9)
    assert fix.shape == "Polygon"


def test_prism_uses_its_base() -> None:
    vertices = _square(-6.0, 106.0, 0.002)
    text = 'shape="Prism",crs="3d",' + ",".join(f'pos="{a} {b} 10"' for a, b in vertices) + ',height="20"'
    fix = parse_geoloc_profile(text)
    assert fix.lat == pytest.approx(-6.001, abs=1e-9)
    assert fix.shape == "Prism"


def test_arc_band_centre_lies_in_the_band() -> None:
    text = (
        'shape="ArcBand",crs="2d",pos="-6.0 106.0",innerRadius="1000",outerRadius="1500",'
        'startAngle="90 degrees",openingAngle="60 degrees"'
    )
    fix = parse_geoloc_profile(text)
    distance = haversine_m(-6.0, 106.0, fix.lat, fix.lon)
    assert distance == pytest.approx(1250.0, rel=1e-6)
    assert fix.radius_m is not None
    assert fix.radius_m < 1500.0
    # Every corner of the band is inside the reported circle.
    for bearing in (90.0, 150.0):
        for reach in (1000.0, 1500.0):
            corner = destination(-6.0, 106.0, bearing, reach)
            assert haversine_m(fix.lat, fix.lon, *corner) <= fix.radius_m + 1e-6


def test_wide_arc_band_falls_back_to_outer_radius() -> None:
    text = 'shape="ArcBand",pos="-6.0 106.0",innerRadius="0",outerRadius="800",startAngle="0",openingAngle="270"'
    fix = parse_geoloc_profile(text)
    assert (fix.lat, fix.lon, fix.radius_m) == (-6.0, 106.0, 800.0)


def test_asterisk_labels_pidf_degrees_as_radians() -> None:
    base = 'shape="ArcBand",pos="-6.0 106.0",innerRadius="1000",outerRadius="1500",'
    as_asterisk_shows_it = parse_geoloc_profile(base + 'startAngle="90 radians",openingAngle="60 radians"')
    true_degrees = parse_geoloc_profile(base + 'startAngle="90 degrees",openingAngle="60 degrees"')
    true_radians = parse_geoloc_profile(
        base + f'startAngle="{math.pi / 2} radians",openingAngle="{math.pi / 3} radians"',
        radians_label_means_degrees=False,
    )
    assert as_asterisk_shows_it == true_degrees.model_copy(update={"raw": as_asterisk_shows_it.raw})
    assert true_radians.lat == pytest.approx(true_degrees.lat)
    assert true_radians.lon == pytest.approx(true_degrees.lon)


def test_asterisk_wiki_spacing_and_unquoted_values() -> None:
    fix = parse_geoloc_profile(
        'shape=Ellipse, crs=2d, pos="39.12345 -105.98766" semiMajorAxis="20", semiMinorAxis="10", '
        'orientation="25 radians"'
    )
    assert (fix.lat, fix.lon, fix.radius_m) == (39.12345, -105.98766, 20.0)


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [('pdf="normal",value="95"', 95.0), ("68", 68.0), (None, None), ('pdf="unknown"', None)],
)
def test_confidence(confidence: str | None, expected: float | None) -> None:
    fix = parse_geoloc_profile('shape="Point",pos="1 2"', confidence=confidence)
    assert fix.confidence == expected


def test_measured_at_is_passed_through() -> None:
    when = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert parse_geoloc_profile('shape="Point",pos="1 2"', measured_at=when).measured_at == when


def test_key_value_list_keeps_commas_inside_quotes_and_repeats() -> None:
    pairs = parse_key_value_list("a=\"x, y\",b=z , c = 'w\\'q', a=2")
    assert pairs == [("a", "x, y"), ("b", "z"), ("c", "w'q"), ("a", "2")]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('crs="2d",pos="1 2"', "missing_shape"),
        ('shape="Blob",pos="1 2"', "unsupported_shape"),
        ('shape="Point",pos="91 2"', "bad_latitude"),
        ('shape="Point",pos="1 181"', "bad_longitude"),
        ('shape="Circle",pos="1 2",radius="-5"', "bad_radius"),
        ('shape="Circle",pos="1 2",radius="2000000"', "bad_radius"),
        ('shape="Circle",pos="1 2",radius="nan"', "bad_number"),
        ('shape="Circle",pos="1 2",radius="inf"', "bad_number"),
        ('shape="Circle",pos="1 2",radius="1e999"', "bad_number"),
        ('shape="Circle",pos="1 2"', "bad_shape"),
        ('shape="Circle",pos="1 2",radius="5 feet"', "unsupported_uom"),
        ('shape="Point",pos="1 2', "bad_syntax"),
        ('shape="Point",pos="1 2"x', "bad_syntax"),
        ('shape="Point" pos', "bad_syntax"),
        ("=1", "bad_syntax"),
        ('shape="Point",shape="Circle",pos="1 2"', "duplicate_key"),
        ('shape="Point",crs="3d",pos="1 2"', "bad_position"),
        ('shape="Point",crs="4d",pos="1 2"', "unsupported_crs"),
        ('shape="Point",pos="1 2",pos="3 4"', "bad_shape"),
        ('shape="Polygon",pos="1 2",pos="3 4",pos="1 2"', "bad_shape"),
        ('shape="Polygon",posList="1 2 3 4 5"', "bad_position"),
        (
            'shape="Ellipse",pos="1 2",semiMajorAxis="5",semiMinorAxis="3",orientation="5 gradians"',
            "unsupported_uom",
        ),
        (
            'shape="ArcBand",pos="1 2",innerRadius="9",outerRadius="5",startAngle="0",openingAngle="5"',
            "bad_shape",
        ),
        (
            'shape="ArcBand",pos="1 2",innerRadius="1",outerRadius="5",startAngle="0",openingAngle="0"',
            "bad_shape",
        ),
        ('shape="Point",pos="\u0661 2"', "bad_number"),
        ("", "missing_shape"),
    ],
)
def test_geoloc_profile_rejections(text: str, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_geoloc_profile(text)
    assert info.value.code == code


def test_geoloc_profile_size_limit() -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_geoloc_profile('shape="Point",pos="1 2",x="' + "a" * 9000 + '"')
    assert info.value.code == "too_large"


# --- PIDF-LO ---------------------------------------------------------------------------------------

_NS = (
    'xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
    'xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" '
    'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:con="urn:ietf:params:xml:ns:geopriv:conf"'
)
_CRS2 = 'srsName="urn:ogc:def:crs:EPSG::4326"'
_CRS3 = 'srsName="urn:ogc:def:crs:EPSG::4979"'
_M = 'uom="urn:ogc:def:uom:EPSG::9001"'
_DEG = 'uom="urn:ogc:def:uom:EPSG::9102"'


def _device(shape_xml: str, extra: str = "", method: str = "GPS", timestamp: str = "2026-11-22T10:15:00Z") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><presence {_NS} entity="pres:caller@example">'
        f'<dm:device id="d1"><gp:geopriv><gp:location-info>{shape_xml}{extra}</gp:location-info>'
        f"<gp:usage-rules/><gp:method>{method}</gp:method></gp:geopriv>"
        f"<dm:deviceID>mac:00112233</dm:deviceID><dm:timestamp>{timestamp}</dm:timestamp>"
        "</dm:device></presence>"
    )


def test_pidf_circle_with_method_timestamp_and_confidence() -> None:
    body = _device(
        f"<gs:Circle {_CRS2}><gml:pos>-6.2885 106.7180</gml:pos><gs:radius {_M}>150</gs:radius></gs:Circle>",
        extra='<con:confidence pdf="normal">95</con:confidence>',
    )
    fix = parse_pidf_lo(body)
    assert (fix.source, fix.lat, fix.lon, fix.radius_m) == ("pidf", -6.2885, 106.718, 150.0)
    assert fix.method == "GPS"
    assert fix.confidence == 95.0
    assert fix.measured_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert fix.shape == "Circle"
    assert fix.raw == body


def test_pidf_accepts_bytes() -> None:
    body = _device(f"<gml:Point {_CRS2}><gml:pos>-6.2 106.8</gml:pos></gml:Point>").encode()
    fix = parse_pidf_lo(body)
    assert (fix.lat, fix.lon, fix.radius_m) == (-6.2, 106.8, None)


@pytest.mark.parametrize(
    ("shape_xml", "lat", "lon", "radius"),
    [
        (f"<gml:Point {_CRS2}><gml:pos>-6.2 106.8</gml:pos></gml:Point>", -6.2, 106.8, None),
        (f"<gml:Point {_CRS3}><gml:pos>-6.2 106.8 40</gml:pos></gml:Point>", -6.2, 106.8, None),
        (
            f"<gs:Ellipse {_CRS2}><gml:pos>-6.2 106.8</gml:pos><gs:semiMajorAxis {_M}>300</gs:semiMajorAxis>"
            f"<gs:semiMinorAxis {_M}>100</gs:semiMinorAxis><gs:orientation {_DEG}>45</gs:orientation></gs:Ellipse>",
            -6.2,
            106.8,
            300.0,
        ),
        (
            f"<gs:Sphere {_CRS3}><gml:pos>-6.2 106.8 12</gml:pos><gs:radius {_M}>30</gs:radius></gs:Sphere>",
            -6.2,
            106.8,
            30.0,
        ),
        (
            f"<gs:Ellipsoid {_CRS3}><gml:pos>-6.2 106.8 12</gml:pos><gs:semiMajorAxis {_M}>80</gs:semiMajorAxis>"
            f"<gs:semiMinorAxis {_M}>60</gs:semiMinorAxis><gs:verticalAxis {_M}>10</gs:verticalAxis>"
            f"<gs:orientation {_DEG}>10</gs:orientation></gs:Ellipsoid>",
            -6.2,
            106.8,
            80.0,
        ),
        (
            f"<gs:ArcBand {_CRS2}><gml:pos>-6.2 106.8</gml:pos><gs:innerRadius {_M}>0</gs:innerRadius>"
            f"<gs:outerRadius {_M}>500</gs:outerRadius><gs:startAngle {_DEG}>0</gs:startAngle>"
            f"<gs:openingAngle {_DEG}>360</gs:openingAngle></gs:ArcBand>",
            -6.2,
            106.8,
            500.0,
        ),
    ],
)
def test_pidf_shapes(shape_xml: str, lat: float, lon: float, radius: float | None) -> None:
    fix = parse_pidf_lo(_device(shape_xml))
    assert (fix.lat, fix.lon, fix.radius_m) == (lat, lon, radius)


def test_pidf_polygon_with_pos_elements() -> None:
    vertices = [*_square(-6.0, 106.0, 0.01), (-6.0, 106.0)]
    ring = "".join(f"<gml:pos>{a} {b}</gml:pos>" for a, b in vertices)
    body = _device(
        f"<gml:Polygon {_CRS2}><gml:exterior><gml:LinearRing>{ring}</gml:LinearRing></gml:exterior></gml:Polygon>"
    )
    fix = parse_pidf_lo(body)
    assert fix.lat == pytest.approx(-6.005, abs=1e-9)
    assert fix.lon == pytest.approx(106.005, abs=1e-9)
    assert fix.radius_m == pytest.approx(max(haversine_m(fix.lat, fix.lon, a, b) for a, b in vertices))


def test_pidf_polygon_with_pos_list_and_prism() -> None:
    vertices = [*_square(-6.0, 106.0, 0.01), (-6.0, 106.0)]
    pos_list_2d = " ".join(f"{a} {b}" for a, b in vertices)
    pos_list_3d = " ".join(f"{a} {b} 5" for a, b in vertices)
    polygon = parse_pidf_lo(
        _device(
            f"<gml:Polygon {_CRS2}><gml:exterior><gml:LinearRing><gml:posList>{pos_list_2d}</gml:posList>"
            "</gml:LinearRing></gml:exterior></gml:Polygon>"
        )
    )
    prism = parse_pidf_lo(
        _device(
            f"<gs:Prism {_CRS3}><gs:base><gml:Polygon><gml:exterior><gml:LinearRing>"
            f"<gml:posList>{pos_list_3d}</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></gs:base>"
            f"<gs:height {_M}>20</gs:height></gs:Prism>"
        )
    )
    assert polygon.lat == pytest.approx(prism.lat)
    assert polygon.lon == pytest.approx(prism.lon)
    assert polygon.radius_m == pytest.approx(prism.radius_m or 0.0)
    assert prism.shape == "Prism"


def test_pidf_rfc4119_tuple_form() -> None:
    body = (
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" entity="pres:geotarget@example.com">'
        '<tuple id="sg89ae"><status><gp:geopriv><gp:location-info>'
        f"<gml:Point {_CRS2}><gml:pos>37.775 -122.422</gml:pos></gml:Point>"
        "</gp:location-info><gp:method>Cell</gp:method></gp:geopriv></status>"
        "<timestamp>2003-06-22T20:57:29+07:00</timestamp></tuple></presence>"
    )
    fix = parse_pidf_lo(body)
    assert (fix.lat, fix.lon, fix.method) == (37.775, -122.422, "Cell")
    assert fix.measured_at == datetime(2003, 6, 22, 13, 57, 29, tzinfo=UTC)


def test_pidf_bad_timestamp_is_ignored_not_fatal() -> None:
    fix = parse_pidf_lo(_device("<gml:Point><gml:pos>1 2</gml:pos></gml:Point>", timestamp="yesterday"))
    assert fix.measured_at is None


def test_billion_laughs_is_rejected_quickly() -> None:
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{lol}]><presence>&lol9;</presence>'
    started = time.monotonic()
    with pytest.raises(IntakeParseError) as info:
        parse_pidf_lo(bomb)
    assert info.value.code == "xml_forbidden"
    assert time.monotonic() - started < 0.5


def test_external_entity_is_rejected() -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><presence>&x;</presence>'
    with pytest.raises(IntakeParseError) as info:
        parse_pidf_lo(xxe)
    assert info.value.code == "xml_forbidden"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("<presence", "bad_xml"),
        ("", "bad_xml"),
        (b'<?xml version="1.0" encoding="klingon"?><presence/>', "bad_xml"),
        (b"\xff\xfe\x00garbage", "bad_xml"),
        ("<other/>", "not_pidf"),
        ("<presence/>", "no_geodetic_location"),
        (
            f"<presence {_NS}><dm:device><gp:geopriv><gp:location-info>"
            '<ca:civicAddress xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"><ca:country>ID</ca:country>'
            "</ca:civicAddress></gp:location-info></gp:geopriv></dm:device></presence>",
            "no_geodetic_location",
        ),
        (
            _device('<gml:Point srsName="urn:ogc:def:crs:EPSG::3857"><gml:pos>1 2</gml:pos></gml:Point>'),
            "unsupported_crs",
        ),
        (
            _device('<gs:Circle><gml:pos>1 2</gml:pos><gs:radius uom="ft">5</gs:radius></gs:Circle>'),
            "unsupported_uom",
        ),
        (_device("<gs:Circle><gml:pos>1 2</gml:pos></gs:Circle>"), "bad_shape"),
        (_device("<gml:Point></gml:Point>"), "bad_shape"),
        (_device("<gml:Point><gml:pos>95 2</gml:pos></gml:Point>"), "bad_latitude"),
        (_device("<gml:Polygon><gml:LinearRing/></gml:Polygon>"), "bad_shape"),
        (
            _device("<gml:Point><gml:pos>1 2</gml:pos></gml:Point>", extra="<con:confidence>150</con:confidence>"),
            "bad_confidence",
        ),
    ],
)
def test_pidf_rejections(body: str | bytes, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_pidf_lo(body)
    assert info.value.code == code


def test_pidf_size_limit() -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_pidf_lo(_device("<gml:Point><gml:pos>1 2</gml:pos></gml:Point>", extra="<x>" + " " * 9000 + "</x>"))
    assert info.value.code == "too_large"


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=400)
@given(st.text(max_size=300))
def test_geoloc_profile_any_text(text: str) -> None:
    try:
        fix = parse_geoloc_profile(text)
    except IntakeParseError as exc:
        assert exc.code
    else:
        assert -90 <= fix.lat <= 90
        assert -180 <= fix.lon <= 180


_GEO_CHARS = st.sampled_from(list("shape=Circle\"Point Polygon,pos radius 0123456789.-e crs=2d3d \\'"))


@settings(max_examples=400)
@given(st.lists(_GEO_CHARS, max_size=80).map("".join))
def test_geoloc_profile_like_noise(text: str) -> None:
    with contextlib.suppress(IntakeParseError):
        parse_geoloc_profile(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_pidf_any_input(body: bytes | str) -> None:
    try:
        parse_pidf_lo(body)
    except IntakeParseError as exc:
        assert exc.code


latitudes = st.floats(-90, 90, allow_nan=False)
longitudes = st.floats(-180, 180, allow_nan=False)
radii = st.floats(0, 1e6, allow_nan=False)


@settings(max_examples=300)
@given(latitudes, longitudes, radii)
def test_circle_round_trip(lat: float, lon: float, radius: float) -> None:
    profile = parse_geoloc_profile(f'shape="Circle",crs="2d",pos="{lat!r} {lon!r}",radius="{radius!r}"')
    pidf = parse_pidf_lo(
        _device(
            f"<gs:Circle {_CRS2}><gml:pos>{lat!r} {lon!r}</gml:pos><gs:radius {_M}>{radius!r}</gs:radius></gs:Circle>"
        )
    )
    assert (profile.lat, profile.lon, profile.radius_m) == (lat, lon, radius)
    assert (pidf.lat, pidf.lon, pidf.radius_m) == (lat, lon, radius)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.floats(-8.0, -5.0, allow_nan=False), st.floats(105.0, 110.0, allow_nan=False)),
        min_size=3,
        max_size=12,
    )
)
def test_polygon_circle_covers_every_vertex(vertices: list[tuple[float, float]]) -> None:
    assume(len(set(vertices)) >= 3)
    text = 'shape="Polygon",' + ",".join(f'pos="{a!r} {b!r}"' for a, b in vertices)
    fix = parse_geoloc_profile(text)
    assert fix.radius_m is not None
    for a, b in vertices:
        assert haversine_m(fix.lat, fix.lon, a, b) <= fix.radius_m * (1 + 1e-9) + 1e-6


@settings(max_examples=300)
@given(
    st.floats(-60, 60, allow_nan=False),
    st.floats(-170, 170, allow_nan=False),
    st.floats(0, 5000, allow_nan=False),
    st.floats(1, 5000, allow_nan=False),
    st.floats(0, 360, allow_nan=False),
    st.floats(0.5, 359, allow_nan=False),
)
def test_arc_band_circle_covers_the_band(
    lat: float, lon: float, inner: float, width: float, start: float, opening: float
) -> None:
    outer = inner + width
    text = (
        f'shape="ArcBand",pos="{lat!r} {lon!r}",innerRadius="{inner!r}",outerRadius="{outer!r}",'
        f'startAngle="{start!r}",openingAngle="{opening!r}"'
    )
    fix = parse_geoloc_profile(text)
    assert fix.radius_m is not None
    assert fix.radius_m <= outer + 1e-6
    for step in range(9):
        bearing = start + opening * step / 8
        for reach in (inner, (inner + outer) / 2, outer):
            point = destination(lat, lon, bearing, reach)
            assert haversine_m(fix.lat, fix.lon, *point) <= fix.radius_m + 1e-3
