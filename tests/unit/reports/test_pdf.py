"""The printable report: its text layer carries the report's figures (read back with pypdf), the logo is embedded,
the charts' axis fits the largest bar; the room file refuses a logo that is not a PNG or JPEG."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from ntpd112.reports.export import render
from ntpd112.reports.pdf import to_pdf
from ntpd112.reports.pdf_charts import nice_ceiling
from ntpd112.reports.rules import HourRow, OperatorPauseRow, OperatorRow
from ntpd112.reports.wording import decimal, duration, number
from ntpd112.room.config import RoomConfigError, load_room
from tests.report_pdf import pdf_image_count, pdf_lines, printed_totals
from tests.unit.reports.test_export import sample


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    Image.new("RGB", (60, 80), (200, 30, 30)).save(path)
    return path


def test_the_pdf_prints_every_total_of_the_report(logo: Path) -> None:
    base = sample()
    ani = base.by_operator[0].model_copy(
        update={"logged_in_seconds": 28800, "wrap_up_seconds": 10, "pause_seconds": 1800, "idle_seconds": 26900}
    )
    budi = OperatorRow(operator="budi", handled=0, talk_seconds=0, mean_talk_seconds=None, mean_answer_seconds=None)
    report = base.model_copy(
        update={
            "by_hour": [HourRow(hour=h, offered=1200 if h == 9 else 0) for h in range(24)],
            "by_operator": [ani, budi],
            "operator_pauses": [OperatorPauseRow(operator="ani", reason="meal", seconds=1800)],
        }
    )
    data = render(report, "pdf", logo)
    assert data.startswith(b"%PDF-")
    assert printed_totals(data) == report.totals.model_dump()
    lines = pdf_lines(data)
    assert lines[:4] == [
        "Kabupaten Sumenep",
        "Laporan Layanan Panggilan Darurat 112",
        "Periode: 1 November 2026 s.d. 30 November 2026 (WIB)",
        "Dibuat: 1 Desember 2026 07:00 WIB",
    ]
    assert "NFPA 1225: dijawab <= 10 dtk 90,0 % 2 / 3 66,7 % Tidak tercapai" in lines
    assert "2 panggilan dijawab 7,5 dtk 9,5 dtk 9,8 dtk 7,5 dtk 10,0 dtk" in lines
    # handled, mean answer, logged in, talk, wrap-up, pause, idle; "-": no presence recorded.
    assert "ani 2 7,5 dtk 8:00:00 0:01:30 10,0 dtk 0:30:00 7:28:20" in lines
    assert "budi 0 - - 0,0 dtk - - -" in lines
    assert "ani Makan 0:30:00" in lines
    assert "Kebakaran Darurat valid 1" in lines  # by category: the group in Indonesian
    assert "1.200" in lines  # the 09:00 bar's value, on the chart
    assert pdf_image_count(data) == 1


# "Ŋ", "ğ" and the en dash are outside Latin-1; "Ç" and "Ñ" inside it.
UNICODE_PEMDA = "Kab. Ñ \u2013 Ŋgawi Barağ"
UNICODE_OPERATOR = "Çağla Ŋurhayati"


def test_names_outside_latin1_print_in_the_unicode_font_and_read_back() -> None:
    base = sample()
    operator = base.by_operator[0].model_copy(update={"operator": UNICODE_OPERATOR})
    report = base.model_copy(update={"pemda": UNICODE_PEMDA, "by_operator": [operator]})
    data = render(report, "pdf")
    assert pdf_image_count(data) == 0
    lines = pdf_lines(data)
    assert lines[0] == UNICODE_PEMDA
    assert any(line.startswith(f"{UNICODE_OPERATOR} 2 ") for line in lines), lines
    assert f"{UNICODE_PEMDA} - Laporan Layanan Panggilan Darurat 112" in "\n".join(lines)  # the footer
    assert b"DejaVu" in data  # embedded (as a subset), not a core font


def test_without_the_unicode_font_the_pdf_still_renders_in_latin1(tmp_path: Path) -> None:
    data = to_pdf(sample().model_copy(update={"pemda": UNICODE_PEMDA}), font_dir=tmp_path)
    assert pdf_lines(data)[0] == "Kab. Ñ ? ?gawi Bara?"  # a question mark, never a failure
    assert b"DejaVu" not in data


def test_indonesian_numbers() -> None:
    assert (number(1234567), decimal(1234.56), decimal(None)) == ("1.234.567", "1.234,6", "-")
    assert (duration(12.34), duration(3725), duration(None)) == ("12,3 dtk", "1:02:05", "-")
    assert [nice_ceiling(v) for v in (0, 1, 3, 10, 11, 51, 1200)] == [1, 1, 5, 10, 20, 100, 2000]


ROOM = Path(__file__).parents[3] / "asterisk" / "room.toml"


def room_with_logo(tmp_path: Path, logo: str) -> Path:
    text = ROOM.read_text(encoding="utf-8").replace('pemda_name = ""', f'pemda_name = "Kab. X"\nlogo = "{logo}"')
    path = tmp_path / "room.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_logo_is_read_relative_to_the_room_file(tmp_path: Path, logo: Path) -> None:
    assert load_room(room_with_logo(tmp_path, logo.name)).reports.logo == logo.resolve()


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.png", None, "no such file"),
        ("logo.gif", b"GIF89a....", "not a PNG or JPEG image"),
        ("logo.png", b"<svg/>", "not a PNG or JPEG image"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2_000_000, "larger than 2,000,000 bytes"),
    ],
)
def test_a_bad_logo_stops_the_room_file(tmp_path: Path, name: str, content: bytes | None, problem: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(RoomConfigError, match=problem):
        load_room(room_with_logo(tmp_path, name))


def test_a_directory_is_no_logo(tmp_path: Path) -> None:
    with pytest.raises(RoomConfigError, match="no such file"):
        load_room(room_with_logo(tmp_path, "."))
