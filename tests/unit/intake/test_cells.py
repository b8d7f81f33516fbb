"""OpenCellID rows and the cell lookup key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.cells import (
    OPENCELLID_COLUMNS,
    CellKey,
    fix_from_cell,
    is_header_row,
    parse_cell_line,
    parse_cell_row,
)
from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.pani import cell_from_pani

HEADER = ",".join(OPENCELLID_COLUMNS)
LTE_LINE = "LTE,510,10,161,11715540,123,106.718,-6.2885,1500,42,1,1459813535,1700000000,-95"


def test_lte_row() -> None:
    record = parse_cell_line(LTE_LINE + "\r\n")
    assert record.radio == "lte"
    assert (record.mcc, record.mnc, record.area_code, record.cell_id, record.unit) == (510, 10, 161, 11715540, 123)
    assert (record.lat, record.lon, record.range_m) == (-6.2885, 106.718, 1500.0)
    assert record.samples == 42
    assert record.changeable is True
    assert record.created == datetime.fromtimestamp(1459813535, tz=UTC)
    assert record.updated == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert record.average_signal == -95


def test_lookup_key_matches_pani() -> None:
    record = parse_cell_line(LTE_LINE)
    cell = cell_from_pani("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4")
    assert record.key == cell.lookup_key == CellKey("lte", 510, 10, 0xA1, 0xB2C3D4)


@pytest.mark.parametrize(
    ("line", "radio", "cell"),
    [
        ("GSM,510,1,4660,22136,,106.8,-6.2,800,3,1,1459813535,1459813535,", "gsm", 22136),
        ("UMTS,510,11,4660,187000001,301,106.8,-6.2,2000,3,0,1459813535,1459813535,0", "umts", 187000001),
        ("NR,510,10,2561,4886718345,500,106.8,-6.2,300,3,1,1459813535,1459813535,-80", "nr", 4886718345),
    ],
)
def test_each_radio(line: str, radio: str, cell: int) -> None:
    record = parse_cell_line(line)
    assert record.radio == radio
    assert record.cell_id == cell


def test_empty_optional_columns() -> None:
    record = parse_cell_line("GSM,510,1,4660,22136,,106.8,-6.2,800,3,0,1459813535,1459813535,")
    assert record.unit is None
    assert record.average_signal is None
    assert record.changeable is False


def test_header_detection() -> None:
    assert is_header_row(HEADER.split(","))
    assert not is_header_row(LTE_LINE.split(","))
    assert not is_header_row([])
    with pytest.raises(IntakeParseError) as info:
        parse_cell_line(HEADER)
    assert info.value.code == "header"


def test_cdma_is_refused_with_a_clear_code() -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_cell_line("CDMA,510,3,1,2,,106.8,-6.2,800,3,1,1459813535,1459813535,")
    assert info.value.code == "unsupported_radio"
    assert "CDMA" in str(info.value)


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("WIMAX,510,10,1,1,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_radio"),
        ("LTE,510,10,161,1", "bad_row"),
        ("LTE,99,10,161,1,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_mcc"),
        ("LTE,510,1000,161,1,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_mnc"),
        ("GSM,510,10,70000,1,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_area_code"),
        ("GSM,510,10,1,70000,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_cell_id"),
        ("LTE,510,10,161,268435456,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_cell_id"),
        ("LTE,510,10,161,1,,106.8,-96.2,800,3,1,1459813535,1459813535,", "bad_latitude"),
        ("LTE,510,10,161,1,,186.8,-6.2,800,3,1,1459813535,1459813535,", "bad_longitude"),
        ("LTE,510,10,161,1,,106.8,-6.2,nan,3,1,1459813535,1459813535,", "bad_number"),
        ("LTE,510,10,161,1,,106.8,-6.2,-1,3,1,1459813535,1459813535,", "bad_radius"),
        ("LTE,510,10,161,1,,106.8,-6.2,800,-3,1,1459813535,1459813535,", "bad_row"),
        ("LTE,510,10,161,1,,106.8,-6.2,800,3,2,1459813535,1459813535,", "bad_row"),
        ("LTE,510,10,161,1,,106.8,-6.2,800,3,1,12,1459813535,", "bad_timestamp"),
        ("LTE,510,10,161,1_0,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_integer"),
        ("LTE,510,10,161,\u0661,,106.8,-6.2,800,3,1,1459813535,1459813535,", "bad_integer"),
        ('LTE,510,10,161,"1,,106.8,-6.2,800,3,1,1459813535,1459813535,', "bad_row"),
        ("", "bad_row"),
        ("LTE\n,510", "bad_row"),
        ("LTE," + "9" * 2000, "too_large"),
    ],
)
def test_bad_rows(line: str, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_cell_line(line)
    assert info.value.code == code


def test_fix_from_cell() -> None:
    record = parse_cell_line(LTE_LINE)
    seen = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    location = fix_from_cell(record, observed_at=seen)
    assert (location.source, location.lat, location.lon, location.radius_m) == ("cell", -6.2885, 106.718, 1500.0)
    assert location.measured_at == seen
    assert location.raw == "lte:510-10-161-11715540"


@settings(max_examples=400)
@given(st.text(max_size=200))
def test_any_line_parses_or_raises_domain_error(line: str) -> None:
    try:
        parse_cell_line(line)
    except IntakeParseError as exc:
        assert exc.code


@settings(max_examples=300)
@given(st.lists(st.text(max_size=12), min_size=14, max_size=14))
def test_any_row_parses_or_raises_domain_error(row: list[str]) -> None:
    try:
        parse_cell_row(row)
    except IntakeParseError as exc:
        assert exc.code


@settings(max_examples=300)
@given(
    st.sampled_from(
        [
            ("GSM", 0xFFFF, 0xFFFF),
            ("UMTS", 0xFFFF, 0xFFFFFFF),
            ("LTE", 0xFFFF, 0xFFFFFFF),
            ("NR", 0xFFFFFF, 0xFFFFFFFFF),
        ]
    ),
    st.integers(200, 999),
    st.integers(0, 999),
    st.data(),
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.integers(0, 100_000),
)
def test_row_round_trip(
    radio_limits: tuple[str, int, int], mcc: int, mnc: int, data: st.DataObject, lat: float, lon: float, range_m: int
) -> None:
    radio, max_area, max_cell = radio_limits
    area = data.draw(st.integers(0, max_area))
    cell = data.draw(st.integers(0, max_cell))
    line = f"{radio},{mcc},{mnc},{area},{cell},,{lon!r},{lat!r},{range_m},1,1,1459813535,1459813535,"
    record = parse_cell_line(line)
    assert record.key == CellKey(radio.lower(), mcc, mnc, area, cell)  # type: ignore[arg-type]
    assert (record.lat, record.lon, record.range_m) == (lat, lon, float(range_m))
