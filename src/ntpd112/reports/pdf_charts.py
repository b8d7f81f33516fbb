"""Bar charts drawn with the PDF's own vector primitives (rectangles, lines, text): sharp at any zoom, no image
library, and their figures stay in the PDF's text layer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF

from ntpd112.reports.wording import number

BAR = (31, 94, 160)  # the console's blue
GRID = (210, 214, 220)
INK = (40, 40, 40)


@dataclass(frozen=True)
class Bars:
    title: str
    labels: Sequence[str]
    values: Sequence[int]


def nice_ceiling(value: int) -> int:
    """The top of the value axis: 1, 2 or 5 times a power of ten, at least the largest bar (and at least 1)."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def column_chart(pdf: FPDF, bars: Bars, x: float, y: float, width: float, height: float) -> None:
    """Vertical bars with a labelled axis; every bar carries its value above it (when there is room)."""
    pdf.set_text_color(*INK)
    pdf.set_font(pdf.font_family or "Helvetica", "B", 9)
    pdf.text(x, y + 3, bars.title)
    axis_width = 10
    top, bottom = y + 8, y + height - 6
    left, right = x + axis_width, x + width
    ceiling = nice_ceiling(max(bars.values, default=0))
    pdf.set_font(pdf.font_family or "Helvetica", "", 6)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.1)
    for tick in sorted({0, ceiling // 2, ceiling}):
        tick_y = bottom - (bottom - top) * tick / ceiling
        pdf.line(left, tick_y, right, tick_y)
        label = number(tick)
        pdf.text(left - 1.5 - pdf.get_string_width(label), tick_y + 1, label)
    slot = (right - left) / max(len(bars.values), 1)
    pdf.set_fill_color(*BAR)
    for index, (label, value) in enumerate(zip(bars.labels, bars.values, strict=True)):
        bar_height = (bottom - top) * value / ceiling
        bar_x = left + index * slot + slot * 0.15
        if bar_height > 0:
            pdf.rect(bar_x, bottom - bar_height, slot * 0.7, bar_height, style="F")
        if value and pdf.get_string_width(number(value)) <= slot:
            text = number(value)
            pdf.text(bar_x + (slot * 0.7 - pdf.get_string_width(text)) / 2, bottom - bar_height - 0.8, text)
        pdf.text(left + index * slot + (slot - pdf.get_string_width(label)) / 2, bottom + 3.5, label)


def row_chart(pdf: FPDF, bars: Bars, x: float, y: float, width: float, row_height: float = 5.5) -> float:
    """Horizontal bars, a row per label (categories: long names read better across); returns the height used."""
    pdf.set_text_color(*INK)
    pdf.set_font(pdf.font_family or "Helvetica", "B", 9)
    pdf.text(x, y + 3, bars.title)
    pdf.set_font(pdf.font_family or "Helvetica", "", 7)
    label_width = max((pdf.get_string_width(label) for label in bars.labels), default=0) + 3
    value_width = 14
    track = width - label_width - value_width
    largest = max(bars.values, default=0) or 1
    pdf.set_fill_color(*BAR)
    row_y = y + 6
    for label, value in zip(bars.labels, bars.values, strict=True):
        pdf.text(x, row_y + row_height * 0.65, label)
        if value:
            pdf.rect(x + label_width, row_y + 0.8, track * value / largest, row_height - 1.6, style="F")
        pdf.text(x + label_width + track * value / largest + 1.5, row_y + row_height * 0.65, number(value))
        row_y += row_height
    return row_y - y
