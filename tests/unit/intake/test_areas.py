"""GeoJSON administrative areas and point-in-polygon."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.areas import AdminArea, AreaPropertyKeys, locate, parse_feature, parse_feature_collection
from ntpd112.intake.errors import IntakeParseError


def square(lon: float, lat: float, size: float) -> list[list[float]]:
    return [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]


def feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


# A 0.1° kelurahan with a 0.02° hole, and a two-part desa beside it.
KEBAYORAN = feature(
    {"type": "Polygon", "coordinates": [square(106.7, -6.3, 0.1), square(106.74, -6.26, 0.02)]},
    kecamatan="Kebayoran Baru",
    kelurahan="Gandaria Utara",
    kode="3171071001",
    kabupaten="Jakarta Selatan",
)
PULAU = feature(
    {
        "type": "MultiPolygon",
        "coordinates": [[square(106.9, -6.3, 0.05)], [square(107.0, -6.3, 0.05)]],
    },
    KECAMATAN="Kepulauan",
    Desa="Pulau Dua",
    KODE=3101011001,
)
COLLECTION = {"type": "FeatureCollection", "features": [KEBAYORAN, PULAU]}


def test_parse_and_locate() -> None:
    areas = parse_feature_collection(json.dumps(COLLECTION))
    assert [a.kelurahan for a in areas] == ["Gandaria Utara", "Pulau Dua"]
    first, second = areas
    assert (first.kecamatan, first.code, first.kabupaten) == ("Kebayoran Baru", "3171071001", "Jakarta Selatan")
    assert (second.kecamatan, second.code) == ("Kepulauan", "3101011001")
    assert first.bbox == pytest.approx((106.7, -6.3, 106.8, -6.2))
    assert locate(areas, -6.29, 106.71) is first
    assert locate(areas, -6.28, 107.02) is second
    assert locate(areas, -6.28, 106.97) is None  # between the two parts of the MultiPolygon


def test_hole_is_respected() -> None:
    areas = parse_feature_collection(COLLECTION)
    assert locate(areas, -6.25, 106.75) is None
    assert locate(areas, -6.27, 106.75) is areas[0]


def test_outside_everything_and_bad_coordinates() -> None:
    areas = parse_feature_collection(COLLECTION)
    assert locate(areas, 0.0, 0.0) is None
    assert locate(areas, float("nan"), 106.71) is None


def _square_area(lon: float, lat: float, size: float, **names: Any) -> AdminArea:
    return parse_feature(feature({"type": "Polygon", "coordinates": [square(lon, lat, size)]}, **names))


def test_locate_prefers_a_kelurahan_to_the_kecamatan_around_it() -> None:
    kecamatan = _square_area(106.70, -6.30, 0.01, kecamatan="Pamulang")
    kelurahan = _square_area(106.60, -6.40, 0.50, kecamatan="Pamulang", kelurahan="Pamulang Barat")
    # The kelurahan's box is far larger here, and still it wins: it names the place more precisely.
    assert locate([kecamatan, kelurahan], -6.295, 106.705) is kelurahan


def test_locate_takes_the_smallest_box_among_equals_then_the_first() -> None:
    outer = _square_area(106.0, -7.0, 1.0, kelurahan="Luar")
    inner = _square_area(106.4, -6.6, 0.2, kelurahan="Dalam")
    twin = _square_area(106.4, -6.6, 0.2, kelurahan="Kembar")
    assert locate([outer, inner], -6.5, 106.5) is inner
    assert locate([inner, outer], -6.5, 106.5) is inner
    assert locate([outer, inner, twin], -6.5, 106.5) is inner
    assert locate([outer, twin, inner], -6.5, 106.5) is twin
    assert locate([outer, inner], -6.9, 106.1) is outer


def test_unclosed_ring_is_closed() -> None:
    ring = square(106.7, -6.3, 0.1)[:-1]
    area = parse_feature(feature({"type": "Polygon", "coordinates": [ring]}))
    assert area.polygons[0][0][0] == area.polygons[0][0][-1]
    assert area.contains(-6.25, 106.75)


def test_custom_property_keys() -> None:
    keys = AreaPropertyKeys(kecamatan=("NAMA_KEC",), kelurahan=("NAMA_KEL",), code=("ID_DESA",))
    area = parse_feature(
        feature({"type": "Polygon", "coordinates": [square(0, 0, 1)]}, nama_kec="A", NAMA_KEL=" B  C ", id_desa=7),
        keys,
    )
    assert (area.kecamatan, area.kelurahan, area.code) == ("A", "B C", "7")


def test_html_in_names_kept_as_text() -> None:
    area = parse_feature(feature({"type": "Polygon", "coordinates": [square(0, 0, 1)]}, kelurahan="<b>X</b>'; --"))
    assert area.kelurahan == "<b>X</b>'; --"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        ("[" * 100_000 + "]" * 100_000, "bad_json"),
        ("[]", "bad_geojson"),
        ('{"type": "Feature"}', "not_feature_collection"),
        ('{"type": "FeatureCollection", "features": {}}', "bad_geojson"),
        ('{"type": "FeatureCollection", "features": [1]}', "bad_feature"),
        ('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}', "missing_geometry"),
    ],
)
def test_bad_documents(document: str | bytes, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_feature_collection(document)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("geometry", "code"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "unsupported_geometry"),
        ({"type": "Polygon", "coordinates": []}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [True, 1]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [10**400, 1]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [float("inf"), 1]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 95]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], ["1", 1]]]}, "bad_geometry"),
        ({"type": "Polygon", "coordinates": [[[0, 0, 0, 0], [1, 0], [0, 1]]]}, "bad_geometry"),
        ({"type": "MultiPolygon", "coordinates": []}, "bad_geometry"),
    ],
)
def test_bad_geometries(geometry: dict[str, Any], code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_feature_collection({"type": "FeatureCollection", "features": [feature(geometry)]})
    assert info.value.code == code
    assert "feature 0" in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_input_parses_or_raises_domain_error(document: str | bytes) -> None:
    try:
        parse_feature_collection(document)
    except IntakeParseError as exc:
        assert exc.code


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_feature_parses_or_raises_domain_error(value: object) -> None:
    documents: list[dict[str, Any]] = [
        {"type": "FeatureCollection", "features": [value]},
        {"type": "FeatureCollection", "features": [feature({"type": "Polygon", "coordinates": value})]},
        {"type": "FeatureCollection", "features": [feature({"type": "MultiPolygon", "coordinates": [value]})]},
    ]
    for document in documents:
        try:
            parse_feature_collection(document)
        except IntakeParseError as exc:
            assert exc.code


@settings(max_examples=300)
@given(
    st.floats(-170, 160, allow_nan=False),
    st.floats(-80, 70, allow_nan=False),
    st.floats(0.001, 5, allow_nan=False),
    st.floats(0.01, 0.99),
    st.floats(0.01, 0.99),
    st.floats(1.01, 3.0),
)
def test_rectangle_point_in_polygon(lon: float, lat: float, size: float, fx: float, fy: float, out: float) -> None:
    area = parse_feature(feature({"type": "Polygon", "coordinates": [square(lon, lat, size)]}))
    assert area.contains(lat + fy * size, lon + fx * size)
    assert not area.contains(lat + out * size, lon + fx * size)
    assert not area.contains(lat + fy * size, lon - (out - 1) * size)
