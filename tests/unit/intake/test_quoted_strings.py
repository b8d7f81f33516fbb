"""The one quoted-string tokenizer that identity, PANI and geoloc share (intake/lexical.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntpd112.intake.lexical import read_quoted, split_outside_quotes


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ('"abc" rest', 0, ("abc", 5)),
        ('x="a, b",y', 2, ("a, b", 8)),
        ('"say \\"hi\\""', 0, ('say "hi"', 12)),
        ('"back\\\\slash"', 0, ("back\\slash", 13)),
        # RFC 3261 quoted-pair: a backslash takes any next character literally.
        ('"\\q"', 0, ("q", 4)),
        ("'single \"inner\"'", 0, ('single "inner"', 16)),
        ('""', 0, ("", 2)),
    ],
)
def test_read_quoted(text: str, start: int, expected: tuple[str, int]) -> None:
    assert read_quoted(text, start) == expected


@pytest.mark.parametrize("text", ['"open', '"escaped end\\"', '"trailing backslash\\', "'mixed\""])
def test_read_quoted_unclosed_is_none(text: str) -> None:
    assert read_quoted(text, 0) is None


def test_split_keeps_quoted_separators_and_strips_parts() -> None:
    assert split_outside_quotes(' a ; b="x;y" ;c', ";") == ["a", 'b="x;y"', "c"]
    assert split_outside_quotes('a="q\\";r";b', ";") == ['a="q\\";r"', "b"]


def test_split_reports_empty_parts_as_empty_strings() -> None:
    assert split_outside_quotes("a,,b,", ",") == ["a", "", "b", ""]
    assert split_outside_quotes("", ",") == [""]


def test_split_with_angle_brackets_as_in_sip_address_lists() -> None:
    value = '"Budi, S" <sip:+62811@h;x=a,b>, <tel:+62812>'
    assert split_outside_quotes(value, ",", angle_brackets=True) == ['"Budi, S" <sip:+62811@h;x=a,b>', "<tel:+62812>"]
    # Without the bracket rule the comma inside <...> splits.
    assert split_outside_quotes("<a,b>", ",") == ["<a", "b>"]


def test_split_unclosed_quote_is_none() -> None:
    assert split_outside_quotes('a;b="x', ";") is None
    assert split_outside_quotes('<sip:"x@h>', ",", angle_brackets=True) is None


@settings(max_examples=300)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters='";\\'), max_size=8), min_size=1, max_size=6))
def test_split_inverts_join_of_unquoted_parts(parts: list[str]) -> None:
    assert split_outside_quotes(";".join(parts), ";") == [part.strip() for part in parts]


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_read_quoted_inverts_escaping(content: str) -> None:
    quoted = '"' + content.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert read_quoted(quoted + "tail", 0) == (content, len(quoted))
