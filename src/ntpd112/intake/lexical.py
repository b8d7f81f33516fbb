"""Strict ASCII number lexing shared by the parsers.

Python's ``int()`` and ``float()`` accept far more than the wire formats allow: Unicode digits
(``'١٢'``), underscores (``'1_0'``), ``'nan'``, ``'inf'`` and surrounding whitespace. Every numeric
field is therefore matched against an explicit ASCII grammar first.
"""

from __future__ import annotations

import math
import re

from ntpd112.intake.errors import IntakeParseError

_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def parse_decimal(text: str, what: str) -> float:
    """Parse a finite decimal number (optionally signed, optional exponent)."""
    candidate = text.strip()
    if not _DECIMAL.fullmatch(candidate):
        raise IntakeParseError("bad_number", f"{what} is not a decimal number: {text[:40]!r}")
    value = float(candidate)
    if not math.isfinite(value):
        raise IntakeParseError("bad_number", f"{what} is not finite: {text[:40]!r}")
    return value


def parse_integer(text: str, what: str) -> int:
    """Parse an optionally signed ASCII decimal integer of at most 18 digits."""
    candidate = text.strip()
    if not _INTEGER.fullmatch(candidate):
        raise IntakeParseError("bad_integer", f"{what} is not an integer: {text[:40]!r}")
    return int(candidate)


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits (no sign, no Unicode digits)."""
    return _DIGITS.fullmatch(text) is not None


def parse_hex_field(text: str, digits: int, what: str) -> int:
    """Parse exactly ``digits`` hexadecimal characters."""
    if len(text) != digits or not _HEX.fullmatch(text):
        raise IntakeParseError("bad_hex", f"{what} must be {digits} hex digits: {text[:40]!r}")
    return int(text, 16)
