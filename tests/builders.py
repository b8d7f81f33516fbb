"""Wire-format inputs built the way their senders build them, for unit and integration tests alike."""

from __future__ import annotations

from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.pani import CellId


def build_aml_sms(fields: list[tuple[str, str]]) -> str:
    """Assemble an AML SMS from ``(key, value)`` pairs (``A"ML`` first, ``ml`` excluded), with a
    correct ``ml``."""
    body = ";".join(f"{key}={value}" for key, value in fields)
    # The length field counts itself; its digit count can change the total.
    for digits in (1, 2, 3, 4):
        total = len(body) + len(";ml=") + digits
        if len(str(total)) == digits:
            return f"{body};ml={total}"
    raise IntakeParseError("too_large", "AML SMS longer than 9999 characters")


def format_cell_id(cell: CellId) -> str:
    """The wire form of ``cell`` (inverse of ``decode_cell_id``)."""
    area_digits, cell_digits = {"gsm": (4, 4), "umts": (4, 7), "lte": (4, 7), "nr": (6, 9)}[cell.radio]
    if cell.radio == "lte" and cell.area_code > 0xFFFF:
        area_digits = 6
    return f"{cell.mcc:03d}{cell.mnc:0{cell.mnc_digits}d}{cell.area_code:0{area_digits}X}{cell.cell_id:0{cell_digits}X}"
