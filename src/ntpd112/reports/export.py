"""The report as files: the flat "monthly recap" (CSV, and the first sheet of the XLSX) and a sheet per section;
the printable PDF is reports/pdf.py.

:func:`recap_records` is the one mapping from the report to the recap schema documented in docs/REPORTS.md (the
national monitoring centre's own format is not public); the CSV and the XLSX both write what it returns. Building
files in memory only: the caller decides where they go.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook

from ntpd112.reports.pdf import to_pdf
from ntpd112.reports.rules import Report

#: The recap's columns, in order.
RECAP_COLUMNS = ("period_from", "period_to", "timezone", "pemda", "section", "key", "label", "metric", "value")
Value = int | float | str | bool | None


@dataclass(frozen=True)
class _Section:
    name: str
    key_field: str | None = None
    label_field: str | None = None
    # Fields left out of the recap (names the key already identifies); the section's own XLSX sheet keeps them.
    names: tuple[str, ...] = ()


# Report field -> how its rows are keyed. Every other field of a row is a metric, in the model's order.
_SECTIONS = (
    _Section("totals"),
    _Section("answer_times"),
    _Section("service_levels", "within_seconds", "standard"),
    _Section("processing"),
    _Section("by_category", "category", "label"),
    _Section("by_agency", "agency", "label"),
    _Section("by_area", "kecamatan", "kelurahan"),
    _Section("by_operator", "operator"),
    _Section("operator_pauses", "operator", "reason"),
    _Section("by_trunk", "trunk", "carrier"),
    _Section("by_hour", "hour"),
    _Section("by_weekday", "weekday", "name"),
    _Section("by_day", "day"),
    _Section("callbacks", "status", "outcome"),
    _Section("breaches", "agency", "category", names=("agency_label", "category_label")),
)


@dataclass(frozen=True)
class RecapRecord:
    section: str
    key: str
    label: str
    metric: str
    value: Value


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _section_rows(report: Report, section: _Section) -> list[dict[str, Value]]:
    # JSON mode: dates as ISO text, groups as their id: the same values the JSON export carries.
    data = report.model_dump(mode="json")[section.name]
    return data if isinstance(data, list) else [data]


def recap_records(report: Report) -> Iterator[RecapRecord]:
    for section in _SECTIONS:
        for row in _section_rows(report, section):
            key = _text(row.pop(section.key_field)) if section.key_field else ""
            label = _text(row.pop(section.label_field)) if section.label_field else ""
            for metric, value in row.items():
                if metric in section.names:
                    continue
                yield RecapRecord(section.name, key, label, metric, value)


def _header(report: Report) -> list[str]:
    return [report.period_from.isoformat(), report.period_to.isoformat(), report.timezone, report.pemda]


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECAP_COLUMNS)
    head = _header(report)
    for record in recap_records(report):
        writer.writerow([*head, record.section, record.key, record.label, record.metric, _text(record.value)])
    return out.getvalue()


def to_xlsx(report: Report) -> bytes:
    """Sheet "recap": the CSV's rows; then one sheet per section, a row per key and a column per metric."""
    workbook = Workbook(write_only=True)  # streams rows: a year's recap has tens of thousands
    recap = workbook.create_sheet("recap")
    recap.append(RECAP_COLUMNS)
    head = _header(report)
    for record in recap_records(report):
        recap.append([*head, record.section, record.key, record.label, record.metric, record.value])
    for section in _SECTIONS:
        rows = _section_rows(report, section)
        sheet = workbook.create_sheet(section.name)
        keys = [f for f in (section.key_field, section.label_field) if f]
        columns = keys + [c for c in (rows[0] if rows else {}) if c not in keys]
        sheet.append(columns)
        for row in rows:
            sheet.append([row[column] for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


ReportFormat = Literal["json", "csv", "xlsx", "pdf"]
MEDIA_TYPES: dict[ReportFormat, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(report: Report, file_format: ReportFormat, logo: Path | None = None) -> bytes:
    """`logo`: the Pemda's logo, printed on the PDF only."""
    if file_format == "pdf":
        return to_pdf(report, logo)
    if file_format == "csv":
        return to_csv(report).encode("utf-8")
    if file_format == "xlsx":
        return to_xlsx(report)
    return report.model_dump_json(indent=2).encode("utf-8")


def file_name(report: Report, file_format: ReportFormat) -> str:
    return f"laporan-112-{report.period_from.isoformat()}-{report.period_to.isoformat()}.{file_format}"
