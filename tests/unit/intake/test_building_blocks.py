"""Size guard, strict number lexing and spherical helpers."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.errors import MAX_INPUT_BYTES, IntakeParseError, check_input_size
from ntpd112.intake.geometry import destination, haversine_m, polygon_centroid
from ntpd112.intake.lexical import parse_decimal, parse_hex_field, parse_integer


def test_error_carries_code_and_message() -> None:
    error = IntakeParseError("bad_thing", "it was bad")
    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == ("bad_thing", "it was bad", "bad_thing: it was bad")


def test_size_guard_counts_utf8_bytes() -> None:
    check_input_size("a" * MAX_INPUT_BYTES, "x")
    check_input_size(b"a" * MAX_INPUT_BYTES, "x")
    with pytest.raises(IntakeParseError):
        check_input_size("a" * (MAX_INPUT_BYTES + 1), "x")
    # 3000 characters of 3 bytes each: under 8192 characters, over 8192 bytes.
    with pytest.raises(IntakeParseError) as info:
        check_input_size("€" * 3000, "x")
    assert info.value.code == "too_large"
    check_input_size("€" * 2000, "x")


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1_0", "٣", " ", "", "1e5000", "0x10", "1,5", "--1"])
def test_parse_decimal_rejects_what_float_accepts_too_liberally(text: str) -> None:
    with pytest.raises(IntakeParseError):
        parse_decimal(text, "value")


@pytest.mark.parametrize(
    ("text", "value"), [("1", 1.0), ("-6.28850", -6.2885), ("+54.5", 54.5), (".5", 0.5), ("1e-05", 1e-05)]
)
def test_parse_decimal_accepts(text: str, value: float) -> None:
    assert parse_decimal(text, "value") == value


def test_parse_integer_and_hex() -> None:
    assert parse_integer("-42", "n") == -42
    assert parse_hex_field("00A1", 4, "tac") == 0xA1
    for bad in ("0x1", "1_0", "٣"):
        with pytest.raises(IntakeParseError):
            parse_integer(bad, "n")
    for bad_hex in ("0x1A", "1_0A", "00A", "00G1"):
        with pytest.raises(IntakeParseError):
            parse_hex_field(bad_hex, 4, "tac")


def test_haversine_known_distance() -> None:
    # One degree of latitude on the mean sphere.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(-6.2, 106.8, -6.2, 106.8) == 0.0


def test_centroid_of_square_and_degenerate_line() -> None:
    assert polygon_centroid([(0, 0), (0, 2), (2, 2), (2, 0), (0, 0)]) == pytest.approx((1.0, 1.0))
    assert polygon_centroid([(0, 0), (1, 1), (2, 2)]) == pytest.approx((1.0, 1.0))


@settings(max_examples=300)
@given(
    st.floats(-80, 80, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.floats(0, 360, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
def test_destination_is_at_the_requested_distance(lat: float, lon: float, bearing: float, distance: float) -> None:
    lat2, lon2 = destination(lat, lon, bearing, distance)
    assert -90 <= lat2 <= 90
    assert -180 <= lon2 <= 180
    assert haversine_m(lat, lon, lat2, lon2) == pytest.approx(distance, rel=1e-6, abs=1e-3)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_lexers_parse_or_raise(text: str) -> None:
    for parse in (
        lambda t: parse_decimal(t, "v"),
        lambda t: parse_integer(t, "v"),
        lambda t: parse_hex_field(t, 4, "v"),
    ):
        with contextlib.suppress(IntakeParseError):
            parse(text)
