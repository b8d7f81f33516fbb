"""Advanced Mobile Location (ETSI TS 103 625): the handset's own fix, by SMS or HTTPS.

SMS (TS 103 625 clause 7.5, version 1): ``;``-separated ``key=value`` fields, starting with
``A"ML=1``::

    A"ML=1;lt=-6.28850;lg=106.71800;rd=50;top=20261122101500;lc=68;pm=G;si=...;ei=...;mcc=510;mnc=10;ml=124

==== =====================================================================================
lt   latitude, decimal degrees (WGS 84)
lg   longitude, decimal degrees
rd   radius of the uncertainty circle, metres
top  time of positioning, ``YYYYMMDDhhmmss``, UTC
lc   level of confidence, percent
pm   positioning method: ``G`` GNSS, ``W`` Wi-Fi, ``C`` cell, ``N`` no location
si   IMSI (15 digits at most)
ei   IMEI (14-16 digits, IMEISV included)
mcc  network MCC; mnc: network MNC
ml   length of the whole message in characters, ``ml=...`` included; checked here
==== =====================================================================================

``pm=N`` is a valid message without a fix (the location fields may then be empty or absent).
Surrounding blanks and line endings added by SMS gateways are stripped before the length check.
Unknown keys are ignored (later versions add fields); repeated keys are rejected.

HTTPS (clause 7.6; the Android Emergency Location Service form POST): fields ``v``,
``device_number``, ``location_latitude``, ``location_longitude``, ``location_time``,
``location_accuracy`` (metres), ``location_source`` (e.g. ``gps``, ``wifi``, ``cell``),
``location_certainty`` (percent), ``device_model``, ``device_imei``, ``device_imsi``,
``emergency_number`` and ``hmac``. ``location_time`` is Unix time; values of 10^11 and above are
read as milliseconds (Android sends milliseconds; 10^11 seconds is the year 5138).

HMAC canonical form (our choice; the standard leaves the scheme to the national deployment):
every received field except ``hmac``, sorted by name (Unicode code point order, which is the
byte order of UTF-8), each written ``quote(name)=quote(value)`` with RFC 3986 percent-encoding of
everything but unreserved characters (UTF-8, ``urllib.parse.quote(..., safe="")``), joined with
``&``. ``hmac`` = lower-case hex HMAC-SHA256 of that string's UTF-8 bytes under the shared secret;
upper-case hex is accepted. Percent-encoding makes the form unambiguous (``a=1&b=2`` cannot be
forged from a value containing ``&``), and sorting makes it independent of field order.

``dedup_key``: SHA-256 over the device identity (IMEI, else IMSI, else the caller's E.164 number),
the fix rounded to what the SMS carries (5 decimals, whole metres, whole seconds) and the method.
The channel is left out, so the same fix arriving by SMS and HTTPS gets the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ntpd112.intake.errors import MAX_INPUT_BYTES, IntakeParseError, check_input_size
from ntpd112.intake.geoloc import LocationFix, make_fix
from ntpd112.intake.lexical import is_ascii_digits, parse_decimal, parse_integer
from ntpd112.intake.numbering import normalize_phone_number

AmlChannel = Literal["sms", "https"]

SMS_HEADER_KEY = 'A"ML'
HMAC_FIELD = "hmac"
_SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "N": "none"}
_HTTPS_METHODS = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell", "network": "cell"}
_METHOD_TOKEN = re.compile(r"[A-Za-z0-9_\-]{1,32}")
_MILLISECONDS_FROM = 10**11
_MAX_TEXT_FIELD = 128


class AmlMessage(BaseModel):
    """One AML message, from either channel."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: AmlChannel
    version: str | None
    caller_number: str | None  # E.164 when the sender/device number is a valid number
    caller_number_raw: str | None
    fix: LocationFix | None
    positioning_method: str | None  # 'gnss', 'wifi', 'cell', 'none' or the sender's token
    imsi: str | None
    imei: str | None
    mcc: int | None
    mnc: int | None
    emergency_number: str | None
    device_model: str | None
    raw: str
    dedup_key: str


