"""Caller identity from the INVITE: P-Asserted-Identity, From and the channel's caller id.

Standards used:

* RFC 3261 clause 20.10 / 25.1: ``name-addr = [display-name] "<" addr-spec ">"``; an
  ``addr-spec`` without angle brackets ends at the first ``;`` (those are header parameters).
* RFC 3325 clause 9.1: P-Asserted-Identity carries one or two values (a SIP/SIPS URI and/or a tel
  URI), comma separated. The network asserted it, so it is preferred over From.
* RFC 3323 clause 4.2: an anonymous From is ``"Anonymous" <sip:anonymous@anonymous.invalid>``;
  ``Privacy: id`` (RFC 3325 clause 9.3) asks that the asserted identity is not shown.
* RFC 3966 clause 5.1.1: visual separators ``-``, ``.``, ``(``, ``)`` in telephone numbers.

Numbers are read in the format of the trunk the call came in on (``numbering.py``); a number that
cannot be read there keeps its raw digits, with the reason in ``problems``.

Presentation. ``withheld`` means the caller asked to hide the number (anonymous/restricted/private
user, the ``anonymous.invalid`` host, or ``Privacy: id``); the number is still extracted when the
network asserted it, because a PSAP is entitled to it -- whether to display it is the renderer's
decision. ``unknown`` means no number is available and nothing says it was hidden (empty user,
``unknown``, ``unavailable``, garbage). ``allowed`` means a number was found and nothing hides it.

``identify_caller`` never raises for hostile input: each source that fails to parse is reported
in ``problems`` and the next source is tried (PAI, then From, then the channel caller).
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ntpd112.intake.errors import MAX_INPUT_BYTES, IntakeParseError, check_input_size
from ntpd112.intake.lexical import read_quoted, split_outside_quotes
from ntpd112.intake.numbering import (
    AUTO_NUMBERING,
    HOME_COUNTRY_CODE,
    CallerNumbering,
    NormalizedNumber,
    Reading,
    normalize_phone_number,
)

Source = Literal["pai", "from", "channel"]
Presentation = Literal["allowed", "withheld", "unknown"]

MAX_DISPLAY_NAME_CHARS = 128
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_WITHHELD_USERS = frozenset({"anonymous", "restricted", "private", "withheld", "anonymous.invalid"})
_UNKNOWN_USERS = frozenset({"", "unknown", "unavailable"})
_ANONYMOUS_HOST = "anonymous.invalid"
# Bidirectional and other invisible format controls: harmless in a database, misleading on screen.
_INVISIBLE_FORMAT_CHARS = frozenset(
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SipAddress(_Frozen):
    """One parsed name-addr or addr-spec."""

    display_name: str | None
    uri: str
    scheme: str
    user: str | None
    host: str | None


class CallerIdentity(_Frozen):
    """Who called, as far as the signalling tells."""

    raw_value: str
    source: Source
    number_raw: str | None
    number_e164: str | None
    number_read_as: Reading | None
    presentation: Presentation
    display_name: str | None
    is_foreign: bool
    country_code: int | None
    problems: list[str]


def sanitize_display_name(text: str | None) -> str | None:
    """Plain text fit for storage: control and invisible bidi characters removed, blanks
    collapsed, at most 128 characters. Markup or SQL stay as literal text (escaping is the
    renderer's job)."""
    if text is None:
        return None
    kept = []
    # Bound the work on hostile input; far more than 128 visible characters survive this cut.
    for char in text[:MAX_INPUT_BYTES]:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _INVISIBLE_FORMAT_CHARS:
            kept.append(" " if char in "\t\r\n" else "")
        else:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    cleaned = cleaned[:MAX_DISPLAY_NAME_CHARS].strip()
    return cleaned or None


def privacy_hides_identity(privacy: str | None) -> bool:
    """True when a Privacy header value (RFC 3323 clause 4.2) contains the ``id`` token."""
    if not privacy:
        return False
    tokens = re.split(r"[;,\s]+", privacy.strip().lower())
    return "id" in tokens


def parse_address_header(value: str) -> list[SipAddress]:
    """Parse a From / P-Asserted-Identity value into its addresses (at least one).

    Raises IntakeParseError on anything that is not a well formed list of name-addr/addr-spec.
    """
    check_input_size(value, "address header")
    entries = _split_address_list(value)
    addresses = [_parse_address(entry) for entry in entries]
    if not addresses:
        raise IntakeParseError("empty", "address header is empty")
    return addresses


def identify_caller(
    pai: str | None,
    from_header: str | None,
    channel_number: str | None,
    channel_name: str | None,
    privacy: str | None = None,
    numbering: CallerNumbering = AUTO_NUMBERING,
) -> CallerIdentity:
    """Decide who called: P-Asserted-Identity, else From, else the channel caller, every number read in the
    trunk's ``numbering``.

    The first source that yields a valid number wins; failing that, the first that yields any dial
    string; failing that, the first that says the number is withheld; failing that, the first
    source that parsed. Parse problems are listed in ``problems``; never raises on hostile input.
    """
    problems: list[str] = []
    candidates: list[_Candidate] = []
    header_sources: tuple[tuple[Source, str | None], ...] = (("pai", pai), ("from", from_header))
    for source, raw in header_sources:
        if raw is None:
            continue
        candidate = _candidate_from_header(source, raw, numbering, problems)
        if candidate is not None:
            candidates.append(candidate)
    candidates.append(_candidate_from_channel(channel_number, channel_name, numbering, problems))

    chosen = (
        next((c for c in candidates if c.number is not None and c.number.e164 is not None), None)
        or next((c for c in candidates if c.number is not None), None)
        or next((c for c in candidates if c.status == "withheld"), None)
        or candidates[0]
    )
    withheld = privacy_hides_identity(privacy) or any(c.status == "withheld" for c in candidates)
    presentation: Presentation
    if withheld:
        presentation = "withheld"
    elif chosen.number is not None:
        presentation = "allowed"
    else:
        presentation = "unknown"

    display_name = chosen.display_name or next(
        (c.display_name for c in candidates if c.display_name and c.display_name.lower() not in _WITHHELD_USERS),
        None,
    )
    number = chosen.number
    country_code = number.country_code if number is not None else None
    return CallerIdentity(
        raw_value=chosen.raw,
        source=chosen.source,
        number_raw=number.raw if number is not None else None,
        number_e164=number.e164 if number is not None else None,
        number_read_as=number.read_as if number is not None else None,
        presentation=presentation,
        display_name=display_name,
        is_foreign=country_code is not None and country_code != HOME_COUNTRY_CODE,
        country_code=country_code,
        problems=problems,
    )


class _Candidate(_Frozen):
    source: Source
    raw: str
    status: Literal["number", "withheld", "unknown"]
    number: NormalizedNumber | None
    display_name: str | None


def _candidate_from_header(
    source: Source, raw: str, numbering: CallerNumbering, problems: list[str]
) -> _Candidate | None:
    try:
        addresses = parse_address_header(raw)
    except IntakeParseError as exc:
        problems.append(f"{source}: {exc.code}: {exc.message}")
        return None
    # RFC 3325 allows a SIP URI and a tel URI; use the first that carries a dial string.
    best: _Candidate | None = None
    for address in addresses:
        candidate = _candidate_from_user(
            source,
            raw,
            address.user,
            address.host,
            sanitize_display_name(address.display_name),
            numbering,
            problems,
        )
        if best is None or (best.number is None and candidate.number is not None):
            best = candidate
    return best


def _candidate_from_channel(
    number: str | None, name: str | None, numbering: CallerNumbering, problems: list[str]
) -> _Candidate:
    raw = number or ""
    display = sanitize_display_name(name)
    if len(raw) > 256:
        problems.append("channel: too_large: caller number longer than 256 characters")
        return _Candidate(source="channel", raw="", status="unknown", number=None, display_name=display)
    return _candidate_from_user("channel", raw, raw, None, display, numbering, problems)


def _candidate_from_user(
    source: Source,
    raw: str,
    user: str | None,
    host: str | None,
    display_name: str | None,
    numbering: CallerNumbering,
    problems: list[str],
) -> _Candidate:
    user_key = (user or "").strip().lower()
    if user_key in _WITHHELD_USERS or (host or "").lower() == _ANONYMOUS_HOST:
        status: Literal["number", "withheld", "unknown"] = "withheld"
    elif user_key in _UNKNOWN_USERS:
        status = "unknown"
    else:
        status = "number"
    number: NormalizedNumber | None = None
    # A dial string under the anonymous.invalid host is still the network's knowledge: keep it.
    if user_key not in _WITHHELD_USERS and user_key not in _UNKNOWN_USERS and user is not None:
        try:
            number = normalize_phone_number(user, numbering)
        except IntakeParseError as exc:
            problems.append(f"{source}: {exc.code}: {exc.message}")
            status = "unknown" if status == "number" else status
        else:
            if number.problem is not None:
                problems.append(f"{source}: {number.problem.code}: {number.problem.message}")
    return _Candidate(
        source=source,
        raw=raw,
        status=status,
        number=number,
        display_name=display_name,
    )


def _split_address_list(value: str) -> list[str]:
    """The entries of an address list: commas outside quoted strings and angle brackets (RFC 3261 7.3.1)."""
    entries = split_outside_quotes(value, ",", angle_brackets=True)
    if entries is None:
        raise IntakeParseError("unterminated_quote", "display name quote is not closed")
    if any(not entry for entry in entries):
        raise IntakeParseError("empty", "empty entry in address header")
    return entries


def _parse_address(entry: str) -> SipAddress:
    display_name: str | None
    if entry.startswith('"'):
        quoted = read_quoted(entry, 0)
        if quoted is None:
            raise IntakeParseError("unterminated_quote", "display name quote is not closed")
        display_name, after = quoted
        rest = entry[after:].lstrip()
        if not rest.startswith("<"):
            raise IntakeParseError("bad_name_addr", "quoted display name not followed by '<'")
    elif "<" in entry:
        split_at = entry.index("<")
        display_name = entry[:split_at].strip() or None
        rest = entry[split_at:]
    else:
        # Bare addr-spec: what follows ';' are header parameters (RFC 3261 clause 20.10).
        uri = entry.split(";", 1)[0].strip()
        return _parse_uri(uri, None)
    close = rest.find(">")
    if close < 0:
        raise IntakeParseError("bad_name_addr", "'<' without matching '>'")
    uri = rest[1:close].strip()
    trailing = rest[close + 1 :].strip()
    if trailing and not trailing.startswith(";"):
        raise IntakeParseError("bad_name_addr", "unexpected text after '>'")
    return _parse_uri(uri, display_name)


def _parse_uri(uri: str, display_name: str | None) -> SipAddress:
    if not uri:
        raise IntakeParseError("bad_uri", "empty URI")
    if any(unicodedata.category(char) == "Cc" or char.isspace() for char in uri):
        raise IntakeParseError("bad_uri", "URI contains blanks or control characters")
    scheme, colon, rest = uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise IntakeParseError("bad_uri", f"no URI scheme in {uri[:40]!r}")
    scheme = scheme.lower()
    user: str | None
    host: str | None
    if scheme in ("sip", "sips"):
        rest = rest.split("?", 1)[0]
        if "@" in rest:
            userinfo, hostport = rest.split("@", 1)
            # Drop the (deprecated) password and user parameters such as ;phone-context.
            user = userinfo.split(":", 1)[0].split(";", 1)[0]
        else:
            user, hostport = None, rest
        host = _host_of(hostport)
        if not host:
            raise IntakeParseError("bad_uri", "SIP URI without host")
    elif scheme == "tel":
        user = rest.split(";", 1)[0]
        host = None
        if not user:
            raise IntakeParseError("bad_uri", "tel URI without number")
    else:
        raise IntakeParseError("unsupported_scheme", f"URI scheme {scheme!r} carries no caller number")
    if user is not None:
        user = urllib.parse.unquote(user)
    return SipAddress(display_name=display_name, uri=uri, scheme=scheme, user=user, host=host)


def _host_of(hostport: str) -> str:
    host = hostport.split(";", 1)[0]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]" if "]" in host else ""
    return host.split(":", 1)[0].lower()
