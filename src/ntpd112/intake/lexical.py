"""Lexing shared by the parsers: strict ASCII numbers and quoted strings.

Python's ``int()`` and ``float()`` accept far more than the wire formats allow: Unicode digits
(``'١٢'``), underscores (``'1_0'``), ``'nan'``, ``'inf'`` and surrounding whitespace. Every numeric
field is therefore matched against an explicit ASCII grammar first.

Quoted strings follow RFC 3261 clause 25.1 (``quoted-pair``): inside the quotes a backslash takes the next character
literally. SIP headers (identity, PANI) and Asterisk's variable lists (geoloc) all use this one reading.
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


def read_quoted(text: str, start: int) -> tuple[str, int] | None:
    """Read the quoted string opening at ``text[start]`` (that same character closes it).

    Returns the content with its backslash escapes resolved and the index just after the closing quote, or None
    when the quote is not closed (a backslash at the very end escapes nothing).
    """
    quote = text[start]
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    return None


def split_outside_quotes(text: str, separator: str, *, angle_brackets: bool = False) -> list[str] | None:
    """Split ``text`` on ``separator`` where it is outside double-quoted strings (and, with ``angle_brackets``,
    outside ``<...>``, as in SIP address lists). Parts are stripped and keep their quotes and escapes; None when a
    quoted string is not closed."""
    parts: list[str] = []
    start = index = 0
    in_brackets = False
    while index < len(text):
        char = text[index]
        if char == '"':
            quoted = read_quoted(text, index)
            if quoted is None:
                return None
            index = quoted[1]
            continue
        if angle_brackets and char in "<>":
            in_brackets = char == "<"
        elif char == separator and not in_brackets:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    parts.append(text[start:])
    return [part.strip() for part in parts]
