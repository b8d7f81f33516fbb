"""Caller identity from PAI / From / channel caller."""

from __future__ import annotations

import contextlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.identity import (
    identify_caller,
    parse_address_header,
    privacy_hides_identity,
    sanitize_display_name,
)
from ntpd112.intake.numbering import CallerNumbering


def test_pai_name_addr_is_preferred_and_normalised() -> None:
    pai = '"Budi Santoso" <sip:+6281234567890@ims.telkomsel.co.id;user=phone>'
    caller = identify_caller(pai, "<sip:0899999999@1.2.3.4>;tag=9", "0811111111", "Other")
    assert caller.source == "pai"
    assert caller.raw_value == pai
    assert caller.number_raw == "+6281234567890"
    assert caller.number_e164 == "+6281234567890"
    assert caller.presentation == "allowed"
    assert caller.display_name == "Budi Santoso"
    assert caller.is_foreign is False
    assert caller.country_code == 62
    assert caller.problems == []


def test_tel_uri_with_visual_separators() -> None:
    caller = identify_caller("<tel:+62-811-2345-6789;phone-context=+62>", None, "", "")
    assert caller.number_raw == "+6281123456789"
    assert caller.number_e164 == "+6281123456789"


def test_bare_addr_spec_from_header_with_national_number() -> None:
    caller = identify_caller(None, "sip:0812-3456-7890@10.1.2.3;tag=abc", "", "")
    assert caller.source == "from"
    assert caller.number_e164 == "+6281234567890"


def test_from_with_tag_and_percent_encoded_plus() -> None:
    caller = identify_caller(None, '"X" <sip:%2B6281234567890@h>;tag=1', "", "")
    assert caller.number_e164 == "+6281234567890"
    assert caller.display_name == "X"


def test_every_source_is_read_in_the_trunks_number_format() -> None:
    numbering = CallerNumbering(format="international", strip_prefixes=("1717",))
    caller = identify_caller("<sip:081234567890@h>", "<sip:1717628123456789@h>", "62215551234", "", numbering=numbering)
    assert (caller.source, caller.number_raw, caller.number_e164) == ("from", "1717628123456789", "+628123456789")
    assert caller.problems == ["pai: format_mismatch: '081234567890' is not in the trunk's number format international"]


def test_an_ambiguous_number_is_kept_raw_and_the_problem_names_both_readings() -> None:
    caller = identify_caller("<sip:62215551234@h>", None, "", "")
    assert (caller.number_raw, caller.number_e164, caller.presentation) == ("62215551234", None, "allowed")
    [problem] = caller.problems
    assert problem.startswith("pai: ambiguous_number: '62215551234' reads as +6262215551234 (national_without_prefix)")


@pytest.mark.parametrize(
    ("pai", "number", "e164", "country"),
    [
        ("<sip:+447911123456@carrier.example>", "+447911123456", "+447911123456", 44),
        ("<tel:+1-650-253-0000>", "+16502530000", "+16502530000", 1),
    ],
)
def test_foreign_numbers_are_flagged(pai: str, number: str, e164: str, country: int) -> None:
    caller = identify_caller(pai, None, "", "")
    assert caller.number_raw == number
    assert caller.number_e164 == e164
    assert caller.is_foreign is True
    assert caller.country_code == country


def test_anonymous_from_without_pai_is_withheld() -> None:
    caller = identify_caller(None, '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=x', "anonymous", "")
    assert caller.presentation == "withheld"
    assert caller.number_raw is None
    assert caller.number_e164 is None
    assert caller.source == "from"


def test_privacy_id_keeps_asserted_number_but_marks_withheld() -> None:
    caller = identify_caller(
        "<sip:+6281234567890@ims.example>",
        '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1',
        "anonymous",
        "Anonymous",
        privacy="id",
    )
    assert caller.presentation == "withheld"
    assert caller.number_e164 == "+6281234567890"
    assert caller.source == "pai"


