"""The printable report: A4, in Bahasa Indonesia, with the Pemda's name and logo, its charts drawn as vectors.

Everything printed comes from the :class:`~ntpd112.reports.rules.Report` (the same object the JSON export writes),
so the PDF cannot disagree with the JSON; a test reads the PDF's text back and compares. Text is set in DejaVu Sans
(Debian's fonts-dejavu-core, installed by scripts/bootstrap.sh), embedded as a subset: names of a Pemda, a kelurahan or
an operator may hold any character (e.g. "Ŋ", "ğ"), which the PDF core fonts (Latin-1 only) would print as "?".
Without that font file the report is still made, in Helvetica, with such characters as "?".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from ntpd112.logs import get_logger
from ntpd112.reports.pdf_charts import Bars, column_chart, row_chart
from ntpd112.reports.rules import Report
from ntpd112.reports.wording import (
    CALLBACK_STATUS_LABELS,
    GROUP_LABELS,
    PAUSE_LABELS,
    TOTAL_LABELS,
    ZONE_NAMES,
    day,
    decimal,
    duration,
    moment,
    number,
    share,
)

TITLE = "Laporan Layanan Panggilan Darurat 112"
_OUTCOME_ROWS = ("offered", "answered", "abandoned", "phantom_abandoned", "unanswered", "waiting")
_CLASS_ROWS = (
    "valid_emergencies",
    "information",
    "non_emergency_complaints",
    "prank",
    "silent",
    "wrong_number",
    "test",
    "other_category",
    "unclassified_answered",
    "dispatched",
    "acknowledged_by_agency",
)
_BREACH_ROWS = ("breached_acknowledge", "breached_resolve")
HEAD_FILL = (225, 232, 242)
log = get_logger(__name__)


#: The Unicode font: regular and bold (fonts-dejavu-core has no oblique; the few italic notes print upright).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans.ttf"}
FONT = "DejaVu"
FALLBACK_FONT = "Helvetica"


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _unicode_font(pdf: FPDF, directory: Path) -> bool:
    """Registers DejaVu Sans from `directory`; False when a file is missing (the core font then stands in)."""
    if not all((directory / name).is_file() for name in FONT_FILES.values()):
        log.warning("report pdf: Unicode font missing, Latin-1 only", directory=str(directory))
        return False
    for style, name in FONT_FILES.items():
        pdf.add_font(FONT, style, str(directory / name))
    return True


class _Document(FPDF):
    def __init__(self, report: Report, font_dir: Path = FONT_DIR) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.unicode = _unicode_font(self, font_dir)
        self.family = FONT if self.unicode else FALLBACK_FONT
        self._footer_text = self.safe(f"{report.pemda or 'Pemerintah Daerah'} - {TITLE}")
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_lang("id")
        self.set_title(TITLE)
        self.set_author(report.pemda)  # document metadata is Unicode in any font
        self.set_creation_date(report.generated_at)

    def safe(self, text: str) -> str:
        """`text` as the font in use can print it."""
        return text if self.unicode else _latin1(text)

    def style(self, emphasis: str, size: float) -> None:
        self.set_font(self.family, emphasis, size)

    def footer(self) -> None:
        self.set_y(-11)
        self.style("", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 4, self._footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Halaman {self.page_no()} dari {{nb}}", align="R")

    def heading(self, text: str) -> None:
        if self.will_page_break(20):
            self.add_page()
        self.ln(3)
        self.style("B", 11)
        self.set_text_color(20, 50, 90)
        self.cell(0, 7, self.safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]) -> None:
        """A table; the first column left-aligned, the figures right-aligned."""
        self.style("", 8)
        self.set_fill_color(255, 255, 255)  # a chart may have left its bar colour
        aligns = ("LEFT", *("RIGHT" for _ in widths[1:]))
        with self.table(
            col_widths=tuple(widths),
            width=sum(widths),
            align="LEFT",
            text_align=aligns,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            line_height=4.6,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            table.row([self.safe(cell) for cell in header])
            for row in rows:
                table.row([self.safe(cell) for cell in row])
        self.ln(2)


def _title_block(pdf: _Document, report: Report, logo: Path | None) -> None:
    text_x = pdf.l_margin
    if logo is not None:
        pdf.image(str(logo), x=pdf.l_margin, y=pdf.t_margin, h=22)
        text_x += 28
    pdf.set_xy(text_x, pdf.t_margin + 1)
    pdf.style("B", 14)
    pdf.cell(0, 7, pdf.safe(report.pemda or "Pemerintah Daerah"), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style("B", 11)
    pdf.cell(0, 6, TITLE, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style("", 9)
    zone = ZONE_NAMES.get(report.timezone, report.timezone)
    pdf.cell(
        0,
        5,
        f"Periode: {day(report.period_from)} s.d. {day(report.period_to)} ({zone})",
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    pdf.cell(0, 5, f"Dibuat: {moment(report.generated_at, report.timezone)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), pdf.t_margin + 24))
    pdf.set_draw_color(20, 50, 90)
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())


def _summary(pdf: _Document, report: Report) -> None:
    totals = report.totals.model_dump()
    pdf.heading("Ringkasan panggilan")
    rows = [[TOTAL_LABELS[name], number(totals[name])] for name in _OUTCOME_ROWS]
    pdf.grid(("Uraian", "Jumlah"), rows, (70, 25))
    pdf.style("I", 7)
    pdf.multi_cell(
        0,
        3.5,
        f"Phantom: penelepon menutup telepon kurang dari {decimal(report.phantom_abandon_seconds)} detik setelah "
        "panggilan masuk (salah tekan); tidak dihitung dalam tingkat layanan.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.heading("Klasifikasi panggilan")
    pdf.grid(("Uraian", "Jumlah"), [[TOTAL_LABELS[name], number(totals[name])] for name in _CLASS_ROWS], (70, 25))
    pdf.heading("Tiket OPD melewati batas waktu")
    pdf.grid(("Uraian", "Jumlah"), [[TOTAL_LABELS[name], number(totals[name])] for name in _BREACH_ROWS], (70, 25))


def _service(pdf: _Document, report: Report) -> None:
    pdf.heading("Waktu jawab dan tingkat layanan")
    times = report.answer_times
    pdf.grid(
        ("Waktu jawab (masuk -> dijawab operator)", "Median", "P90", "P95", "Rata-rata", "Terlama"),
        [
            [
                f"{number(times.answered)} panggilan dijawab",
                *(
                    duration(v)
                    for v in (
                        times.p50_seconds,
                        times.p90_seconds,
                        times.p95_seconds,
                        times.mean_seconds,
                        times.max_seconds,
                    )
                ),
            ]
        ],
        (70, 22, 22, 22, 22, 22),
    )
    rows = [
        [
            f"{level.standard}: dijawab <= {level.within_seconds} dtk",
            share(level.target_share),
            f"{number(level.answered_within)} / {number(level.counted)}",
            share(level.share),
            {True: "Tercapai", False: "Tidak tercapai", None: "-"}[level.met],
        ]
        for level in report.service_levels
    ]
    pdf.grid(("Standar", "Target", "Dijawab / dihitung", "Capaian", "Status"), rows, (70, 20, 35, 25, 30))
    processing = report.processing
    pdf.grid(
        ("Waktu proses (dijawab -> diteruskan ke OPD)", "Panggilan", "Median", "P90"),
        [["", number(processing.dispatched), duration(processing.p50_seconds), duration(processing.p90_seconds)]],
        (70, 25, 25, 25),
    )


def _charts(pdf: _Document, report: Report) -> None:
    pdf.add_page()
    pdf.heading("Grafik")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    y = pdf.get_y()
    column_chart(
        pdf,
        Bars(
            "Panggilan masuk per jam",
            [f"{row.hour:02d}" for row in report.by_hour],
            [row.offered for row in report.by_hour],
        ),
        pdf.l_margin,
        y,
        width,
        55,
    )
    y += 60
    column_chart(
        pdf,
        Bars(
            "Panggilan masuk per hari dalam pekan",
            [row.name for row in report.by_weekday],
            [row.offered for row in report.by_weekday],
        ),
        pdf.l_margin,
        y,
        width * 0.6,
        50,
    )
    y += 56
    categories = sorted(report.by_category, key=lambda row: -row.calls)
    used = row_chart(
        pdf,
        Bars("Panggilan per kategori", [pdf.safe(row.label) for row in categories], [row.calls for row in categories]),
        pdf.l_margin,
        y,
        width,
    )
    pdf.set_xy(pdf.l_margin, y + used + 4)


def _tables(pdf: _Document, report: Report) -> None:
    pdf.heading("Per kategori")
    pdf.grid(
        ("Kategori", "Kelompok", "Panggilan"),
        [[row.label, GROUP_LABELS[row.group.value], number(row.calls)] for row in report.by_category],
        (80, 50, 25),
    )
    pdf.heading("Per OPD (instansi)")
    pdf.grid(
        ("OPD", "Diteruskan", "Diterima", "Median waktu terima"),
        [
            [row.label, number(row.dispatched), number(row.acknowledged), duration(row.ack_p50_seconds)]
            for row in report.by_agency
        ],
        (80, 30, 30, 40),
    )
    pdf.heading("Tiket melewati batas waktu, per OPD dan kategori")
    pdf.grid(
        ("OPD", "Kategori", "Lewat batas terima", "Lewat batas selesai"),
        [
            [row.agency_label, row.category_label, number(row.acknowledge), number(row.resolve)]
            for row in report.breaches
        ],
        (76, 56, 24, 24),
    )
    _operators(pdf, report)
    pdf.heading("Per wilayah (kecamatan / kelurahan)")
    pdf.grid(
        ("Kecamatan", "Kelurahan/desa", "Masuk", "Dijawab", "Ditinggalkan"),
        [
            [
                row.kecamatan or "(tidak diketahui)",
                row.kelurahan or "-",
                number(row.offered),
                number(row.answered),
                number(row.abandoned),
            ]
            for row in report.by_area
        ],
        (50, 50, 25, 25, 30),
    )
    pdf.heading("Per jalur (trunk / operator seluler)")
    pdf.grid(
        ("Trunk", "Operator seluler", "Masuk", "Dijawab", "Ditinggalkan"),
        [
            [
                row.trunk or "(tidak diketahui)",
                row.carrier or "-",
                number(row.offered),
                number(row.answered),
                number(row.abandoned),
            ]
            for row in report.by_trunk
        ],
        (50, 50, 25, 25, 30),
    )
    pdf.heading("Panggilan balik (callback)")
    pdf.grid(
        ("Status", "Hasil", "Panggilan"),
        [
            [CALLBACK_STATUS_LABELS.get(row.status, row.status), row.outcome or "-", number(row.calls)]
            for row in report.callbacks
        ],
        (50, 60, 25),
    )
    pdf.heading("Per hari")
    pdf.grid(
        ("Tanggal", "Masuk", "Dijawab", "Ditinggalkan", "Phantom", "Tidak terjawab"),
        [
            [
                day(row.day),
                number(row.offered),
                number(row.answered),
                number(row.abandoned),
                number(row.phantom_abandoned),
                number(row.unanswered),
            ]
            for row in report.by_day
        ],
        (45, 25, 25, 28, 25, 30),
    )


def _operators(pdf: _Document, report: Report) -> None:
    pdf.heading("Per operator")
    pdf.grid(
        ("Operator", "Ditangani", "Rata-rata jawab", "Login", "Bicara", "Penyelesaian", "Jeda", "Siaga"),
        [
            [
                row.operator,
                number(row.handled),
                duration(row.mean_answer_seconds),
                *(
                    duration(value)
                    for value in (
                        row.logged_in_seconds,
                        row.talk_seconds,
                        row.wrap_up_seconds,
                        row.pause_seconds,
                        row.idle_seconds,
                    )
                ),
            ]
            for row in report.by_operator
        ],
        (30, 20, 24, 22, 20, 24, 20, 20),
    )
    pdf.style("I", 7)
    pdf.multi_cell(
        0,
        3.5,
        "Login: waktu masuk antrean; penyelesaian: waktu jeda otomatis antrean setelah tiap panggilan; siaga: login, "
        "tidak jeda, tidak bicara, tidak penyelesaian (termasuk berdering). '-': tidak ada catatan kehadiran.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if report.operator_pauses:
        pdf.heading("Jeda operator per alasan")
        pdf.grid(
            ("Operator", "Alasan", "Durasi"),
            [
                [row.operator, PAUSE_LABELS.get(row.reason, row.reason), duration(row.seconds)]
                for row in report.operator_pauses
            ],
            (50, 50, 30),
        )


def to_pdf(report: Report, logo: Path | None = None, font_dir: Path = FONT_DIR) -> bytes:
    """The report as a PDF; `logo`: a PNG or JPEG already checked when the room file was read; `font_dir`: where
    DejaVu Sans is (tests point it elsewhere to see the fallback)."""
    pdf = _Document(report, font_dir)
    pdf.add_page()
    _title_block(pdf, report, logo)
    _summary(pdf, report)
    _service(pdf, report)
    _charts(pdf, report)
    _tables(pdf, report)
    return bytes(pdf.output())
