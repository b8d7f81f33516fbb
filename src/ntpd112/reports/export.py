"""The report as office files: the XLSX (the recap's rows, then a sheet per section) here, the printable PDF in
reports/pdf.py, and :func:`render` for every format. Building files in memory only: the caller decides where they go.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook

from ntpd112.reports.files import (
    RECAP_COLUMNS,
    SECTIONS,
    ReportFormat,
    recap_header,
    recap_records,
    section_rows,
    to_csv,
    to_json,
)
from ntpd112.reports.pdf import to_pdf
from ntpd112.reports.rules import Report


def to_xlsx(report: Report) -> bytes:
    """Sheet "recap": the CSV's rows; then one sheet per section, a row per key and a column per metric."""
    workbook = Workbook(write_only=True)  # streams rows: a year's recap has tens of thousands
    recap = workbook.create_sheet("recap")
    recap.append(RECAP_COLUMNS)
    head = recap_header(report)
    for record in recap_records(report):
        recap.append([*head, record.section, record.key, record.label, record.metric, record.value])
    for section in SECTIONS:
        rows = section_rows(report, section)
        sheet = workbook.create_sheet(section.name)
        keys = [f for f in (section.key_field, section.label_field) if f]
        columns = keys + [c for c in (rows[0] if rows else {}) if c not in keys]
        sheet.append(columns)
        for row in rows:
            sheet.append([row[column] for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render(report: Report, file_format: ReportFormat, logo: Path | None = None) -> bytes:
    """`logo`: the Pemda's logo, printed on the PDF only."""
    if file_format == "pdf":
        return to_pdf(report, logo)
    if file_format == "csv":
        return to_csv(report).encode("utf-8")
    if file_format == "xlsx":
        return to_xlsx(report)
    return to_json(report)