def test_anonymous_invalid_host_alone_means_withheld() -> None:
    caller = identify_caller(None, "<sip:+6281234567890@anonymous.invalid>", "", "")
    assert caller.presentation == "withheld"
    assert caller.number_e164 == "+6281234567890"


@pytest.mark.parametrize("user", ["anonymous", "Anonymous", "restricted", "RESTRICTED", "private"])
def test_withheld_keywords(user: str) -> None:
    caller = identify_caller(None, f"<sip:{user}@operator.example>", "", "")
    assert caller.presentation == "withheld"
    assert caller.number_raw is None


@pytest.mark.parametrize("user", ["unknown", "unavailable", "Unavailable"])
def test_unknown_keywords(user: str) -> None:
    caller = identify_caller(None, f"<sip:{user}@operator.example>", "", "")
    assert caller.presentation == "unknown"
    assert caller.number_raw is None


def test_channel_caller_is_the_last_resort() -> None:
    caller = identify_caller(None, None, "081234567890", "Budi")
    assert caller.source == "channel"
    assert caller.raw_value == "081234567890"
    assert caller.number_e164 == "+6281234567890"
    assert caller.display_name == "Budi"


def test_nothing_at_all_is_unknown() -> None:
    caller = identify_caller(None, None, "", "")
    assert caller.source == "channel"
    assert caller.presentation == "unknown"
    assert caller.number_raw is None
    assert caller.display_name is None


def test_channel_anonymous_is_withheld() -> None:
    caller = identify_caller(None, None, "anonymous", "Anonymous")
    assert caller.presentation == "withheld"


def test_garbage_pai_falls_back_to_from_and_reports() -> None:
    caller = identify_caller("<sip:+628123 garbage", "<sip:081234567890@h>", "", "")
    assert caller.source == "from"
    assert caller.number_e164 == "+6281234567890"
    assert len(caller.problems) == 1
    assert caller.problems[0].startswith("pai: ")


def test_oversized_header_is_reported_not_raised() -> None:
    caller = identify_caller("<sip:" + "9" * 9000 + "@h>", "x" * 8193, "081234567890", "")
    assert caller.source == "channel"
    assert caller.number_e164 == "+6281234567890"
    assert [p.split(":")[0] for p in caller.problems] == ["pai", "from"]
    assert all("too_large" in p for p in caller.problems)


def test_pai_with_sip_and_tel_values_uses_the_one_with_a_number() -> None:
    caller = identify_caller("<sip:alice@ims.example>, <tel:+6281234567890>", None, "", "")
    assert caller.number_e164 == "+6281234567890"


def test_valid_number_in_later_source_beats_invalid_in_pai() -> None:
    caller = identify_caller("<sip:12@ims.example>", "<sip:081234567890@h>", "", "")
    assert caller.source == "from"
    assert caller.number_e164 == "+6281234567890"
    assert any("invalid_number" in p for p in caller.problems)


def test_sql_and_html_in_display_name_are_kept_as_text() -> None:
    name = "<script>alert('x')</script>'; DROP TABLE calls;--"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    caller = identify_caller(f'"{escaped}" <sip:+6281234567890@h>', None, "", "")
    assert caller.display_name == name


def test_escaped_quotes_in_display_name() -> None:
    addresses = parse_address_header('"Budi \\"Bud\\" S" <sip:+6281234567890@h>')
    assert addresses[0].display_name == 'Budi "Bud" S'


def test_display_name_control_and_bidi_characters_removed_and_truncated() -> None:
    assert sanitize_display_name("Bu\x00di\u202e \x1b[31mX\r\nY") == "Budi [31mX Y"
    assert sanitize_display_name("\x00\x01") is None
    long_name = sanitize_display_name("A" * 500)
    assert long_name is not None
    assert len(long_name) == 128


