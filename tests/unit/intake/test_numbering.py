"""Calling numbers read in the trunk's format and written back in it (intake/numbering.py).

The property tests generate Indonesian numbers (mobile prefixes of every carrier, fixed lines of several areas,
among them the North Sumatra codes 0620-0629 that start with 62 once the trunk prefix is dropped) and present
each in every format. The forms are built here from the national significant number, not by the code under test.
"""

from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.numbering import (
    CallerNumbering,
    NumberFormat,
    normalize_phone_number,
    trunk_dial_string,
)

EXPLICIT_FORMATS = [f for f in get_args(NumberFormat) if f != "auto"]
# Routing prefixes stand before bare digits; nothing stands before the + of an E.164 number.
PREFIXABLE_FORMATS = [f for f in EXPLICIT_FORMATS if f != "e164"]

# Mobile prefixes (after the trunk prefix 0) by carrier.
CARRIER_PREFIXES = {
    "telkomsel": ("811", "812", "813", "821", "822", "823", "851", "852", "853"),
    "indosat": ("814", "815", "816", "855", "856", "857", "858"),
    "xl_axis": ("817", "818", "819", "859", "877", "878", "831", "832", "833", "838"),
    "tri": ("895", "896", "897", "898", "899"),
    "smartfren": ("881", "882", "883", "884", "885", "886", "887", "888", "889"),
}
# Area code (without 0) -> subscriber number lengths. Two-digit areas are the big cities; 0620-0629 North Sumatra.
AREA_CODES = {
    "21": (7, 8),  # Jakarta
    "22": (7, 8),  # Bandung
    "31": (7, 8),  # Surabaya
    "61": (7, 8),  # Medan
    "274": (6, 7),  # Yogyakarta
    "361": (6, 7),  # Denpasar
    "411": (6, 7),  # Makassar
    **{f"62{digit}": (6, 7) for digit in "0123456789"},
}


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    """A national significant number of a mobile phone, e.g. 81234567890."""
    carrier = draw(st.sampled_from(sorted(CARRIER_PREFIXES)))
    prefix = draw(st.sampled_from(CARRIER_PREFIXES[carrier]))
    return prefix + draw(st.text("0123456789", min_size=7, max_size=8))


@st.composite
def fixed_line_numbers(draw: st.DrawFn) -> str:
    """A national significant number of a fixed line, e.g. 215551234 or 62212345 (Pematangsiantar)."""
    area = draw(st.sampled_from(sorted(AREA_CODES)))
    length = draw(st.sampled_from(AREA_CODES[area]))
    return (
        area + draw(st.sampled_from("23456789")) + draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    )


indonesian_numbers = st.one_of(mobile_numbers(), fixed_line_numbers())


def forms_of(national_number: str) -> dict[NumberFormat, str]:
    """The number as a trunk of each format presents it."""
    return {
        "e164": "+62" + national_number,
        "international": "62" + national_number,
        "national": "0" + national_number,
        "national_without_prefix": national_number,
    }


@settings(max_examples=400)
@given(indonesian_numbers, st.sampled_from(EXPLICIT_FORMATS))
def test_the_trunks_format_reads_every_indonesian_number_exactly(national_number: str, number_format: str) -> None:
    numbering = CallerNumbering(format=number_format)  # type: ignore[arg-type]
    presented = forms_of(national_number)[number_format]  # type: ignore[index]
    number = normalize_phone_number(presented, numbering)
    assert (number.e164, number.raw, number.problem) == ("+62" + national_number, presented, None)
    assert number.country_code == 62


@settings(max_examples=400)
@given(indonesian_numbers, st.sampled_from(EXPLICIT_FORMATS))
def test_a_callback_dials_the_number_in_the_form_the_trunk_presented_it(
    national_number: str, number_format: str
) -> None:
    numbering = CallerNumbering(format=number_format)  # type: ignore[arg-type]
    expected = forms_of(national_number)[number_format]  # type: ignore[index]
    assert trunk_dial_string("+62" + national_number, "raw-unused", numbering) == expected


@settings(max_examples=400)
@given(indonesian_numbers, st.sampled_from(PREFIXABLE_FORMATS), st.sampled_from(["1717", "9", "00"]))
def test_routing_prefixes_and_visual_separators_do_not_change_the_number(
    national_number: str, number_format: str, routing_prefix: str
) -> None:
    presented = forms_of(national_number)[number_format]  # type: ignore[index]
    numbering = CallerNumbering(format=number_format, strip_prefixes=(routing_prefix,))  # type: ignore[arg-type]
    number = normalize_phone_number(f"{routing_prefix}{presented[:4]} {presented[4:7]}-{presented[7:]}", numbering)
    assert (number.e164, number.raw) == ("+62" + national_number, routing_prefix + presented)


@settings(max_examples=600)
@given(indonesian_numbers, st.sampled_from(EXPLICIT_FORMATS))
def test_auto_never_makes_up_a_number(national_number: str, presented_as: str) -> None:
    """Without a configured format the result is the caller's number, or no number and the ambiguity named."""
    number = normalize_phone_number(forms_of(national_number)[presented_as])  # type: ignore[index]
    if number.e164 is None:
        assert number.problem is not None and number.problem.code == "ambiguous_number"
        assert "+62" + national_number in number.problem.message
    else:
        assert number.e164 == "+62" + national_number
    if presented_as in ("e164", "national"):
        # A + or a trunk prefix says what the digits are.
        assert number.e164 == "+62" + national_number


