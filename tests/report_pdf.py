"""Reading the PDF report back (pypdf's text extraction): the figures it prints, keyed as the JSON report keys them,
so a test can compare the PDF with the JSON."""

from __future__ import annotations

import io

from pypdf import PdfReader

from ntpd112.reports.wording import TOTAL_LABELS


def pdf_lines(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    return [line for page in reader.pages for line in page.extract_text().splitlines()]


def indonesian_int(text: str) -> int:
    return int(text.replace(".", ""))


def printed_totals(data: bytes) -> dict[str, int]:
    """The summary's figures (first page, up to the answer times): each total's Indonesian label, then its count
    (1.234), on a line of its own. A category may bear a total's label further on (the chart, the tables)."""
    lines = pdf_lines(data)
    found: dict[str, int] = {}
    for line in lines[lines.index("Ringkasan panggilan") : lines.index("Waktu jawab dan tingkat layanan")]:
        for metric, label in TOTAL_LABELS.items():
            head, _, figure = line.rpartition(" ")
            if head == label:
                assert metric not in found, f"{label} printed twice"
                found[metric] = indonesian_int(figure)
    return found


def pdf_image_count(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)