def parse_aml_sms(text: str, *, sender: str | None = None) -> AmlMessage:
    """Parse an AML SMS body; ``sender`` is the originating address reported by the SMSC."""
    check_input_size(text, "AML SMS")
    message = text.strip()
    if not message.startswith(SMS_HEADER_KEY + "="):
        raise IntakeParseError("not_aml", 'AML SMS must start with A"ML=')
    fields: dict[str, str] = {}
    for part in message.split(";"):
        key, equals, value = part.partition("=")
        if not equals:
            raise IntakeParseError("bad_syntax", f"field without '=': {part[:20]!r}")
        if key in fields:
            raise IntakeParseError("duplicate_field", f"field {key[:20]!r} repeated")
        fields[key] = value
    version = fields[SMS_HEADER_KEY]
    if not is_ascii_digits(version) or len(version) > 3:
        raise IntakeParseError("bad_version", f"version {version[:10]!r} is not a number")
    _check_declared_length(message, fields.get("ml"))

    method_code = fields.get("pm", "")
    if method_code not in _SMS_METHODS:
        raise IntakeParseError("bad_method", f"positioning method {method_code[:10]!r} is not G, W, C or N")
    method = _SMS_METHODS[method_code]
    fix: LocationFix | None = None
    if method != "none":
        fix = make_fix(
            source="aml",
            lat=_required_decimal(fields, "lt", "latitude"),
            lon=_required_decimal(fields, "lg", "longitude"),
            radius_m=_optional_decimal(fields.get("rd"), "radius"),
            confidence=_optional_percent(fields.get("lc")),
            method=method,
            measured_at=_parse_time_of_positioning(fields.get("top")),
            raw=message,
            shape="Circle",
        )
    imsi = _digits_or_none(fields.get("si"), "IMSI", 5, 15)
    imei = _digits_or_none(fields.get("ei"), "IMEI", 14, 16)
    mcc_text = _digits_or_none(fields.get("mcc"), "MCC", 3, 3)
    mnc_text = _digits_or_none(fields.get("mnc"), "MNC", 2, 3)
    caller_raw, caller_e164 = _caller(sender)
    return AmlMessage(
        channel="sms",
        version=version,
        caller_number=caller_e164,
        caller_number_raw=caller_raw,
        fix=fix,
        positioning_method=method,
        imsi=imsi,
        imei=imei,
        mcc=int(mcc_text) if mcc_text else None,
        mnc=int(mnc_text) if mnc_text else None,
        emergency_number=None,
        device_model=None,
        raw=message,
        dedup_key=_dedup_key(imei, imsi, caller_e164, fix, method),
    )


def aml_canonical_string(fields: Mapping[str, str]) -> str:
    """The string the HMAC covers (see the module docstring)."""
    items = sorted((name, value) for name, value in fields.items() if name != HMAC_FIELD)
    return "&".join(f"{_percent(name)}={_percent(value)}" for name, value in items)


