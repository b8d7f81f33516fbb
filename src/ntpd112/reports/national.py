"""The monthly recap for the national monitoring centre (Kominfo), as JSON and CSV: the figures every Pemda
publishes (calls, answered, unanswered, valid emergencies, prank, ghost, information, by category, by agency) and
the service levels. The centre's own format is not public: this module is the one mapping from the report to the
recap (:data:`INDICATORS`, :func:`recap_rows`), documented in docs/REPORTS.md; a change of format changes only here.

Schema version 1. Every figure is a row: ``indicator`` (a stable English code), ``key`` (the category or agency id,
empty for totals), ``label`` (Indonesian), ``value`` (a count, a share 0..1, or seconds; empty: nothing to measure).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from ntpd112.reports.rules import Report, ServiceLevel

SCHEMA_VERSION = 1
CSV_COLUMNS = ("schema_version", "pemda", "period_from", "period_to", "timezone", "indicator", "key", "label", "value")
Number = int | float | None


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    value: Callable[[Report], Number]


def _level(within_seconds: int) -> Callable[[Report], Number]:
    def share(report: Report) -> Number:
        found: ServiceLevel | None = next(
            (level for level in report.service_levels if level.within_seconds == within_seconds), None
        )
        return None if found is None else found.share

    return share


INDICATORS = (
    Indicator("calls_offered", "Jumlah panggilan masuk", lambda r: r.totals.offered),
    Indicator("calls_answered", "Panggilan dijawab operator", lambda r: r.totals.answered),
    # What the public calls unanswered: left waiting in the queue, or never reached an operator.
    Indicator(
        "calls_unanswered",
        "Panggilan tidak terjawab (ditinggalkan saat antre atau tidak terjawab)",
        lambda r: r.totals.abandoned + r.totals.unanswered,
    ),
    Indicator("calls_abandoned", "Ditinggalkan penelepon saat antre", lambda r: r.totals.abandoned),
    Indicator("calls_phantom", "Ditinggalkan seketika (salah tekan)", lambda r: r.totals.phantom_abandoned),
    Indicator("valid_emergency", "Darurat valid", lambda r: r.totals.valid_emergencies),
    Indicator("prank", "Panggilan iseng", lambda r: r.totals.prank),
    Indicator("ghost", "Panggilan diam (ghost call)", lambda r: r.totals.silent),
    Indicator("information", "Permintaan informasi", lambda r: r.totals.information),
    Indicator("non_emergency_complaint", "Pengaduan non-darurat", lambda r: r.totals.non_emergency_complaints),
    Indicator("wrong_number", "Salah sambung", lambda r: r.totals.wrong_number),
    Indicator("dispatched", "Diteruskan ke OPD", lambda r: r.totals.dispatched),
    Indicator("acknowledged_by_agency", "Diterima OPD", lambda r: r.totals.acknowledged_by_agency),
    Indicator("ticket_late_acknowledge", "Tiket terlambat diterima OPD", lambda r: r.totals.breached_acknowledge),
    Indicator("ticket_late_resolve", "Tiket terlambat diselesaikan OPD", lambda r: r.totals.breached_resolve),
    Indicator("answer_p90_seconds", "Waktu jawab P90 (detik)", lambda r: r.answer_times.p90_seconds),
    Indicator("service_level_10s", "Dijawab dalam 10 detik (NFPA 1225, target 0,90)", _level(10)),
    Indicator("service_level_15s", "Dijawab dalam 15 detik (NENA, target 0,90)", _level(15)),
    Indicator("service_level_20s", "Dijawab dalam 20 detik (NENA, target 0,95)", _level(20)),
)


@dataclass(frozen=True)
class RecapRow:
    indicator: str
    key: str
    label: str
    value: Number


def recap_rows(report: Report) -> Iterator[RecapRow]:
    for indicator in INDICATORS:
        yield RecapRow(indicator.code, "", indicator.label, indicator.value(report))
    for category in report.by_category:
        yield RecapRow("category_calls", category.category, category.label, category.calls)
    for agency in report.by_agency:
        yield RecapRow("agency_dispatched", agency.agency, agency.label, agency.dispatched)
        yield RecapRow("agency_acknowledged", agency.agency, agency.label, agency.acknowledged)


def recap_json(report: Report) -> bytes:
    document = {
        "schema_version": SCHEMA_VERSION,
        "pemda": report.pemda,
        "period_from": report.period_from.isoformat(),
        "period_to": report.period_to.isoformat(),
        "timezone": report.timezone,
        "generated_at": report.generated_at.isoformat(),
        "figures": [asdict(row) for row in recap_rows(report)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def recap_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    head = [SCHEMA_VERSION, report.pemda, report.period_from.isoformat(), report.period_to.isoformat(), report.timezone]
    for row in recap_rows(report):
        writer.writerow([*head, row.indicator, row.key, row.label, "" if row.value is None else row.value])
    return out.getvalue().encode("utf-8")
