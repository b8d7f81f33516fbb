"""Calling numbers in the form a trunk presents them, read into E.164; and E.164 written back in that form.

Carriers and exchanges present the calling number differently, so each trunk says how (trunks.toml, ``numbers``).
The trunk's format decides what the digits mean; libphonenumber then decides whether the result is a real number.
A number outside the trunk's format, invalid once read, or with two valid readings that disagree keeps its raw
digits and a problem that says why: never a made-up E.164.

Formats, with a Jakarta fixed line (021 555 1234) as the example:

* ``e164``: ``+62215551234``
* ``international``: ``62215551234`` (country code without ``+``)
* ``national``: ``0215551234`` (trunk prefix 0); a foreign caller as ``00`` + country code + number
* ``national_without_prefix``: ``215551234``; a foreign caller as ``00`` + country code + number
* ``auto`` (the default): any of these, guessed from the digits (see ``_choose``)

Whatever the format, a leading ``+`` is unambiguous and accepted. Before reading, the longest of the trunk's
``strip_prefixes`` that the number starts with is removed (routing prefixes some exchanges put in front).
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

from ntpd112.intake.errors import IntakeParseError

NumberFormat = Literal["auto", "e164", "international", "national", "national_without_prefix"]
ProblemCode = Literal["format_mismatch", "invalid_number", "ambiguous_number"]
Reading = Literal["e164", "international", "international_prefix", "national", "national_without_prefix"]

HOME_REGION = "ID"
HOME_COUNTRY_CODE = phonenumbers.country_code_for_region(HOME_REGION)
NATIONAL_PREFIX = "0"
# The ITU-T E.164 international prefix; national-format trunks present foreign callers with it.
INTERNATIONAL_PREFIX = "00"
MAX_DIAL_STRING_CHARS = 64
# E.164 allows 15 digits; national formats with prefixes stay well within 20.
_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_VISUAL_SEPARATORS = str.maketrans("", "", " \t-.()/")

StripPrefix = Annotated[str, Field(min_length=1, max_length=11, pattern=r"^\+?[0-9]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CallerNumbering(_Frozen):
    """How a trunk presents calling numbers (and expects called numbers back)."""

    format: NumberFormat = "auto"
    strip_prefixes: tuple[StripPrefix, ...] = Field((), max_length=20)


AUTO_NUMBERING = CallerNumbering()


class NumberProblem(_Frozen):
    code: ProblemCode
    message: str


class NormalizedNumber(_Frozen):
    """A dial string with separators removed and, when valid, its E.164 form and how it was read."""

    raw: str
    e164: str | None
    country_code: int | None
    read_as: Reading | None = None
    problem: NumberProblem | None = None


def strip_visual_separators(text: str) -> str:
    """Remove RFC 3966 visual separators (and blanks/slashes seen in the wild)."""
    return text.translate(_VISUAL_SEPARATORS)


def normalize_phone_number(text: str, numbering: CallerNumbering = AUTO_NUMBERING) -> NormalizedNumber:
    """Read a calling number as the trunk presents it (``0812-3456-7890``, ``62812...``, ``+62812...``).

    Raises IntakeParseError when ``text`` is not a dial string at all. A dial string that does not fit the trunk's
    format, or whose reading libphonenumber does not consider valid, or that is ambiguous, yields ``e164=None``
    and a ``problem``.
    """
    if len(text) > MAX_DIAL_STRING_CHARS:
        raise IntakeParseError("not_a_number", f"dial string longer than {MAX_DIAL_STRING_CHARS} characters")
    raw = strip_visual_separators(text.strip())
    if not _NUMBER.fullmatch(raw):
        raise IntakeParseError("not_a_number", f"not a dial string: {text[:40]!r}")
    digits = _strip_prefix(raw, numbering.strip_prefixes)
    readings = _readings(digits, numbering.format)
    if not readings:
        return _unread(raw, "format_mismatch", f"{digits!r} is not in the trunk's number format {numbering.format}")
    valid = [(reading, parsed) for reading, parsed in readings if parsed is not None]
    if not valid:
        tried = ", ".join(f"{_candidate(digits, reading)} ({reading})" for reading, _ in readings)
        return _unread(raw, "invalid_number", f"{digits!r} is not a valid number read as {tried}")
    chosen = _choose(valid)
    if chosen is None:
        tried = " or ".join(f"{_e164(parsed)} ({reading})" for reading, parsed in valid)
        message = f"{digits!r} reads as {tried}; set the trunk's number format"
        return _unread(raw, "ambiguous_number", message)
    reading, parsed = chosen
    return NormalizedNumber(raw=raw, e164=_e164(parsed), country_code=parsed.country_code, read_as=reading)


def trunk_dial_string(e164: str | None, raw: str | None, numbering: CallerNumbering) -> str | None:
    """The number to dial through a trunk to reach a caller: the E.164 number in the trunk's format.

    An ``auto`` trunk (its format unknown) or a caller without a valid E.164 number gets the raw number back, as
    the trunk presented it. Prefixes stripped from incoming numbers are not added back.
    """
    if e164 is None or numbering.format == "auto":
        return raw
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return raw  # a stored number this module did not write: dial what the trunk sent
    national = phonenumbers.national_significant_number(parsed)
    home = parsed.country_code == HOME_COUNTRY_CODE
    match numbering.format:
        case "e164":
            return e164
        case "international":
            return e164.removeprefix("+")
        case "national":
            return NATIONAL_PREFIX + national if home else INTERNATIONAL_PREFIX + e164.removeprefix("+")
        case "national_without_prefix":
            return national if home else INTERNATIONAL_PREFIX + e164.removeprefix("+")


def _strip_prefix(raw: str, prefixes: tuple[str, ...]) -> str:
    for prefix in sorted(prefixes, key=len, reverse=True):
        if raw.startswith(prefix) and len(raw) > len(prefix):
            return raw[len(prefix) :]
    return raw


def _shape_readings(digits: str) -> tuple[Reading, ...]:
    """Every reading the digits' shape allows. A national number never starts with 0 once its trunk prefix is
    off, and no country code starts with 0, so ``+``, ``00`` and ``0`` each allow one reading only."""
    if digits.startswith("+"):
        return ("e164",)
    if digits.startswith(INTERNATIONAL_PREFIX):
        return ("international_prefix",)
    if digits.startswith(NATIONAL_PREFIX):
        return ("national",)
    return ("national_without_prefix", "international")


# Which readings each format accepts; a `+` is unambiguous whatever the trunk claims.
_ACCEPTED: dict[NumberFormat, frozenset[Reading]] = {
    "auto": frozenset({"e164", "international_prefix", "national", "national_without_prefix", "international"}),
    "e164": frozenset({"e164"}),
    "international": frozenset({"e164", "international"}),
    "national": frozenset({"e164", "international_prefix", "national"}),
    "national_without_prefix": frozenset({"e164", "international_prefix", "national_without_prefix"}),
}


def _candidate(digits: str, reading: Reading) -> str:
    match reading:
        case "e164":
            return digits
        case "international":
            return "+" + digits
        case "international_prefix":
            return "+" + digits.removeprefix(INTERNATIONAL_PREFIX)
        case "national":
            return f"+{HOME_COUNTRY_CODE}{digits.removeprefix(NATIONAL_PREFIX)}"
        case "national_without_prefix":
            return f"+{HOME_COUNTRY_CODE}{digits}"


def _readings(digits: str, number_format: NumberFormat) -> list[tuple[Reading, phonenumbers.PhoneNumber | None]]:
    """The readings the format allows for these digits, each with its number when libphonenumber calls it valid."""
    accepted = [reading for reading in _shape_readings(digits) if reading in _ACCEPTED[number_format]]
    return [(reading, _valid_number(_candidate(digits, reading))) for reading in accepted]


@functools.lru_cache(maxsize=4096)
def _valid_number(candidate: str) -> phonenumbers.PhoneNumber | None:
    # Every candidate starts with "+": libphonenumber's own guess (the country code of bare digits that start with
    # the home one, as in 62215551234 -> +6262215551234) never runs. Remembered (the result is only read, never
    # changed): a call's number is read from its P-Asserted-Identity and again from its caller id, and libphonenumber
    # was a tenth of intake's CPU under load.
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def _choose(
    valid: list[tuple[Reading, phonenumbers.PhoneNumber]],
) -> tuple[Reading, phonenumbers.PhoneNumber] | None:
    """One valid reading, or None when the digits are ambiguous.

    Only bare digits in an ``auto`` trunk can have two valid readings: national without the trunk prefix and
    international without ``+``. When they agree, or only one is an Indonesian number, the Indonesian one wins (a
    112 call on an Indonesian trunk: ``81234567890`` is Telkomsel, not Japan's +81 23 456 7890, as before
    formats existed). Two different Indonesian numbers (``62215551234``: Jakarta +62 21 555 1234 or
    Pematangsiantar +62 622 1555 1234) are ambiguous.
    """
    if len({_e164(parsed) for _, parsed in valid}) == 1:
        return valid[0]
    home = [(reading, parsed) for reading, parsed in valid if parsed.country_code == HOME_COUNTRY_CODE]
    return home[0] if len(home) == 1 else None


def _e164(parsed: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _unread(raw: str, code: ProblemCode, message: str) -> NormalizedNumber:
    return NormalizedNumber(raw=raw, e164=None, country_code=None, problem=NumberProblem(code=code, message=message))
