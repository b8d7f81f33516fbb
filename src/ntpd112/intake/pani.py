"""P-Access-Network-Info (3GPP TS 24.229 clause 7.2A.4): the radio cell the caller is in.

Syntax (clause 7.2A.4.2)::

    P-Access-Network-Info = "P-Access-Network-Info" HCOLON access-net-spec *(COMMA access-net-spec)
    access-net-spec       = (access-type / access-class) *(SEMI access-info)
    access-info           = cgi-3gpp / utran-cell-id-3gpp / ... / np / local-time-zone / extension
    np                    = "network-provided"
    cgi-3gpp              = "cgi-3gpp" EQUAL (token / quoted-string)
    utran-cell-id-3gpp    = "utran-cell-id-3gpp" EQUAL (token / quoted-string)

Cell identity layouts (clause 7.2A.4.3), all concatenated ASCII, MCC 3 digits, MNC 2 or 3 digits:

================================  ======================  ============================  ======
access type                       parameter               after MCC+MNC                 radio
================================  ======================  ============================  ======
3GPP-GERAN                        cgi-3gpp                LAC 4 hex + CI 4 hex          gsm
3GPP-UTRAN-FDD / -TDD             utran-cell-id-3gpp      LAC 4 hex + UC-Id 7 hex       umts
3GPP-E-UTRAN-FDD / -TDD           utran-cell-id-3gpp      TAC 4 hex + ECI 7 hex (EPC),  lte
                                                          TAC 6 hex + ECI 7 hex (5GC)
3GPP-NR-FDD / -TDD, NR-U-FDD/TDD  utran-cell-id-3gpp      TAC 6 hex + NCI 9 hex         nr
================================  ======================  ============================  ======

For every layout the total length alone tells a 2-digit from a 3-digit MNC (e.g. E-UTRAN/EPC:
16 characters = 2-digit MNC, 17 = 3-digit), so no guess is needed and nothing assumes Indonesia's
2-digit MNCs. Access types without a cell (IEEE-802.11, untrusted WLAN, DSL, ...) are parsed but
carry no ``CellId``. Parameter names and access types are matched case-insensitively; values may
be quoted; unknown parameters are ignored.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ntpd112.intake.cells import CellKey, Radio, check_cell_key
from ntpd112.intake.errors import IntakeParseError, check_input_size
from ntpd112.intake.lexical import is_ascii_digits, parse_hex_field, split_outside_quotes

_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~\-]+")
CELL_PARAMETERS = ("utran-cell-id-3gpp", "cgi-3gpp")
NETWORK_PROVIDED = "network-provided"

# access type -> (radio, expected parameter, [(area hex digits, cell hex digits), ...])
_LAYOUTS: dict[str, tuple[Radio, str, tuple[tuple[int, int], ...]]] = {
    "3gpp-geran": ("gsm", "cgi-3gpp", ((4, 4),)),
    "3gpp-utran-fdd": ("umts", "utran-cell-id-3gpp", ((4, 7),)),
    "3gpp-utran-tdd": ("umts", "utran-cell-id-3gpp", ((4, 7),)),
    "3gpp-e-utran-fdd": ("lte", "utran-cell-id-3gpp", ((4, 7), (6, 7))),
    "3gpp-e-utran-tdd": ("lte", "utran-cell-id-3gpp", ((4, 7), (6, 7))),
    "3gpp-nr-fdd": ("nr", "utran-cell-id-3gpp", ((6, 9),)),
    "3gpp-nr-tdd": ("nr", "utran-cell-id-3gpp", ((6, 9),)),
    "3gpp-nr-u-fdd": ("nr", "utran-cell-id-3gpp", ((6, 9),)),
    "3gpp-nr-u-tdd": ("nr", "utran-cell-id-3gpp", ((6, 9),)),
}


class AccessNetworkInfo(BaseModel):
    """One access-net-spec: its access type and parameters (names lower-cased, values unquoted;
    a parameter without value maps to '')."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_type: str
    network_provided: bool
    parameters: dict[str, str]


