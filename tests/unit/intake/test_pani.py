"""P-Access-Network-Info (3GPP TS 24.229 clause 7.2A.4)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.cells import CellKey
from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.pani import CellId, cell_from_pani, decode_cell_id, parse_pani
from tests.builders import format_cell_id


def test_architecture_example_lte() -> None:
    cell = cell_from_pani("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4")
    assert cell.radio == "lte"
    assert (cell.mcc, cell.mnc, cell.mnc_digits) == (510, 10, 2)
    assert cell.area_code == 0x00A1
    assert cell.cell_id == 0x0B2C3D4
    assert cell.access_type == "3GPP-E-UTRAN-FDD"
    assert cell.network_provided is False
    assert cell.lookup_key == CellKey("lte", 510, 10, 0xA1, 0xB2C3D4)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3GPP-GERAN; cgi-3gpp=51010ABCD1234", ("gsm", 510, 10, 2, 0xABCD, 0x1234)),
        ("3GPP-UTRAN-FDD; utran-cell-id-3gpp=5101100A1B2C3D4E", ("umts", 510, 11, 2, 0x00A1, 0xB2C3D4E)),
        ("3GPP-UTRAN-TDD; utran-cell-id-3gpp=5100100A1B2C3D4E", ("umts", 510, 1, 2, 0x00A1, 0xB2C3D4E)),
        ("3GPP-E-UTRAN-TDD; utran-cell-id-3gpp=5102800A10B2C3D4", ("lte", 510, 28, 2, 0xA1, 0xB2C3D4)),
        # E-UTRAN attached to the 5G core: 6-hex-digit TAC.
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=510890000A10B2C3D4", ("lte", 510, 89, 2, 0xA1, 0xB2C3D4)),
        ("3GPP-NR-FDD; utran-cell-id-3gpp=51010000A01123456789", ("nr", 510, 10, 2, 0xA01, 0x123456789)),
        ("3GPP-NR-TDD; utran-cell-id-3gpp=51021FFFFFFFFFFFFFFF", ("nr", 510, 21, 2, 0xFFFFFF, 0xFFFFFFFFF)),
    ],
)
def test_each_radio(header: str, expected: tuple[str, int, int, int, int, int]) -> None:
    cell = cell_from_pani(header)
    assert (cell.radio, cell.mcc, cell.mnc, cell.mnc_digits, cell.area_code, cell.cell_id) == expected


@pytest.mark.parametrize(
    ("header", "mnc", "radio"),
    [
        ("3GPP-GERAN;cgi-3gpp=310260ABCD1234", 260, "gsm"),
        ("3GPP-UTRAN-FDD;utran-cell-id-3gpp=31026000A1B2C3D4E", 260, "umts"),
        ("3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=31026000A10B2C3D4", 260, "lte"),
        ("3GPP-NR-FDD;utran-cell-id-3gpp=310260000A01123456789", 260, "nr"),
        ("3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=405854ABCD0B2C3D4", 854, "lte"),
    ],
)
def test_three_digit_mnc_from_length(header: str, mnc: int, radio: str) -> None:
    cell = cell_from_pani(header)
    assert cell.mnc == mnc
    assert cell.mnc_digits == 3
    assert cell.radio == radio


def test_three_digit_mnc_with_leading_zero_keeps_digit_count() -> None:
    cell = cell_from_pani("3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=31000400A10B2C3D4")
    assert cell.mnc == 4
    assert cell.mnc_digits == 3
    assert format_cell_id(cell) == "31000400A10B2C3D4"


def test_quoted_value_case_insensitive_names_and_extra_params() -> None:
    cell = cell_from_pani(
        '3gpp-e-utran-fdd ; UTRAN-CELL-ID-3GPP="5101000a10b2c3d4";network-provided;'
        'local-time-zone="UTC+07:00";daylight-saving-time="00"'
    )
    assert cell.cell_id == 0xB2C3D4
    assert cell.network_provided is True


def test_wlan_first_then_cell_takes_the_cell() -> None:
    cell = cell_from_pani(
        'IEEE-802.11; i-wlan-node-id=ffeeddccbbaa, 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp="5101000A10B2C3D4"'
    )
    assert cell.radio == "lte"


def test_first_cell_wins_unless_network_provided_is_preferred() -> None:
    header = (
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4, "
        "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000B20000001; network-provided"
    )
    assert cell_from_pani(header).area_code == 0xA1
    preferred = cell_from_pani(header, prefer_network_provided=True)
    assert preferred.area_code == 0xB2
    assert preferred.network_provided is True


def test_invalid_first_cell_falls_through_to_valid_second() -> None:
    header = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000G10B2C3D4, 3GPP-GERAN; cgi-3gpp=51010ABCD1234"
    assert cell_from_pani(header).radio == "gsm"


def test_parse_pani_exposes_all_specs() -> None:
    specs = parse_pani('IEEE-802.11;i-wlan-node-id=aabbccddeeff;network-provided, 3GPP-GERAN;cgi-3gpp="x"')
    assert [s.access_type for s in specs] == ["IEEE-802.11", "3GPP-GERAN"]
    assert specs[0].network_provided is True
    assert specs[0].parameters == {"i-wlan-node-id": "aabbccddeeff", "network-provided": ""}
    assert specs[1].parameters == {"cgi-3gpp": "x"}


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("IEEE-802.11; i-wlan-node-id=ffeeddccbbaa", "no_cell_id"),
        ("3GPP-E-UTRAN-FDD", "no_cell_id"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000G10B2C3D4", "bad_hex"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=0011000A10B2C3D4", "bad_mcc"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=1991000A10B2C3D4", "bad_mcc"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=51A1000A10B2C3D4", "bad_plmn"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=510100A10B2C3D4", "bad_cell_id_length"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=", "bad_parameter"),
        ('3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=""', "bad_cell_id"),
        ('3GPP-E-UTRAN-FDD; utran-cell-id-3gpp="5101000A10B2C3D4', "bad_parameter"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=+5101000A10B2C3D", "bad_plmn"),
        ("3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4; utran-cell-id-3gpp=1", "bad_parameter"),
        ("", "empty"),
        ("3GPP-GERAN;;cgi-3gpp=51010ABCD1234", "empty"),
        ("3GPP GERAN; cgi-3gpp=51010ABCD1234", "bad_access_type"),
        # Unicode digits: not a token unquoted; quoted, the strict ASCII checks still refuse them.
        ("3GPP-GERAN; cgi-3gpp=51010ABCD12\u0663\u0664", "bad_parameter"),
        ('3GPP-GERAN; cgi-3gpp="51010ABCD12\u0663\u0664"', "bad_hex"),
        ('3GPP-GERAN; cgi-3gpp="5\u06630\u06630ABCD1234"', "bad_plmn"),
    ],
)
def test_rejections(header: str, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        cell_from_pani(header)
    assert info.value.code == code


def test_oversized_header_rejected_up_front() -> None:
    with pytest.raises(IntakeParseError) as info:
        cell_from_pani("3GPP-GERAN;" + "x" * 9000)
    assert info.value.code == "too_large"


def test_decode_cell_id_rejects_non_cellular_access() -> None:
    with pytest.raises(IntakeParseError) as info:
        decode_cell_id("IEEE-802.11", "5101000A10B2C3D4")
    assert info.value.code == "no_cell_access"


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.text(max_size=300))
def test_any_text_parses_or_raises_domain_error(header: str) -> None:
    try:
        cell = cell_from_pani(header)
    except IntakeParseError as exc:
        assert exc.code
    else:
        assert 200 <= cell.mcc <= 999


_PANI_ALPHABET = st.sampled_from(list('3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=cgi", 0123456789ABCDEFxyz\\'))


@settings(max_examples=500)
@given(st.lists(_PANI_ALPHABET, max_size=80).map("".join))
def test_pani_like_noise_parses_or_raises_domain_error(header: str) -> None:
    with contextlib.suppress(IntakeParseError):
        cell_from_pani(header)


_ACCESS_TYPES = {
    "gsm": ["3GPP-GERAN"],
    "umts": ["3GPP-UTRAN-FDD", "3GPP-UTRAN-TDD"],
    "lte": ["3GPP-E-UTRAN-FDD", "3GPP-E-UTRAN-TDD"],
    "nr": ["3GPP-NR-FDD", "3GPP-NR-TDD", "3GPP-NR-U-FDD"],
}
_LIMITS = {
    "gsm": (0xFFFF, 0xFFFF),
    "umts": (0xFFFF, 0xFFFFFFF),
    "lte": (0xFFFFFF, 0xFFFFFFF),
    "nr": (0xFFFFFF, 0xFFFFFFFFF),
}


@st.composite
def cells(draw: st.DrawFn) -> CellId:
    radio = draw(st.sampled_from(["gsm", "umts", "lte", "nr"]))
    mnc_digits = draw(st.sampled_from([2, 3]))
    max_area, max_cell = _LIMITS[radio]
    return CellId(
        radio=radio,
        mcc=draw(st.integers(200, 999)),
        mnc=draw(st.integers(0, 10**mnc_digits - 1)),
        mnc_digits=mnc_digits,
        area_code=draw(st.integers(0, max_area)),
        cell_id=draw(st.integers(0, max_cell)),
        access_type=draw(st.sampled_from(_ACCESS_TYPES[radio])),
        network_provided=draw(st.booleans()),
    )


@settings(max_examples=500)
@given(cells(), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_round_trip(cell: CellId, quoted: bool, lower: bool, extra_first: bool, wlan_before: bool) -> None:
    value = format_cell_id(cell)
    parameter = "cgi-3gpp" if cell.radio == "gsm" else "utran-cell-id-3gpp"
    access_type = cell.access_type.lower() if lower else cell.access_type
    parts = [access_type]
    if extra_first:
        parts.append('local-time-zone="UTC+07:00"')
    parts.append(f"{parameter.upper() if lower else parameter}={f'{chr(34)}{value}{chr(34)}' if quoted else value}")
    if cell.network_provided:
        parts.append("network-provided")
    header = "; ".join(parts)
    if wlan_before:
        header = "IEEE-802.11;i-wlan-node-id=000000000000, " + header
    parsed = cell_from_pani(header)
    assert parsed.model_dump(exclude={"access_type"}) == cell.model_dump(exclude={"access_type"})
    assert parsed.access_type.upper() == cell.access_type.upper()
