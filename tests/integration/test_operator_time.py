"""Operator time in the reports: presence rows and calls of a day whose figures are worked out by hand below (read
in WIB, a state carried in from the day before, a pause still open at midnight, a report of today cut at its time);
and the queue's real member events (AMI, real Asterisk) landing in operator_presence."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from ntpd112.app import Service
from ntpd112.queue.operators import NewOperator
from ntpd112.reports.rules import OperatorPauseRow, Report, ReportRange
from ntpd112.store.models import OperatorPresence
from ntpd112.store.reports import ReportRepository
from ntpd112.web.common import DEPS
from tests.integration.conftest import wait_until
from tests.integration.test_reports import DAY, Day, store, wib

WRAP_UP = 5


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


def presence(operator: str, at: datetime, state: str, reason: str | None = None) -> OperatorPresence:
    return OperatorPresence(operator=operator, at=at, state=state, reason=reason)


@pytest.fixture
async def shifts(service: Service) -> None:
    before = DAY - timedelta(days=1)
    day = Day()
    day.rows += [
        # citra: logged in since the evening before (carried into the day), two pauses, logged out at 16:00.
        presence("citra", wib(before, 22), "available"),
        presence("citra", wib(DAY, 8), "paused", "meal"),
        presence("citra", wib(DAY, 8, 30), "available"),
        presence("citra", wib(DAY, 12), "paused", "break"),
        presence("citra", wib(DAY, 12, 15), "available"),
        presence("citra", wib(DAY, 16), "logged_out"),
        # dodi: 20:00 - 22:00 available, then paused for training past midnight (cut at 24:00).
        presence("dodi", wib(DAY, 20), "available"),
        presence("dodi", wib(DAY, 22), "paused", "training"),
        presence("dodi", wib(DAY + timedelta(days=1), 1), "logged_out"),
        # eka: logged out the day before and never back: no time, no row.
        presence("eka", wib(before, 9), "available"),
        presence("eka", wib(before, 10), "logged_out"),
    ]
    # citra's calls: answered 09:00:10, talk 100 s (to 09:01:50); the next answered 09:01:52 (offered 09:01:40
    # + 12 s), talk 60 s (to 09:02:52). Wrap-up: 2 s (cut by the next answer) + 5 s = 7 s.
    day.call(wib(DAY, 9), answered=10, operator="citra", talk=100)
    day.call(wib(DAY, 9, 1, 40), answered=12, operator="citra", talk=60)
    await store(service, day.rows)


async def report_at(service: Service, generated_at: datetime) -> Report:
    settings = service.web_app[DEPS].report_settings
    period = ReportRange(DAY, DAY, settings.timezone)
    return await ReportRepository(service.database, WRAP_UP).build(period, settings, None, generated_at)


async def test_operator_time_of_a_day_worked_out_by_hand(service: Service, shifts: None) -> None:
    report = await report_at(service, wib(DAY + timedelta(days=3), 12))
    rows = {row.operator: row for row in report.by_operator}
    assert set(rows) == {"citra", "dodi"}
    citra = rows["citra"]
    # Logged in 00:00 - 16:00 = 57 600 s; paused 1 800 (meal) + 900 (break) = 2 700; available 54 900;
    # talk 160, wrap-up 7: idle 54 900 - 160 - 7 = 54 733.
    assert (citra.handled, citra.talk_seconds) == (2, 160.0)
    assert (citra.logged_in_seconds, citra.pause_seconds, citra.wrap_up_seconds, citra.idle_seconds) == (
        57600.0,
        2700.0,
        7.0,
        54733.0,
    )
    dodi = rows["dodi"]
    # 20:00 - 24:00 = 14 400 s logged in, 7 200 paused (22:00 - 24:00), no call: idle 7 200.
    assert (dodi.handled, dodi.talk_seconds, dodi.mean_talk_seconds) == (0, 0.0, None)
    assert (dodi.logged_in_seconds, dodi.pause_seconds, dodi.wrap_up_seconds, dodi.idle_seconds) == (
        14400.0,
        7200.0,
        0.0,
        7200.0,
    )
    assert report.operator_pauses == [
        OperatorPauseRow(operator="citra", reason="break", seconds=900.0),
        OperatorPauseRow(operator="citra", reason="meal", seconds=1800.0),
        OperatorPauseRow(operator="dodi", reason="training", seconds=7200.0),
    ]


async def test_todays_report_counts_time_up_to_now(service: Service, shifts: None) -> None:
    report = await report_at(service, wib(DAY, 12, 10))
    citra = next(row for row in report.by_operator if row.operator == "citra")
    # 00:00 - 12:10 = 43 800 s; paused 1 800 (meal) + 600 (break until now) = 2 400; idle 41 400 - 160 - 7.
    assert (citra.logged_in_seconds, citra.pause_seconds, citra.idle_seconds) == (43800.0, 2400.0, 41233.0)
    assert [row.operator for row in report.by_operator] == ["citra"]  # dodi logs in at 20:00


async def test_the_queues_member_events_are_kept_as_presence(service: Service) -> None:
    operators = service.operators
    await operators.add(NewOperator(username="op7", name="Operator Tujuh"))
    await operators.login("op7")
    await operators.pause("op7", "meal")
    await operators.resume("op7")
    await operators.logout("op7")
    expected = [("available", None), ("paused", "meal"), ("available", None), ("logged_out", None)]

    async def kept() -> list[tuple[str, str | None]]:
        async with service.database.session() as session:
            rows = await session.execute(
                select(OperatorPresence.state, OperatorPresence.reason)
                .where(OperatorPresence.operator == "op7")
                .order_by(OperatorPresence.at, OperatorPresence.id)
            )
            return [(state, reason) for state, reason in rows]

    async def all_kept() -> bool:
        return await kept() == expected

    await wait_until(all_kept, timeout=10)