class CellId(BaseModel):
    """The serving cell from P-Access-Network-Info."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    radio: Literal["gsm", "umts", "lte", "nr"]
    mcc: int
    mnc: int
    mnc_digits: int
    area_code: int  # LAC (gsm, umts) or TAC (lte, nr)
    cell_id: int  # CI, UC-Id, ECI or NCI
    access_type: str
    network_provided: bool

    @property
    def lookup_key(self) -> CellKey:
        return CellKey(self.radio, self.mcc, self.mnc, self.area_code, self.cell_id)


def parse_pani(value: str) -> list[AccessNetworkInfo]:
    """Split a P-Access-Network-Info value into its access-net-specs."""
    check_input_size(value, "P-Access-Network-Info")
    specs = [_parse_access_net_spec(part) for part in _split_outside_quotes(value, ",")]
    if not specs:
        raise IntakeParseError("empty", "P-Access-Network-Info is empty")
    return specs


def decode_cell_id(access_type: str, value: str, network_provided: bool = False) -> CellId:
    """Decode a cgi-3gpp / utran-cell-id-3gpp value for the given access type."""
    layout = _LAYOUTS.get(access_type.lower())
    if layout is None:
        raise IntakeParseError("no_cell_access", f"access type {access_type[:40]!r} carries no 3GPP cell")
    radio, _, shapes = layout
    if not value:
        raise IntakeParseError("bad_cell_id", "empty cell identity")
    for area_digits, cell_digits in shapes:
        for mnc_digits in (2, 3):
            if len(value) == 3 + mnc_digits + area_digits + cell_digits:
                return _decode(value, radio, access_type, mnc_digits, area_digits, network_provided)
    expected = sorted({3 + m + a + c for a, c in shapes for m in (2, 3)})
    raise IntakeParseError(
        "bad_cell_id_length",
        f"{access_type[:40]} cell identity has {len(value)} characters, expected one of {expected}",
    )


def cell_from_pani(value: str, *, prefer_network_provided: bool = False) -> CellId:
    """The cell of the first access-net-spec that carries a valid cell identity.

    With ``prefer_network_provided`` a value marked ``network-provided`` (added by the P-CSCF,
    so not spoofable by the handset) wins over earlier UE-provided ones. Raises ``no_cell_id``
    when no spec carries a cell (e.g. Wi-Fi calling), or the first decoding error otherwise.
    """
    first_error: IntakeParseError | None = None
    cells: list[CellId] = []
    for spec in parse_pani(value):
        layout = _LAYOUTS.get(spec.access_type.lower())
        if layout is None:
            continue
        # The standard parameter first; the other name is accepted from sloppy senders.
        raw_cell = next(
            (spec.parameters[name] for name in _parameter_order(layout[1]) if name in spec.parameters), None
        )
        if raw_cell is None:
            continue
        try:
            cells.append(decode_cell_id(spec.access_type, raw_cell, spec.network_provided))
        except IntakeParseError as exc:
            first_error = first_error or exc
    if cells:
        if prefer_network_provided:
            return next((c for c in cells if c.network_provided), cells[0])
        return cells[0]
    if first_error is not None:
        raise first_error
    raise IntakeParseError("no_cell_id", "no access-net-spec carries a 3GPP cell identity")


def _parameter_order(expected: str) -> tuple[str, ...]:
    return (expected, *(name for name in CELL_PARAMETERS if name != expected))


def _decode(
    value: str, radio: Radio, access_type: str, mnc_digits: int, area_digits: int, network_provided: bool
) -> CellId:
    mcc_text = value[:3]
    mnc_text = value[3 : 3 + mnc_digits]
    if not is_ascii_digits(mcc_text) or not is_ascii_digits(mnc_text):
        raise IntakeParseError("bad_plmn", f"MCC/MNC must be decimal digits: {value[:6]!r}")
    area_start = 3 + mnc_digits
    cell_start = area_start + area_digits
    area_code = parse_hex_field(value[area_start:cell_start], area_digits, "area code")
    cell_id = parse_hex_field(value[cell_start:], len(value) - cell_start, "cell identity")
    mcc = int(mcc_text)
    mnc = int(mnc_text)
    check_cell_key(radio, mcc, mnc, area_code, cell_id)
    return CellId(
        radio=radio,
        mcc=mcc,
        mnc=mnc,
        mnc_digits=mnc_digits,
        area_code=area_code,
        cell_id=cell_id,
        access_type=access_type,
        network_provided=network_provided,
    )


def _parse_access_net_spec(text: str) -> AccessNetworkInfo:
    parts = _split_outside_quotes(text, ";")
    if not parts:
        raise IntakeParseError("empty", "empty access-net-spec")
    access_type = parts[0]
    if not _TOKEN.fullmatch(access_type):
        raise IntakeParseError("bad_access_type", f"access type {access_type[:40]!r} is not a token")
    parameters: dict[str, str] = {}
    for part in parts[1:]:
        name, equals, raw_value = part.partition("=")
        name = name.strip().lower()
        if not _TOKEN.fullmatch(name):
            raise IntakeParseError("bad_parameter", f"parameter name {name[:40]!r} is not a token")
        raw_value = raw_value.strip()
        if equals and raw_value.startswith('"'):
            if len(raw_value) < 2 or not raw_value.endswith('"'):
                raise IntakeParseError("bad_parameter", f"unterminated quoted value for {name}")
            # Only \" and \\ are unescaped here: any other backslash stays, and the strict cell checks refuse it.
            value = raw_value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif equals:
            if not _TOKEN.fullmatch(raw_value):
                raise IntakeParseError("bad_parameter", f"value of {name} is not a token")
            value = raw_value
        else:
            value = ""
        if name in parameters:
            raise IntakeParseError("bad_parameter", f"parameter {name} repeated")
        parameters[name] = value
    return AccessNetworkInfo(
        access_type=access_type,
        network_provided=NETWORK_PROVIDED in parameters,
        parameters=parameters,
    )


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside double quotes; empty parts are refused."""
    parts = split_outside_quotes(text, separator)
    if parts is None:
        raise IntakeParseError("bad_parameter", "unterminated quoted string")
    if any(not part for part in parts):
        raise IntakeParseError("empty", f"empty element between {separator!r} separators")
    return parts