@pytest.mark.parametrize(
    ("presented", "e164"),
    [
        # What the issue found working keeps working without a format.
        ("0215551234", "+62215551234"),
        ("+62215551234", "+62215551234"),
        ("(021) 555 1234", "+62215551234"),
        ("081234567890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        # Bare digits that are Indonesian without the trunk prefix, not Japan's +81 23 456 7890.
        ("81234567890", "+6281234567890"),
        ("447911123456", "+447911123456"),
        ("00628123456789", "+628123456789"),
        ("0274.512.345", "+62274512345"),
        ("0812 3456 7890", "+6281234567890"),
        ("(021) 5551-2345", "+622155512345"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 650-253-0000", "+16502530000"),
    ],
)
def test_auto_reads_the_forms_it_can_tell_apart(presented: str, e164: str) -> None:
    assert normalize_phone_number(presented).e164 == e164


def test_auto_keeps_the_raw_number_of_a_jakarta_line_sent_without_plus_and_says_why() -> None:
    number = normalize_phone_number("62215551234")
    assert (number.raw, number.e164, number.country_code, number.read_as) == ("62215551234", None, None, None)
    assert number.problem is not None and number.problem.code == "ambiguous_number"
    assert "+62215551234 (international)" in number.problem.message
    assert "+6262215551234 (national_without_prefix)" in number.problem.message


@pytest.mark.parametrize(
    ("number_format", "e164", "read_as"),
    [
        ("international", "+62215551234", "international"),
        ("national_without_prefix", "+6262215551234", "national_without_prefix"),
    ],
)
def test_the_trunks_format_settles_what_auto_cannot(number_format: str, e164: str, read_as: str) -> None:
    number = normalize_phone_number("62215551234", CallerNumbering(format=number_format))  # type: ignore[arg-type]
    assert (number.e164, number.read_as, number.problem) == (e164, read_as, None)


@pytest.mark.parametrize(
    ("presented", "number_format"),
    [
        ("081234567890", "international"),
        ("6281234567890", "national"),
        ("6281234567890", "e164"),
        ("081234567890", "national_without_prefix"),
        ("00447911123456", "international"),
    ],
)
def test_a_number_outside_the_trunks_format_keeps_its_raw_digits(presented: str, number_format: str) -> None:
    number = normalize_phone_number(presented, CallerNumbering(format=number_format))  # type: ignore[arg-type]
    assert (number.raw, number.e164) == (presented, None)
    assert number.problem is not None and number.problem.code == "format_mismatch"
    assert number_format in number.problem.message


@pytest.mark.parametrize("number_format", get_args(NumberFormat))
def test_a_plus_is_read_as_e164_whatever_the_trunk_says(number_format: str) -> None:
    number = normalize_phone_number("+447911123456", CallerNumbering(format=number_format))  # type: ignore[arg-type]
    assert (number.e164, number.read_as, number.country_code) == ("+447911123456", "e164", 44)


@pytest.mark.parametrize("number_format", ["national", "national_without_prefix"])
def test_national_trunks_present_and_get_back_foreign_callers_with_the_international_prefix(number_format: str) -> None:
    numbering = CallerNumbering(format=number_format)  # type: ignore[arg-type]
    number = normalize_phone_number("00447911123456", numbering)
    assert (number.e164, number.read_as) == ("+447911123456", "international_prefix")
    assert trunk_dial_string("+447911123456", "00447911123456", numbering) == "00447911123456"


@pytest.mark.parametrize("numbering", [CallerNumbering(), CallerNumbering(format="national")])
def test_a_number_in_a_valid_form_but_too_short_keeps_its_raw_digits_and_says_so(numbering: CallerNumbering) -> None:
    number = normalize_phone_number("0812", numbering)
    assert (number.raw, number.e164, number.country_code) == ("0812", None, None)
    assert number.problem is not None and number.problem.code == "invalid_number"
    assert "+62812 (national)" in number.problem.message


def test_the_longest_matching_strip_prefix_goes_and_a_prefix_is_never_the_whole_number() -> None:
    numbering = CallerNumbering(format="national", strip_prefixes=("1", "17", "1717"))
    assert normalize_phone_number("17170215551234", numbering).e164 == "+62215551234"
    unstripped = normalize_phone_number("1717", CallerNumbering(format="national", strip_prefixes=("1717",)))
    assert unstripped.problem is not None and unstripped.problem.code == "format_mismatch"


def test_an_auto_trunk_or_a_caller_without_e164_is_called_back_on_the_raw_number() -> None:
    assert trunk_dial_string("+62215551234", "62215551234", CallerNumbering()) == "62215551234"
    assert trunk_dial_string(None, "62215551234", CallerNumbering(format="national")) == "62215551234"
    assert trunk_dial_string(None, None, CallerNumbering(format="e164")) is None
    assert trunk_dial_string("+62 not e164", "0215551234", CallerNumbering(format="e164")) == "0215551234"


@pytest.mark.parametrize("text", ["alice", "", "++62", "0812x", "1" * 21, "٠٨١٢٣٤٥٦٧٨٩٠", "9" * 70])
def test_normalize_rejects_non_dial_strings(text: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        normalize_phone_number(text)
    assert info.value.code == "not_a_number"


@pytest.mark.parametrize(
    "numbering",
    [{"format": "local"}, {"strip_prefixes": ["12a"]}, {"strip_prefixes": [""]}, {"prefix": "0"}],
)
def test_bad_numbering_settings_are_refused(numbering: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        CallerNumbering.model_validate(numbering)
