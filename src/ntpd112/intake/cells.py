"""OpenCellID CSV rows (cell towers with an estimated position) and the cell lookup key.

Column order of the OpenCellID export (``cell_towers.csv``)::

    radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal

``area`` is the LAC (GSM, UMTS) or TAC (LTE, NR); ``cell`` is the CI (GSM, 16 bits), the UTRAN cell
id (UMTS, 28 bits = RNC id + C-Id), the E-UTRAN cell identity (LTE, 28 bits) or the NR cell
identity (NR, 36 bits) -- the same numbers P-Access-Network-Info carries (see ``pani.py``), so
both map onto one ``CellKey``. ``unit`` is the PSC (UMTS) or PCI (LTE/NR), empty for GSM.
``range`` is OpenCellID's estimate of the cell's coverage radius in metres. ``created`` and
``updated`` are Unix timestamps (seconds, UTC).

A bad row raises IntakeParseError with the reason; the importer reports and skips it. CDMA rows
are refused with code ``unsupported_radio``: CDMA is not deployed in Indonesia any more and its
ids (SID/NID/BID) do not fit the 3GPP key.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ntpd112.intake.errors import IntakeParseError, check_input_size
from ntpd112.intake.geoloc import LocationFix
from ntpd112.intake.geometry import check_lat_lon, check_radius
from ntpd112.intake.lexical import parse_decimal, parse_integer

Radio = Literal["gsm", "umts", "lte", "nr"]

OPENCELLID_COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
_RADIOS: dict[str, Radio] = {"GSM": "gsm", "UMTS": "umts", "LTE": "lte", "NR": "nr"}
# Largest area code and cell id per radio (3GPP TS 23.003 clauses 4.1, 4.3, 19.6A, 19.6C).
_MAX_AREA: dict[Radio, int] = {"gsm": 0xFFFF, "umts": 0xFFFF, "lte": 0xFFFFFF, "nr": 0xFFFFFF}
_MAX_CELL: dict[Radio, int] = {"gsm": 0xFFFF, "umts": 0xFFFFFFF, "lte": 0xFFFFFFF, "nr": 0xFFFFFFFFF}
_MAX_LINE_BYTES = 1024


class CellKey(NamedTuple):
    """What identifies a cell worldwide: radio, PLMN, area code and cell id."""

    radio: Radio
    mcc: int
    mnc: int
    area_code: int
    cell_id: int


class CellRecord(BaseModel):
    """One OpenCellID row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    radio: Radio
    mcc: int
    mnc: int
    area_code: int
    cell_id: int
    unit: int | None
    lat: float
    lon: float
    range_m: float
    samples: int
    changeable: bool
    created: AwareDatetime
    updated: AwareDatetime
    average_signal: int | None

    @property
    def key(self) -> CellKey:
        return CellKey(self.radio, self.mcc, self.mnc, self.area_code, self.cell_id)


def check_cell_key(radio: Radio, mcc: int, mnc: int, area_code: int, cell_id: int) -> None:
    """Reject impossible identifiers: MCC outside 200..999 (no real country below 200), MNC
    outside 0..999, area code or cell id out of the radio's bit range."""
    if not 200 <= mcc <= 999:
        raise IntakeParseError("bad_mcc", f"MCC {mcc} outside 200..999")
    if not 0 <= mnc <= 999:
        raise IntakeParseError("bad_mnc", f"MNC {mnc} outside 0..999")
    if not 0 <= area_code <= _MAX_AREA[radio]:
        raise IntakeParseError("bad_area_code", f"area code {area_code} out of range for {radio}")
    if not 0 <= cell_id <= _MAX_CELL[radio]:
        raise IntakeParseError("bad_cell_id", f"cell id {cell_id} out of range for {radio}")


def is_header_row(row: Sequence[str]) -> bool:
    """True for the CSV header line (first column literally ``radio``)."""
    return bool(row) and row[0].strip().lower() == "radio"


