"""Advanced Mobile Location: SMS v1, HTTPS form, HMAC."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.aml import (
    aml_canonical_string,
    compute_aml_hmac,
    parse_aml_form,
    parse_aml_sms,
    verify_aml_hmac,
)
from ntpd112.intake.errors import IntakeParseError
from tests.builders import build_aml_sms

# The architecture example; its 'ml' must be the real length (127), not the 124 once quoted.
EXAMPLE = (
    'A"ML=1;lt=-6.28850;lg=106.71800;rd=50;top=20261122101500;lc=68;pm=G;'
    "si=510101234567890;ei=353472104343540;mcc=510;mnc=10;ml=127"
)
SECRET = b"shared-secret-from-the-operator"


def test_architecture_example_sms() -> None:
    message = parse_aml_sms(EXAMPLE, sender="+6281234567890")
    assert message.channel == "sms"
    assert message.version == "1"
    assert message.caller_number == "+6281234567890"
    assert message.fix is not None
    assert (message.fix.lat, message.fix.lon, message.fix.radius_m) == (-6.2885, 106.718, 50.0)
    assert message.fix.measured_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert message.fix.confidence == 68.0
    assert message.fix.method == "gnss"
    assert message.fix.source == "aml"
    assert message.positioning_method == "gnss"
    assert (message.imsi, message.imei) == ("510101234567890", "353472104343540")
    assert (message.mcc, message.mnc) == (510, 10)
    assert message.raw == EXAMPLE
    assert len(message.dedup_key) == 64


def test_length_field_counts_the_whole_message() -> None:
    assert len(EXAMPLE) == 127
    with pytest.raises(IntakeParseError) as info:
        parse_aml_sms(EXAMPLE.replace("ml=127", "ml=124"))
    assert info.value.code == "bad_length"


def test_gateway_line_endings_are_tolerated() -> None:
    assert parse_aml_sms(f"  {EXAMPLE}\r\n").raw == EXAMPLE


@pytest.mark.parametrize(("code", "method"), [("G", "gnss"), ("W", "wifi"), ("C", "cell")])
def test_positioning_methods(code: str, method: str) -> None:
    sms = build_aml_sms([('A"ML', "1"), ("lt", "-6.1"), ("lg", "106.8"), ("rd", "900"), ("pm", code)])
    message = parse_aml_sms(sms)
    assert message.positioning_method == method
    assert message.fix is not None
    assert message.fix.method == method


def test_no_location_message() -> None:
    sms = build_aml_sms([('A"ML', "1"), ("pm", "N"), ("si", "510101234567890"), ("ei", "353472104343540")])
    message = parse_aml_sms(sms)
    assert message.fix is None
    assert message.positioning_method == "none"
    assert message.imei == "353472104343540"


def test_no_location_message_with_empty_location_fields() -> None:
    sms = build_aml_sms([('A"ML', "1"), ("lt", ""), ("lg", ""), ("rd", ""), ("top", ""), ("lc", ""), ("pm", "N")])
    assert parse_aml_sms(sms).fix is None


def test_build_aml_sms_handles_the_length_digit_carry() -> None:
    # Bodies whose total length crosses 99 -> 100 when ml's own digits are added.
    for padding in range(80, 100):
        sms = build_aml_sms([('A"ML', "1"), ("pm", "N"), ("x", "y" * padding)])
        assert parse_aml_sms(sms).positioning_method == "none"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ([("AML", "1"), ("pm", "N")], "not_aml"),
        ([('A"ML', "x"), ("pm", "N")], "bad_version"),
        ([('A"ML', "1"), ("pm", "Z")], "bad_method"),
        ([('A"ML', "1")], "bad_method"),
        ([('A"ML', "1"), ("pm", "G"), ("lg", "106.8")], "missing_field"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "91"), ("lg", "106.8")], "bad_latitude"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "+g4.7d397"), ("lg", "106.8")], "bad_number"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "1"), ("lg", "2"), ("rd", "-1")], "bad_radius"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "1"), ("lg", "2"), ("top", "20261399101500")], "bad_time"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "1"), ("lg", "2"), ("top", "20130717")], "bad_time"),
        ([('A"ML', "1"), ("pm", "G"), ("lt", "1"), ("lg", "2"), ("lc", "101")], "bad_confidence"),
        ([('A"ML', "1"), ("pm", "N"), ("si", "51010123456789X")], "bad_imsi"),
        ([('A"ML', "1"), ("pm", "N"), ("ei", "123")], "bad_imei"),
        ([('A"ML', "1"), ("pm", "N"), ("mcc", "5100")], "bad_mcc"),
        ([('A"ML', "1"), ("pm", "N"), ("pm", "N")], "duplicate_field"),
    ],
)
def test_sms_rejections(fields: list[tuple[str, str]], code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_aml_sms(build_aml_sms(fields))
    assert info.value.code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('A"ML=1;pm=N', "missing_length"),
        ('A"ML=1;pm=N;ml=abc', "bad_length"),
        ('A"ML=1;pm=N;garbage;ml=22', "bad_syntax"),
        ("", "not_aml"),
        ('A"ML=1;' + "x=y;" * 3000, "too_large"),
    ],
)
def test_sms_structural_rejections(text: str, code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_aml_sms(text)
    assert info.value.code == code


def test_unknown_fields_are_ignored() -> None:
    sms = build_aml_sms([('A"ML', "1"), ("lt", "1"), ("lg", "2"), ("pm", "W"), ("zz", "future")])
    message = parse_aml_sms(sms)
    assert message.fix is not None
    assert message.fix.method == "wifi"


def test_alphanumeric_sender_gives_no_caller() -> None:
    message = parse_aml_sms(EXAMPLE, sender="AML-GW")
    assert message.caller_number is None
    assert message.caller_number_raw is None


# --- HTTPS ----------------------------------------------------------------------------------------


def _form(**overrides: str) -> dict[str, str]:
    fields = {
        "v": "3",
        "device_number": "+6281234567890",
        "location_latitude": "-6.28850",
        "location_longitude": "106.71800",
        "location_time": "1795342500000",
        "location_accuracy": "12.5",
        "location_source": "gps",
        "location_certainty": "68",
        "device_model": "Pixel 9",
        "device_imei": "353472104343540",
        "device_imsi": "510101234567890",
        "emergency_number": "112",
    }
    fields.update(overrides)
    return fields


def test_https_form() -> None:
    message = parse_aml_form(_form())
    assert message.channel == "https"
    assert message.version == "3"
    assert message.caller_number == "+6281234567890"
    assert message.fix is not None
    assert (message.fix.lat, message.fix.lon, message.fix.radius_m) == (-6.2885, 106.718, 12.5)
    assert message.fix.measured_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert message.fix.method == "gnss"
    assert message.fix.confidence == 68.0
    assert message.emergency_number == "112"
    assert message.device_model == "Pixel 9"


def test_https_location_time_in_seconds() -> None:
    message = parse_aml_form(_form(location_time="1795342500"))
    assert message.fix is not None
    assert message.fix.measured_at == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)


def test_https_without_location_has_no_fix() -> None:
    fields = _form()
    del fields["location_latitude"]
    del fields["location_longitude"]
    assert parse_aml_form(fields).fix is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"location_latitude": ""}, "missing_field"),
        ({"location_latitude": "abc"}, "bad_number"),
        ({"location_longitude": "200"}, "bad_longitude"),
        ({"location_time": "12"}, "bad_time"),
        ({"location_time": "soon"}, "bad_integer"),
        ({"location_accuracy": "-3"}, "bad_radius"),
        ({"location_certainty": "250"}, "bad_confidence"),
        ({"location_source": "gps; drop"}, "bad_method"),
        ({"device_imei": "35347210434354X"}, "bad_imei"),
        ({"emergency_number": "112<script>"}, "bad_emergency_number"),
        ({"device_model": "x" * 200}, "too_large"),
        ({"padding": "x" * 9000}, "too_large"),
    ],
)
def test_https_rejections(overrides: dict[str, str], code: str) -> None:
    with pytest.raises(IntakeParseError) as info:
        parse_aml_form(_form(**overrides))
    assert info.value.code == code


def test_same_fix_by_sms_and_https_shares_the_dedup_key() -> None:
    sms = parse_aml_sms(
        build_aml_sms(
            [
                ('A"ML', "1"),
                ("lt", "-6.28850"),
                ("lg", "106.71800"),
                ("rd", "12"),
                ("top", "20261122101500"),
                ("lc", "68"),
                ("pm", "G"),
                ("ei", "353472104343540"),
            ]
        )
    )
    https = parse_aml_form(_form(location_accuracy="12.4", location_latitude="-6.288501"))
    assert sms.dedup_key == https.dedup_key
    moved = parse_aml_form(_form(location_latitude="-6.2900"))
    assert moved.dedup_key != https.dedup_key


# --- HMAC -----------------------------------------------------------------------------------------


def test_hmac_good_and_bad() -> None:
    fields = _form()
    fields["hmac"] = compute_aml_hmac(fields, SECRET)
    assert verify_aml_hmac(fields, SECRET) is True
    assert verify_aml_hmac({**fields, "hmac": fields["hmac"].upper()}, SECRET) is True
    assert verify_aml_hmac({**fields, "location_latitude": "-6.30000"}, SECRET) is False
    assert verify_aml_hmac(fields, b"wrong secret") is False
    assert verify_aml_hmac(fields, b"") is False
    assert verify_aml_hmac({k: v for k, v in fields.items() if k != "hmac"}, SECRET) is False
    assert verify_aml_hmac({**fields, "hmac": "zz"}, SECRET) is False
    assert verify_aml_hmac({**fields, "hmac": "é" * 64}, SECRET) is False
    assert verify_aml_hmac({**fields, "extra": "added by an attacker"}, SECRET) is False


def test_hmac_canonical_form_is_documented_and_unambiguous() -> None:
    assert aml_canonical_string({"b": "2", "a": "x y&z=1", "hmac": "ignored"}) == "a=x%20y%26z%3D1&b=2"
    assert aml_canonical_string({"a": "1&b=2"}) != aml_canonical_string({"a": "1", "b": "2"})


def test_hmac_is_independent_of_field_order() -> None:
    fields = _form()
    reversed_fields = dict(reversed(list(fields.items())))
    assert compute_aml_hmac(fields, SECRET) == compute_aml_hmac(reversed_fields, SECRET)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=30)))
def test_sms_any_text(text: str, sender: str | None) -> None:
    try:
        message = parse_aml_sms(text, sender=sender)
    except IntakeParseError as exc:
        assert exc.code
    else:
        assert len(message.raw) == len(text.strip())


_AML_CHARS = st.sampled_from(list('A"ML=1;lt=lg=rd=pm=GWCN top=ml= 0123456789.-+'))


@settings(max_examples=400, deadline=None)
@given(st.lists(_AML_CHARS, max_size=80).map("".join))
def test_sms_like_noise(text: str) -> None:
    with contextlib.suppress(IntakeParseError):
        parse_aml_sms(text)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-9_000_000, 9_000_000),
    st.integers(-18_000_000, 18_000_000),
    st.integers(0, 100_000),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)),
    st.integers(0, 100),
    st.sampled_from(["G", "W", "C"]),
    st.text(alphabet="0123456789", min_size=15, max_size=15),
    st.text(alphabet="0123456789", min_size=15, max_size=15),
)
def test_sms_round_trip(
    lat_e5: int, lon_e5: int, radius: int, top: datetime, confidence: int, method: str, imsi: str, imei: str
) -> None:
    sms = build_aml_sms(
        [
            ('A"ML', "1"),
            ("lt", f"{lat_e5 / 1e5:+.5f}"),
            ("lg", f"{lon_e5 / 1e5:+.5f}"),
            ("rd", str(radius)),
            ("top", top.strftime("%Y%m%d%H%M%S")),
            ("lc", str(confidence)),
            ("pm", method),
            ("si", imsi),
            ("ei", imei),
            ("mcc", "510"),
            ("mnc", "10"),
        ]
    )
    message = parse_aml_sms(sms)
    assert message.fix is not None
    assert message.fix.lat == pytest.approx(lat_e5 / 1e5, abs=1e-9)
    assert message.fix.lon == pytest.approx(lon_e5 / 1e5, abs=1e-9)
    assert message.fix.radius_m == radius
    assert message.fix.measured_at == top.replace(microsecond=0, tzinfo=UTC)
    assert message.fix.confidence == confidence
    assert (message.imsi, message.imei, message.mcc, message.mnc) == (imsi, imei, 510, 10)


form_fields = st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=12)


@settings(max_examples=300, deadline=None)
@given(form_fields)
def test_form_any_fields(fields: dict[str, str]) -> None:
    try:
        parse_aml_form(fields)
    except IntakeParseError as exc:
        assert exc.code


@settings(max_examples=300)
@given(form_fields, st.binary(min_size=1, max_size=64))
def test_hmac_round_trip_and_tamper(fields: dict[str, str], secret: bytes) -> None:
    signed = {**fields, "hmac": compute_aml_hmac(fields, secret)}
    assert verify_aml_hmac(signed, secret) is True
    tampered = {**signed, "location_latitude": signed.get("location_latitude", "") + "1"}
    assert verify_aml_hmac(tampered, secret) is False


@settings(max_examples=300)
@given(form_fields, st.binary(max_size=64))
def test_hmac_verify_never_raises(fields: dict[str, str], secret: bytes) -> None:
    # Arbitrary fields (an 'hmac' among them is random text) never verify; the same fields signed verify exactly when
    # there is a secret to sign with.
    assert verify_aml_hmac(fields, secret) is False
    signed = {**fields, "hmac": compute_aml_hmac(fields, secret)}
    assert verify_aml_hmac(signed, secret) is bool(secret)
