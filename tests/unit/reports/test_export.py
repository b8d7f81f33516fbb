"""The report's files: the flat recap (CSV and the XLSX's first sheet) maps every section; the XLSX agrees."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from ntpd112.reports.export import render, to_xlsx
from ntpd112.reports.files import RECAP_COLUMNS, SECTIONS, file_name, to_csv
from ntpd112.reports.rules import (
    SERVICE_LEVEL_TARGETS,
    AgencyRow,
    AnswerTimes,
    AreaRow,
    CallbackRow,
    CategoryRow,
    DayRow,
    HourRow,
    OperatorRow,
    ProcessingTimes,
    RecapGroup,
    Report,
    Totals,
    TrunkRow,
    WeekdayRow,
    service_level,
)


def sample() -> Report:
    return Report(
        pemda="Kabupaten Sumenep",
        period_from=date(2026, 11, 1),
        period_to=date(2026, 11, 30),
        timezone="Asia/Jakarta",
        phantom_abandon_seconds=5,
        generated_at=datetime(2026, 12, 1, tzinfo=UTC),
        totals=Totals(offered=3, answered=2, abandoned=1, valid_emergencies=1, prank=1),
        answer_times=AnswerTimes(
            answered=2, p50_seconds=7.5, p90_seconds=9.5, p95_seconds=9.8, mean_seconds=7.5, max_seconds=10
        ),
        service_levels=[service_level(t, 2, 3) for t in SERVICE_LEVEL_TARGETS],
        processing=ProcessingTimes(dispatched=1, p50_seconds=40, p90_seconds=40),
        by_category=[
            CategoryRow(category="fire", label="Kebakaran", group=RecapGroup.VALID_EMERGENCY, calls=1),
            CategoryRow(category="prank", label="Panggilan iseng", group=RecapGroup.PRANK, calls=1),
        ],
        by_agency=[AgencyRow(agency="damkar", label="Damkar", dispatched=1, acknowledged=1, ack_p50_seconds=12)],
        by_area=[AreaRow(kecamatan="Kota Sumenep", kelurahan=None, offered=3, answered=2, abandoned=1)],
        by_operator=[
            OperatorRow(operator="ani", handled=2, talk_seconds=90, mean_talk_seconds=45, mean_answer_seconds=7.5)
        ],
        by_trunk=[TrunkRow(trunk="telkomsel", carrier="Telkomsel", offered=3, answered=2, abandoned=1)],
        by_hour=[HourRow(hour=h, offered=3 if h == 23 else 0) for h in range(24)],
        by_weekday=[WeekdayRow(weekday=w, name=str(w)) for w in range(1, 8)],
        by_day=[DayRow(day=date(2026, 11, 30), offered=3, answered=2, abandoned=1)],
        callbacks=[CallbackRow(status="done", outcome="caller_answer", calls=1)],
    )


def recap_rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(to_csv(report))))


def test_every_section_of_the_report_is_in_the_recap() -> None:
    sections = {name for name in Report.model_fields if isinstance(getattr(sample(), name), list | Totals)}
    sections |= {"answer_times", "processing"}
    assert {s.name for s in SECTIONS} == sections


def test_the_csv_recap_is_one_flat_row_per_figure() -> None:
    rows = recap_rows(sample())
    assert tuple(rows[0]) == RECAP_COLUMNS
    assert all(r["period_from"] == "2026-11-01" and r["timezone"] == "Asia/Jakarta" for r in rows)

    def value(section: str, metric: str, key: str = "") -> str:
        (row,) = [r for r in rows if (r["section"], r["key"], r["metric"]) == (section, key, metric)]
        return row["value"]

    assert value("totals", "offered") == "3" and value("totals", "valid_emergencies") == "1"
    assert value("service_levels", "met", "10") == "false" and value("service_levels", "share", "10") == "0.6667"
    assert value("by_category", "group", "fire") == "valid_emergency"
    assert value("by_hour", "offered", "23") == "3" and value("by_hour", "offered", "0") == "0"
    assert value("by_day", "answered", "2026-11-30") == "2"
    assert value("answer_times", "p90_seconds") == "9.5"
    area = [r for r in rows if r["section"] == "by_area"]
    assert {(r["key"], r["label"]) for r in area} == {("Kota Sumenep", "")}  # kelurahan unknown: empty


def same(value: object) -> object:
    """A cell and a CSV field compared as what they mean: numbers as numbers (the XLSX reads 10.0 back as 10)."""
    if value is None or value is True or value is False:
        return {None: "", True: "true", False: "false"}[value]
    try:
        return float(str(value))
    except ValueError:
        return str(value)


def test_the_xlsx_carries_the_csv_recap_and_a_sheet_per_section() -> None:
    report = sample()
    workbook = load_workbook(io.BytesIO(to_xlsx(report)))
    assert workbook.sheetnames == ["recap", *(s.name for s in SECTIONS)]
    recap = [[same(v) for v in row] for row in workbook["recap"].iter_rows(values_only=True)]
    assert recap == [[same(v) for v in row] for row in csv.reader(io.StringIO(to_csv(report)))]
    hours = list(workbook["by_hour"].iter_rows(values_only=True))
    assert hours[0][:2] == ("hour", "offered") and hours[24][:2] == (23, 3)
    assert render(report, "xlsx")[:2] == b"PK"
    assert file_name(report, "csv") == "laporan-112-2026-11-01-2026-11-30.csv"