def parse_cell_line(line: str) -> CellRecord:
    """Parse one CSV line (without or with its line ending)."""
    check_input_size(line, "CSV line", _MAX_LINE_BYTES)
    if "\n" in line.rstrip("\r\n") or "\r" in line.rstrip("\r\n"):
        raise IntakeParseError("bad_row", "line break inside a CSV line")
    try:
        rows = list(csv.reader([line.rstrip("\r\n")], strict=True))
    except csv.Error as exc:
        raise IntakeParseError("bad_row", f"CSV syntax: {exc}") from None
    if len(rows) != 1:
        raise IntakeParseError("bad_row", "empty line")
    return parse_cell_row(rows[0])


def parse_cell_row(row: Sequence[str]) -> CellRecord:
    """Parse one already split OpenCellID row. A header row raises code ``header``."""
    if is_header_row(row):
        raise IntakeParseError("header", "this is the header row")
    if len(row) != len(OPENCELLID_COLUMNS):
        raise IntakeParseError("bad_row", f"{len(row)} columns, expected {len(OPENCELLID_COLUMNS)}")
    if sum(len(field) for field in row) > _MAX_LINE_BYTES:
        raise IntakeParseError("too_large", "row longer than 1 KiB")
    fields = dict(zip(OPENCELLID_COLUMNS, (field.strip() for field in row), strict=True))
    radio_text = fields["radio"].upper()
    if radio_text == "CDMA":
        raise IntakeParseError("unsupported_radio", "CDMA cells are not supported (no 3GPP cell key)")
    radio = _RADIOS.get(radio_text)
    if radio is None:
        raise IntakeParseError("bad_radio", f"unknown radio {fields['radio'][:20]!r}")

    mcc = _non_negative(fields["mcc"], "mcc")
    mnc = _non_negative(fields["net"], "net")
    area_code = _non_negative(fields["area"], "area")
    cell_id = _non_negative(fields["cell"], "cell")
    check_cell_key(radio, mcc, mnc, area_code, cell_id)
    unit = _non_negative(fields["unit"], "unit") if fields["unit"] else None
    lat = parse_decimal(fields["lat"], "lat")
    lon = parse_decimal(fields["lon"], "lon")
    check_lat_lon(lat, lon)
    range_m = parse_decimal(fields["range"], "range")
    check_radius(range_m, "range")
    samples = _non_negative(fields["samples"], "samples")
    changeable_text = fields["changeable"]
    if changeable_text not in ("0", "1"):
        raise IntakeParseError("bad_row", f"changeable must be 0 or 1, not {changeable_text[:10]!r}")
    created = _timestamp(fields["created"], "created")
    updated = _timestamp(fields["updated"], "updated")
    average_signal = parse_integer(fields["averageSignal"], "averageSignal") if fields["averageSignal"] else None
    return CellRecord(
        radio=radio,
        mcc=mcc,
        mnc=mnc,
        area_code=area_code,
        cell_id=cell_id,
        unit=unit,
        lat=lat,
        lon=lon,
        range_m=range_m,
        samples=samples,
        changeable=changeable_text == "1",
        created=created,
        updated=updated,
        average_signal=average_signal,
    )


def fix_from_cell(record: CellRecord, observed_at: datetime | None = None) -> LocationFix:
    """The network-cell location: the tower's estimated position, its range as the radius.

    ``observed_at`` is when the caller was seen in that cell (the call's start), not when
    OpenCellID measured the tower.
    """
    key = record.key
    raw = f"{key.radio}:{key.mcc}-{key.mnc}-{key.area_code}-{key.cell_id}"
    return LocationFix(
        source="cell",
        lat=record.lat,
        lon=record.lon,
        radius_m=record.range_m,
        confidence=None,
        method="cell",
        measured_at=observed_at,
        raw=raw,
        shape="Circle",
    )


def _non_negative(text: str, what: str) -> int:
    value = parse_integer(text, what)
    if value < 0:
        raise IntakeParseError("bad_row", f"{what} is negative")
    return value


def _timestamp(text: str, what: str) -> datetime:
    seconds = parse_integer(text, what)
    # 2000-01-01 .. 2100-01-01: anything else is a corrupt row, not a real tower.
    if not 946_684_800 <= seconds <= 4_102_444_800:
        raise IntakeParseError("bad_timestamp", f"{what} {seconds} is not a plausible Unix time")
    return datetime.fromtimestamp(seconds, tz=UTC)
