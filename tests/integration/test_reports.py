"""The reports against the real PostgreSQL and service: a small day of calls whose figures are worked out by hand
below, read in WIB across the UTC day boundary; the CSV and XLSX carry the same numbers; bad queries get a 400."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.reports.rules import CallFacts, CallOutcome, Report, ReportRange, classify_call
from ntpd112.store.models import Call, CallEvent, Incident, Ticket, TicketEscalation
from ntpd112.store.reports import outcome_expression
from ntpd112.web.common import DEPS
from tests.integration.conftest import user_token
from tests.report_pdf import pdf_lines, printed_totals

WIB = timedelta(hours=7)
DAY = date(2026, 11, 30)  # a Monday


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


def wib(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB wall-clock time as the UTC instant the database stores."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC) - WIB


class Day:
    """Builds the rows; every offset is seconds after the call was offered."""

    def __init__(self) -> None:
        self.rows: list[Any] = []

    def call(
        self,
        offered: datetime,
        trunk: str = "telkomsel",
        *,
        answered: float | None = None,
        operator: str | None = None,
        talk: float | None = None,
        abandoned: float | None = None,
        ended: float | None = 120,
        category: str | None = None,
        area: tuple[str, str | None] | None = None,
        callback: tuple[str, str | None] | None = None,
        dispatch: tuple[tuple[str, float, float | None], ...] = (),  # (agency, attempt, its answer)
    ) -> uuid.UUID:
        def at(offset: float | None) -> datetime | None:
            return None if offset is None else offered + timedelta(seconds=offset)

        call_id = uuid.uuid4()
        self.rows.append(
            Call(
                id=call_id,
                uniqueid=f"report-{call_id}",
                trunk=trunk,
                carrier=trunk.capitalize(),
                handled_by="service",
                offered_at=offered,
                answered_at=at(1),  # the service's intake answer: never an operator answer
                operator_answered_at=at(answered),
                operator=operator,
                talk_seconds=talk,
                abandoned_at=at(abandoned),
                ended_at=at(ended),
                area_kecamatan=area[0] if area else None,
                area_kelurahan=area[1] if area else None,
                callback_status=callback[0] if callback else None,
                callback_reason="abandoned" if callback else None,
                callback_outcome=callback[1] if callback else None,
            )
        )
        if category is not None:
            self.rows.append(Incident(call_id=call_id, category=category, created_by="t", updated_by="t"))
        for agency, attempt, answer in dispatch:
            assert answered is not None
            steps = [("dispatch_attempt", attempt), ("agency_answered", answer)]
            self.rows += [
                CallEvent(
                    id=uuid.uuid4(), call_id=call_id, at=at(answered + offset), type=kind, data={"agency": agency}
                )
                for kind, offset in steps
                if offset is not None
            ]
        return call_id


async def store(service: Service, rows: list[Any]) -> None:
    async with service.database.session() as session, session.begin():
        session.add_all([r for r in rows if isinstance(r, Call)])
        await session.flush()
        session.add_all([r for r in rows if not isinstance(r, Call)])


@pytest.fixture
async def monday(service: Service) -> None:
    day = Day()
    # 13 calls offered on Monday 30 November in WIB (the first at 00:00 WIB is Sunday 17:00 UTC; the last two at
    # 23:30 and 23:59:59 WIB are Monday 16:30 and 16:59:59 UTC).
    a1, a2, b = ("Kota", "Bangselok"), ("Kota", "Pajagalan"), ("Kalianget", None)
    day.call(
        wib(DAY, 0), answered=4, operator="ani", talk=60, category="medical", area=a1, dispatch=(("psc119", 30, 42),)
    )
    day.call(wib(DAY, 8, 15), answered=8, operator="ani", talk=30, category="prank", area=a2)
    day.call(
        wib(DAY, 9),
        "indosat",
        answered=10,
        operator="budi",
        talk=120,
        category="fire",
        area=b,
        dispatch=(("damkar", 20, 50), ("psc119", 25, None)),
    )
    day.call(wib(DAY, 10), "indosat", answered=12, operator="budi", talk=45, category="silent")
    day.call(wib(DAY, 11), answered=15, operator="ani", talk=90, category="information")
    day.call(wib(DAY, 12), answered=18, operator="budi", talk=20, category="road")
    day.call(wib(DAY, 13), "xl", answered=24, operator="ani", talk=10)  # answered, never classified
    day.call(wib(DAY, 14), abandoned=3, ended=3, callback=("pending", None))  # phantom: 3 s < 5 s
    day.call(wib(DAY, 15), "indosat", abandoned=30, ended=30, callback=("done", "caller_answer"))
    day.call(wib(DAY, 16), abandoned=5, ended=5, callback=("failed", "caller_noanswer"))  # 5 s is not < 5 s
    day.call(wib(DAY, 18), "xl", ended=2)  # hung up during intake: unanswered
    day.call(wib(DAY, 23, 30), answered=6, operator="ani", talk=40, category="prank", area=a1)
    day.call(wib(DAY, 23, 59, 59), ended=None)  # still waiting
    # Outside the WIB day, inside the UTC day of the 30th or the 29th: none of these may count.
    day.call(wib(DAY + timedelta(days=1), 0), answered=2, operator="ani", category="fire", dispatch=(("polres", 5, 9),))
    day.call(wib(DAY, 0) - timedelta(seconds=1), abandoned=20, ended=20, callback=("pending", None))
    await store(service, day.rows)


EXPECTED_TOTALS = {
    # 8 answered (the seven daytime calls but the abandons and the intake hang-up, and 23:30); 1 phantom (3 s);
    # 2 abandoned (30 s, 5 s); 1 unanswered (intake); 1 waiting: 8 + 1 + 2 + 1 + 1 = 13 offered.
    "offered": 13,
    "answered": 8,
    "phantom_abandoned": 1,
    "abandoned": 2,
    "unanswered": 1,
    "waiting": 1,
    "valid_emergencies": 2,  # medical, fire
    "prank": 2,
    "silent": 1,
    "information": 1,
    "non_emergency_complaints": 1,  # road
    "wrong_number": 0,
    "test": 0,
    "other_category": 0,
    "unclassified_answered": 1,  # the 13:00 call
    "dispatched": 2,  # 00:00 (psc119), 09:00 (damkar and psc119)
    "acknowledged_by_agency": 2,
    "breached_acknowledge": 0,  # no ticket on the Monday alone; the `breaches` fixture adds them
    "breached_resolve": 0,
}


@pytest.fixture
async def breaches(service: Service, monday: None) -> None:
    """Agency tickets of the Monday's incidents (and of a Sunday call) and the escalations they reached: a limit
    counts on the WIB day its first escalation level fell due, whenever the call came; level 2 is the same miss."""
    sunday = Day()
    sunday.call(wib(DAY - timedelta(days=1), 20), answered=5, operator="ani", category="fire")
    await store(service, sunday.rows)
    async with service.database.session() as session:
        incidents = {
            (category, offered): (incident_id, call_id)
            for incident_id, call_id, category, offered in await session.execute(
                select(Incident.id, Incident.call_id, Incident.category, Call.offered_at).join(Call)
            )
        }
    monday_medical = incidents["medical", wib(DAY, 0)]
    monday_fire = incidents["fire", wib(DAY, 9)]
    monday_road = incidents["road", wib(DAY, 12)]
    sunday_fire = incidents["fire", wib(DAY - timedelta(days=1), 20)]
    # (incident, agency, category, [(deadline, level, due)]).
    tickets = [
        (
            monday_medical,
            "psc119",
            "medical",
            [("acknowledge", 1, wib(DAY, 0, 2)), ("acknowledge", 2, wib(DAY, 0, 12)), ("resolve", 1, wib(DAY, 4))],
        ),
        (monday_fire, "damkar", "fire", [("acknowledge", 1, wib(DAY, 9, 3))]),
        (monday_fire, "psc119", "fire", [("resolve", 1, wib(DAY + timedelta(days=1), 0, 30))]),  # Tuesday in WIB
        (monday_road, "bpbd", "road", [("resolve", 1, wib(DAY, 23, 59))]),  # 16:59 UTC
        # The Sunday call's ticket: acknowledged late on Sunday (not counted), resolved late on Monday (counted).
        (
            sunday_fire,
            "damkar",
            "fire",
            [("acknowledge", 1, wib(DAY, 0) - timedelta(seconds=1)), ("resolve", 1, wib(DAY, 1))],
        ),
        (monday_medical, "polres", "medical", []),  # on time: nothing
    ]
    async with service.database.session() as session, session.begin():
        for number, ((incident_id, call_id), agency, category, escalations) in enumerate(tickets, start=900001):
            ticket = Ticket(
                number=f"112-2026-{number}",
                incident_id=incident_id,
                call_id=call_id,
                agency=agency,
                category=category,
                status="acknowledged",
                created_by="t",
                created_at=wib(DAY, 0),
                updated_at=wib(DAY, 0),
            )
            session.add(ticket)
            await session.flush()
            session.add_all(
                TicketEscalation(ticket_id=ticket.id, deadline=deadline, level=level, due_at=due, recorded_at=due)
                for deadline, level, due in escalations
            )


# With the `breaches` fixture: psc119 medical (acknowledge and resolve), damkar fire (the Monday's acknowledge, the
# Sunday call's resolve), bpbd road (resolve); psc119 fire missed its limit on Tuesday WIB: not on Monday's report.
EXPECTED_BREACHES = [
    ("bpbd", "road", 0, 1),
    ("damkar", "fire", 1, 1),
    ("psc119", "medical", 1, 1),
]
BREACH_TOTALS = {"breached_acknowledge": 2, "breached_resolve": 3}


async def test_a_days_report_has_the_figures_worked_out_by_hand(service: Service, breaches: None) -> None:
    report = await build(service, DAY)
    assert report.totals.model_dump() == EXPECTED_TOTALS | BREACH_TOTALS
    found = [(row.agency, row.category, row.acknowledge, row.resolve) for row in report.breaches]
    assert found == EXPECTED_BREACHES
    labels = (report.breaches[2].agency_label, report.breaches[2].category_label)
    assert labels == ("psc119", "Kegawatdaruratan medis / ambulans")  # no routing table: the agency's id
    # Answer times, sorted: 4 6 8 10 12 15 18 24 (n = 8; percentile_cont interpolates at p * (n - 1)).
    times = report.answer_times
    assert times.p50_seconds == 11.0  # 3.5: between 10 and 12
    assert times.p90_seconds == 19.8  # 6.3: 18 + 0.3 * 6
    assert times.p95_seconds == 21.9  # 6.65: 18 + 0.65 * 6
    assert (times.mean_seconds, times.max_seconds, times.answered) == (12.1, 24.0, 8)  # 97 / 8 = 12.125
    # Counted: 8 answered + 2 abandoned + 1 unanswered = 11 (the phantom and the waiting call are not).
    levels = [(s.within_seconds, s.answered_within, s.counted, s.share, s.met) for s in report.service_levels]
    assert levels == [
        (10, 4, 11, 0.3636, False),  # 4 6 8 10
        (15, 6, 11, 0.5455, False),  # + 12 15
        (20, 7, 11, 0.6364, False),  # + 18
    ]
    # Operator answer -> first dispatch attempt: 30 s (00:00) and 20 s (09:00, damkar before psc119).
    assert report.processing.model_dump() == {"dispatched": 2, "p50_seconds": 25.0, "p90_seconds": 29.0}
    agencies = {row.agency: (row.dispatched, row.acknowledged, row.ack_p50_seconds) for row in report.by_agency}
    assert agencies == {"damkar": (1, 1, 30.0), "psc119": (2, 1, 12.0)}  # polres: the next WIB day
    operators = {row.operator: row for row in report.by_operator}
    # ani: 4 8 15 24 6 s to answer, talk 60 30 90 10 40; budi: 10 12 18 s, talk 120 45 20.
    assert (operators["ani"].handled, operators["ani"].talk_seconds, operators["ani"].mean_answer_seconds) == (
        5,
        230.0,
        11.4,
    )
    assert (operators["budi"].handled, operators["budi"].mean_talk_seconds, operators["budi"].mean_answer_seconds) == (
        3,
        61.7,
        13.3,
    )
    trunks = {row.trunk: (row.offered, row.answered, row.abandoned, row.phantom_abandoned) for row in report.by_trunk}
    assert trunks == {"telkomsel": (8, 5, 1, 1), "indosat": (3, 2, 1, 0), "xl": (2, 1, 0, 0)}
    # Hours in WIB: 00:00 holds the first call (17:00 UTC the day before); 23:00 the last two (16:xx UTC).
    hours = {row.hour: (row.offered, row.answered, row.waiting) for row in report.by_hour}
    assert len(hours) == 24
    assert (hours[0], hours[23], hours[16], hours[17], hours[18]) == (
        (1, 1, 0),
        (2, 1, 1),
        (1, 0, 0),
        (0, 0, 0),
        (1, 0, 0),
    )
    assert [(row.weekday, row.name, row.offered) for row in report.by_weekday if row.offered] == [(1, "Senin", 13)]
    assert [(row.day, row.offered) for row in report.by_day] == [(DAY, 13)]
    areas = {(row.kecamatan, row.kelurahan): (row.offered, row.answered) for row in report.by_area}
    assert areas == {
        ("Kalianget", None): (1, 1),
        ("Kota", "Bangselok"): (2, 2),
        ("Kota", "Pajagalan"): (1, 1),
        (None, None): (9, 4),
    }
    categories = {row.category: (row.group.value, row.calls) for row in report.by_category}
    assert categories == {
        "medical": ("valid_emergency", 1),
        "fire": ("valid_emergency", 1),
        "road": ("non_emergency_complaint", 1),
        "information": ("information", 1),
        "prank": ("prank", 2),
        "silent": ("silent", 1),
    }
    callbacks = [(row.status, row.outcome, row.calls) for row in report.callbacks]
    assert callbacks == [("done", "caller_answer", 1), ("failed", "caller_noanswer", 1), ("pending", None, 1)]


async def build(service: Service, first: date, last: date | None = None) -> Report:
    deps = service.web_app[DEPS]
    period = ReportRange(first, last or first, deps.report_settings.timezone)
    return await deps.reports.build(period, deps.report_settings, None, utcnow())


async def test_sql_and_python_decide_every_outcome_alike(service: Service) -> None:
    """The SQL statement of the rule against the Python one, on every combination of the facts it reads, the
    threshold's edges included."""
    offered = wib(DAY, 12)
    offsets = (None, 0.0, 4.999, 5.0, 5.001, 30.0)
    day, facts = Day(), {}
    for answered, abandoned, ended in itertools.product(offsets, offsets, (None, 60.0)):
        call_id = day.call(offered, answered=answered, abandoned=abandoned, ended=ended)
        row = day.rows[-1]
        facts[call_id] = CallFacts(row.offered_at, row.operator_answered_at, row.abandoned_at, row.ended_at)
    await store(service, day.rows)
    phantom = service.web_app[DEPS].report_settings.phantom_abandon_seconds
    statement = select(Call.id, outcome_expression(phantom)).where(Call.id.in_(list(facts)))
    async with service.database.session() as session:
        decided = {row[0]: CallOutcome(row[1]) for row in await session.execute(statement)}
    assert decided == {call_id: classify_call(f, phantom) for call_id, f in facts.items()}
    assert set(decided.values()) == set(CallOutcome)


