"""The report's words and numbers in Bahasa Indonesia: labels of the figures, dates, numbers and durations as an
Indonesian reader writes them (1.234; 12,5; 30 November 2026; WIB). Shared by the PDF and the monthly files."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TOTAL_LABELS = {
    "offered": "Panggilan masuk",
    "answered": "Dijawab operator",
    "abandoned": "Ditinggalkan penelepon saat antre",
    "phantom_abandoned": "Ditinggalkan seketika (phantom)",
    "unanswered": "Tidak terjawab",
    "waiting": "Masih menunggu",
    "valid_emergencies": "Darurat valid",
    "information": "Permintaan informasi",
    "non_emergency_complaints": "Pengaduan non-darurat",
    "prank": "Panggilan iseng (prank)",
    "silent": "Panggilan diam (ghost)",
    "wrong_number": "Salah sambung",
    "test": "Panggilan uji",
    "other_category": "Kategori lain",
    "unclassified_answered": "Dijawab tanpa klasifikasi",
    "dispatched": "Diteruskan ke OPD",
    "acknowledged_by_agency": "Diterima OPD",
    "breached_acknowledge": "Tiket terlambat diterima OPD",
    "breached_resolve": "Tiket terlambat diselesaikan OPD",
}
GROUP_LABELS = {
    "valid_emergency": "Darurat valid",
    "information": "Informasi",
    "non_emergency_complaint": "Pengaduan non-darurat",
    "prank": "Iseng",
    "silent": "Diam (ghost)",
    "wrong_number": "Salah sambung",
    "test": "Uji",
    "other": "Lainnya",
}
PAUSE_LABELS = {
    "break": "Istirahat",
    "meal": "Makan",
    "training": "Pelatihan",
    "wrap-up": "Penyelesaian",
    "other": "Lainnya",
}
CALLBACK_STATUS_LABELS = {
    "pending": "Menunggu",
    "calling": "Sedang dihubungi",
    "done": "Berhasil",
    "failed": "Gagal",
}
ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def decimal(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}".translate(str.maketrans(",.", ".,"))


def share(value: float | None) -> str:
    return "-" if value is None else f"{decimal(value * 100)} %"


def duration(value: float | None) -> str:
    """Long durations as jam:menit:detik (operator time), short ones in seconds."""
    if value is None:
        return "-"
    if value < 60:
        return f"{decimal(value)} dtk"
    whole = round(value)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def day(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime, timezone: str) -> str:
    local = value.astimezone(ZoneInfo(timezone))
    return f"{day(local.date())} {local:%H:%M} {ZONE_NAMES.get(timezone, timezone)}"
