"""What every report file shares, and the files built without a file library: the formats' names and media types,
the JSON, and the flat "monthly recap" (CSV; also the first sheet of the XLSX, reports/export.py).

:func:`recap_records` is the one mapping from the report to the recap schema documented in docs/REPORTS.md (the
national monitoring centre's own format is not public); the CSV and the XLSX both write what it returns. This module
imports no file library (openpyxl, fpdf and what they pull in: some 80 MB and over a second of start-up), so the
service that carries the calls can build these formats itself and leave the XLSX and the PDF to a child process
(publish/report_files.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ntpd112.reports.rules import Report

ReportFormat = Literal["json", "csv", "xlsx", "pdf"]
MEDIA_TYPES: dict[ReportFormat, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def file_name(report: Report, file_format: ReportFormat) -> str:
    return f"laporan-112-{report.period_from.isoformat()}-{report.period_to.isoformat()}.{file_format}"


def to_json(report: Report) -> bytes:
    return report.model_dump_json(indent=2).encode("utf-8")


#: The recap's columns, in order.
RECAP_COLUMNS = ("period_from", "period_to", "timezone", "pemda", "section", "key", "label", "metric", "value")
Value = int | float | str | bool | None


@dataclass(frozen=True)
class Section:
    name: str
    key_field: str | None = None
    label_field: str | None = None
    # Fields left out of the recap (names the key already identifies); the section's own XLSX sheet keeps them.
    names: tuple[str, ...] = ()


# Report field -> how its rows are keyed. Every other field of a row is a metric, in the model's order.
SECTIONS = (
    Section("totals"),
    Section("answer_times"),
    Section("service_levels", "within_seconds", "standard"),
    Section("processing"),
    Section("by_category", "category", "label"),
    Section("by_agency", "agency", "label"),
    Section("by_area", "kecamatan", "kelurahan"),
    Section("by_operator", "operator"),
    Section("operator_pauses", "operator", "reason"),
    Section("by_trunk", "trunk", "carrier"),
    Section("by_hour", "hour"),
    Section("by_weekday", "weekday", "name"),
    Section("by_day", "day"),
    Section("callbacks", "status", "outcome"),
    Section("breaches", "agency", "category", names=("agency_label", "category_label")),
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


def section_rows(report: Report, section: Section) -> list[dict[str, Value]]:
    # JSON mode: dates as ISO text, groups as their id: the same values the JSON export carries.
    data = report.model_dump(mode="json")[section.name]
    return data if isinstance(data, list) else [data]


def recap_records(report: Report) -> Iterator[RecapRecord]:
    for section in SECTIONS:
        for row in section_rows(report, section):
            key = _text(row.pop(section.key_field)) if section.key_field else ""
            label = _text(row.pop(section.label_field)) if section.label_field else ""
            for metric, value in row.items():
                if metric in section.names:
                    continue
                yield RecapRecord(section.name, key, label, metric, value)


def recap_header(report: Report) -> list[str]:
    return [report.period_from.isoformat(), report.period_to.isoformat(), report.timezone, report.pemda]


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RECAP_COLUMNS)
    head = recap_header(report)
    for record in recap_records(report):
        writer.writerow([*head, record.section, record.key, record.label, record.metric, _text(record.value)])
    return out.getvalue()