def test_display_name_from_other_source_when_chosen_has_none() -> None:
    caller = identify_caller("<sip:+6281234567890@h>", '"Siti" <sip:0811@h>', "", "")
    assert caller.source == "pai"
    assert caller.display_name == "Siti"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("<sip:x@h", "bad_name_addr"),
        ('"unterminated <sip:x@h>', "unterminated_quote"),
        ('"Name" sip:x@h', "bad_name_addr"),
        ("<http://example.com/>", "unsupported_scheme"),
        ("<sip:x@h> trailing", "bad_name_addr"),
        ("<sip:>", "bad_uri"),
        ("<tel:>", "bad_uri"),
        ("nocolon", "bad_uri"),
        ("<sip:a\x00b@h>", "bad_uri"),
        ("<sip:a@h>,,<sip:b@h>", "empty"),
    ],
)
def test_parse_address_header_rejects(value: str, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_address_header(value)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("privacy", "hidden"),
    [("id", True), ("header;id", True), ("ID", True), ("none", False), (None, False), ("user", False)],
)
def test_privacy_header(privacy: str | None, hidden: bool) -> None:
    assert privacy_hides_identity(privacy) is hidden


# --- properties ----------------------------------------------------------------------------------

optional_text = st.one_of(st.none(), st.text(max_size=200))


@settings(max_examples=300, deadline=None)
@given(optional_text, optional_text, optional_text, optional_text, optional_text)
def test_identify_caller_never_raises(
    pai: str | None, from_header: str | None, number: str | None, name: str | None, privacy: str | None
) -> None:
    caller = identify_caller(pai, from_header, number, name, privacy)
    assert caller.presentation in ("allowed", "withheld", "unknown")
    if caller.number_e164 is not None:
        assert caller.number_e164.startswith("+")
        assert caller.number_raw is not None
    if caller.display_name is not None:
        assert len(caller.display_name) <= 128


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_address_header_parses_or_raises_domain_error(value: str) -> None:
    try:
        addresses = parse_address_header(value)
    except IntakeParseError as exc:
        assert exc.code
    else:
        assert addresses
        assert all(a.scheme in ("sip", "sips", "tel") for a in addresses)


_SIP_CHARS = st.sampled_from(list('<>"\\;,:@ sip:tel:+0123456789abc=\t'))


@settings(max_examples=300, deadline=None)
@given(st.lists(_SIP_CHARS, max_size=60).map("".join))
def test_parse_address_header_on_sip_like_noise(value: str) -> None:
    with contextlib.suppress(IntakeParseError):
        parse_address_header(value)


@settings(max_examples=200)
@given(st.text(max_size=400))
def test_sanitize_display_name_properties(text: str) -> None:
    cleaned = sanitize_display_name(text)
    if cleaned is not None:
        assert len(cleaned) <= 128
        assert cleaned == cleaned.strip()
        assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned)
        assert sanitize_display_name(cleaned) == cleaned


_MOBILE_PREFIXES = ["811", "812", "813", "821", "852", "855", "857", "817", "878", "838", "881", "896"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(_MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["0{p}{r}", "62{p}{r}", "+62{p}{r}", "0{p}-{a}-{b}", "+62 {p} {a} {b}", "({p}) {a}.{b}"]),
    st.sampled_from(["<sip:{n}@ims.example;user=phone>", "<tel:{n}>", "sip:{n}@10.0.0.1", '"N" <sip:{n}@h>']),
)
def test_indonesian_mobile_round_trip(prefix: str, rest: str, number_format: str, header_format: str) -> None:
    dialled = number_format.format(p=prefix, r=rest, a=rest[:4], b=rest[4:])
    if " " in dialled and header_format != '"N" <sip:{n}@h>':
        dialled = dialled.replace(" ", "")  # blanks are not allowed inside a URI
    header = header_format.format(n=dialled) if " " not in dialled else f"<tel:{dialled.replace(' ', '-')}>"
    caller = identify_caller(header, None, "", "")
    assert caller.number_e164 == f"+62{prefix}{rest}"
    assert caller.presentation == "allowed"
    assert caller.is_foreign is False