@pytest.fixture
async def supervisor(service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {await user_token(service, 'sinta', 'supervisor')}"}


async def test_the_csv_and_xlsx_carry_the_jsons_numbers(
    service: Service, http: aiohttp.ClientSession, supervisor: dict[str, str], breaches: None
) -> None:
    query = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    async with http.get("/api/reports", params=query, headers=supervisor) as response:
        assert response.status == 200, await response.text()
        assert "Content-Disposition" not in response.headers
        report = Report.model_validate(await response.json())
    assert report.totals.model_dump() == EXPECTED_TOTALS | BREACH_TOTALS
    assert [(r.agency, r.category, r.acknowledge, r.resolve) for r in report.breaches] == EXPECTED_BREACHES
    async with http.get("/api/reports", params=query | {"format": "csv"}, headers=supervisor) as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert response.headers["Content-Disposition"] == 'attachment; filename="laporan-112-2026-11-30-2026-11-30.csv"'
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    async with http.get("/api/reports", params=query | {"format": "xlsx"}, headers=supervisor) as response:
        assert response.status == 200 and response.content_type.endswith("spreadsheetml.sheet")
        assert response.headers["Content-Disposition"].endswith('.xlsx"')
        workbook = load_workbook(io.BytesIO(await response.read()))
    csv_totals = {r["metric"]: int(r["value"]) for r in rows if r["section"] == "totals"}
    assert csv_totals == EXPECTED_TOTALS | BREACH_TOTALS
    _, *recap = list(workbook["recap"].iter_rows(values_only=True))
    xlsx_totals = {r[7]: r[8] for r in recap if r[4] == "totals"}
    assert xlsx_totals == EXPECTED_TOTALS | BREACH_TOTALS
    # Breaches: keyed by agency and category; the names stay on the section's own sheet.
    csv_breaches = {(r["key"], r["label"], r["metric"]): int(r["value"]) for r in rows if r["section"] == "breaches"}
    assert csv_breaches == {
        (agency, category, metric): value
        for agency, category, acknowledge, resolve in EXPECTED_BREACHES
        for metric, value in (("acknowledge", acknowledge), ("resolve", resolve))
    }
    breach_sheet = list(workbook["breaches"].iter_rows(values_only=True))
    assert breach_sheet[0] == ("agency", "category", "agency_label", "category_label", "acknowledge", "resolve")
    assert [(r[0], r[1], r[4], r[5]) for r in breach_sheet[1:]] == EXPECTED_BREACHES
    levels = [r for r in rows if r["section"] == "service_levels" and r["metric"] == "share"]
    assert {r["key"]: r["value"] for r in levels} == {"10": "0.3636", "15": "0.5455", "20": "0.6364"}
    totals_sheet = list(workbook["totals"].iter_rows(values_only=True))
    assert dict(zip(totals_sheet[0], totals_sheet[1], strict=True)) == EXPECTED_TOTALS | BREACH_TOTALS
    hour_sheet = {row[0]: row[1] for row in list(workbook["by_hour"].iter_rows(values_only=True))[1:]}
    assert (hour_sheet[0], hour_sheet[23]) == (1, 2)


async def test_the_pdf_carries_the_jsons_numbers(
    http: aiohttp.ClientSession, supervisor: dict[str, str], breaches: None
) -> None:
    """The PDF's text layer (read back with pypdf) against the JSON of the same range."""
    query = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    async with http.get("/api/reports", params=query, headers=supervisor) as response:
        report = Report.model_validate(await response.json())
    async with http.get("/api/reports", params=query | {"format": "pdf"}, headers=supervisor) as response:
        assert response.status == 200 and response.content_type == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="laporan-112-2026-11-30-2026-11-30.pdf"'
        data = await response.read()
    assert printed_totals(data) == report.totals.model_dump() == EXPECTED_TOTALS | BREACH_TOTALS
    lines = pdf_lines(data)
    assert "Periode: 30 November 2026 s.d. 30 November 2026 (WIB)" in lines
    # 4 of 11 within 10 s (the hand-worked figures above), printed as Indonesians write them.
    assert "NFPA 1225: dijawab <= 10 dtk 90,0 % 4 / 11 36,4 % Tidak tercapai" in lines
    assert "8 panggilan dijawab 11,0 dtk 19,8 dtk 21,9 dtk 12,1 dtk 24,0 dtk" in lines
    assert "30 November 2026 13 8 2 1 1" in lines  # by day: offered, answered, abandoned, phantom, unanswered
    # Breaches by agency and category: OPD, category, late to acknowledge, late to resolve (the JSON's rows).
    assert len(report.breaches) == len(EXPECTED_BREACHES)
    for row in report.breaches:
        assert f"{row.agency_label} {row.category_label} {row.acknowledge} {row.resolve}" in lines, row


@pytest.mark.parametrize(
    ("query", "error_id"),
    [
        ({"from": "2026-11-30", "to": "2026-11-01"}, "invalid_range"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "invalid_range"),  # 367 days
        ({"from": "2026-11-31", "to": "2026-12-01"}, "invalid_request"),
        ({"from": "yesterday", "to": "2026-12-01"}, "invalid_request"),
        ({"from": "2026-11-01", "to": "9999-12-31"}, "invalid_request"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "invalid_request"),
        ({"from": "2026-11-01"}, "invalid_request"),
        ({"from": "2026-11-01", "to": "2026-11-02", "format": "docx"}, "invalid_request"),
        ({"from": "2026-11-01", "to": "2026-11-02", "tz": "UTC"}, "invalid_request"),
        ({"first": "2026-11-01", "last": "2026-11-02"}, "invalid_request"),
    ],
)
async def test_bad_ranges_are_refused_with_400(
    http: aiohttp.ClientSession, supervisor: dict[str, str], query: dict[str, str], error_id: str
) -> None:
    async with http.get("/api/reports", params=query, headers=supervisor) as response:
        assert response.status == 400, await response.text()
        assert (await response.json())["error"]["id"] == error_id


async def test_an_operator_may_not_read_the_reports(service: Service, http: aiohttp.ClientSession) -> None:
    operator = {"Authorization": f"Bearer {await user_token(service, 'ani', 'operator')}"}
    async with http.get(
        "/api/reports", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=operator
    ) as response:
        assert response.status == 403