def compute_aml_hmac(fields: Mapping[str, str], secret: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of the canonical string."""
    canonical = aml_canonical_string(fields).encode("utf-8")
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def verify_aml_hmac(fields: Mapping[str, str], secret: bytes) -> bool:
    """True when ``fields['hmac']`` matches (constant-time compare). Never raises: oversized or
    malformed input and an empty secret simply fail verification."""
    provided = fields.get(HMAC_FIELD)
    if not secret or not provided or len(provided) > 128:
        return False
    try:
        _check_form_size(fields)
    except IntakeParseError:
        return False
    expected = compute_aml_hmac(fields, secret).encode("ascii")
    return hmac.compare_digest(expected, provided.strip().lower().encode("utf-8", "surrogatepass"))


def parse_aml_form(fields: Mapping[str, str]) -> AmlMessage:
    """Parse the HTTPS form fields (after the HMAC was checked with ``verify_aml_hmac``)."""
    _check_form_size(fields)
    version = _text_field(fields, "v")
    lat_text = _text_field(fields, "location_latitude")
    lon_text = _text_field(fields, "location_longitude")
    method = _https_method(_text_field(fields, "location_source"))
    fix: LocationFix | None = None
    if lat_text is not None or lon_text is not None:
        if lat_text is None or lon_text is None:
            raise IntakeParseError("missing_field", "latitude and longitude must come together")
        fix = make_fix(
            source="aml",
            lat=parse_decimal(lat_text, "location_latitude"),
            lon=parse_decimal(lon_text, "location_longitude"),
            radius_m=_optional_decimal(_text_field(fields, "location_accuracy"), "location_accuracy"),
            confidence=_optional_percent(_text_field(fields, "location_certainty")),
            method=method,
            measured_at=_parse_epoch(_text_field(fields, "location_time")),
            raw=aml_canonical_string(fields),
            shape="Circle",
        )
    imsi = _digits_or_none(_text_field(fields, "device_imsi"), "IMSI", 5, 15)
    imei = _digits_or_none(_text_field(fields, "device_imei"), "IMEI", 14, 16)
    caller_raw, caller_e164 = _caller(_text_field(fields, "device_number"))
    emergency_number = _text_field(fields, "emergency_number")
    if emergency_number is not None and not re.fullmatch(r"[0-9*#+]{1,15}", emergency_number):
        raise IntakeParseError("bad_emergency_number", "emergency_number is not a dial string")
    return AmlMessage(
        channel="https",
        version=version,
        caller_number=caller_e164,
        caller_number_raw=caller_raw,
        fix=fix,
        positioning_method=method,
        imsi=imsi,
        imei=imei,
        mcc=None,
        mnc=None,
        emergency_number=emergency_number,
        device_model=_printable(_text_field(fields, "device_model")),
        raw=aml_canonical_string(fields),
        dedup_key=_dedup_key(imei, imsi, caller_e164, fix, method),
    )


def _check_declared_length(message: str, declared: str | None) -> None:
    if declared is None:
        raise IntakeParseError("missing_length", "no ml= field")
    if not is_ascii_digits(declared) or len(declared) > 5:
        raise IntakeParseError("bad_length", f"ml={declared[:10]!r} is not a number")
    if int(declared) != len(message):
        raise IntakeParseError("bad_length", f"ml={declared} but the message has {len(message)} characters")


def _required_decimal(fields: Mapping[str, str], key: str, what: str) -> float:
    value = fields.get(key)
    if not value:
        raise IntakeParseError("missing_field", f"{what} ({key}) missing")
    return parse_decimal(value, what)


def _optional_decimal(value: str | None, what: str) -> float | None:
    if not value:
        return None
    return parse_decimal(value, what)


def _optional_percent(value: str | None) -> float | None:
    if not value:
        return None
    percent = parse_decimal(value, "confidence")
    if not 0.0 <= percent <= 100.0:
        raise IntakeParseError("bad_confidence", f"confidence {percent!r} outside 0..100 %")
    return percent


def _parse_time_of_positioning(value: str | None) -> datetime | None:
    if not value:
        return None
    if len(value) != 14 or not is_ascii_digits(value):
        raise IntakeParseError("bad_time", f"top={value[:20]!r} is not YYYYMMDDhhmmss")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise IntakeParseError("bad_time", f"top={value} is not a calendar date-time") from None


def _parse_epoch(value: str | None) -> datetime | None:
    if value is None:
        return None
    number = parse_integer(value, "location_time")
    seconds = number / 1000 if number >= _MILLISECONDS_FROM else float(number)
    # 2000-01-01 .. 2100-01-01: anything outside is a broken clock, not a fix time.
    if not 946_684_800 <= seconds <= 4_102_444_800:
        raise IntakeParseError("bad_time", f"location_time {value[:20]} outside 2000..2100")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _https_method(value: str | None) -> str | None:
    if value is None:
        return None
    if not _METHOD_TOKEN.fullmatch(value):
        raise IntakeParseError("bad_method", f"location_source {value[:20]!r} is not a token")
    lowered = value.lower()
    return _HTTPS_METHODS.get(lowered, lowered)


def _digits_or_none(value: str | None, what: str, shortest: int, longest: int) -> str | None:
    if not value:
        return None
    if not is_ascii_digits(value) or not shortest <= len(value) <= longest:
        raise IntakeParseError(f"bad_{what.lower()}", f"{what} must be {shortest}-{longest} digits")
    return value


def _caller(number: str | None) -> tuple[str | None, str | None]:
    if not number:
        return None, None
    try:
        normalized = normalize_phone_number(number)
    except IntakeParseError:
        # An alphanumeric or garbage originator is no caller number; the fix still counts.
        return None, None
    return normalized.raw, normalized.e164


def _text_field(fields: Mapping[str, str], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    stripped = value.strip()
    if len(stripped) > _MAX_TEXT_FIELD:
        raise IntakeParseError("too_large", f"{name} longer than {_MAX_TEXT_FIELD} characters")
    return stripped or None


def _printable(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(char for char in value if char.isprintable()).strip()
    return cleaned or None


def _check_form_size(fields: Mapping[str, str]) -> None:
    size = sum(len(name) + len(value) + 2 for name, value in fields.items())
    if size > MAX_INPUT_BYTES:
        raise IntakeParseError("too_large", f"AML form is {size} characters, limit is {MAX_INPUT_BYTES}")


def _percent(text: str) -> str:
    return urllib.parse.quote(text, safe="", encoding="utf-8", errors="surrogatepass")


def _dedup_key(
    imei: str | None, imsi: str | None, caller_e164: str | None, fix: LocationFix | None, method: str | None
) -> str:
    identity = imei or imsi or caller_e164 or ""
    if fix is None:
        content: list[object] = [identity, None, None, None, None, method]
    else:
        content = [
            identity,
            round(fix.lat, 5),
            round(fix.lon, 5),
            round(fix.radius_m) if fix.radius_m is not None else None,
            int(fix.measured_at.timestamp()) if fix.measured_at is not None else None,
            method,
        ]
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode("utf-8")).hexdigest()
