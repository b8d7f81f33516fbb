"""The wallboard's snapshot against the real PostgreSQL, Asterisk (device states over AMI) and service: the reports'
hand-worked Monday (tests/integration/test_reports.py) seen from the wallboard at 23:59:59.5 WIB, plus the week
before it, operators, a map incident and tickets, each figure worked out below; the day's numbers are the report's
own (one rule); only supervisors and admins may read it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import select, update

from ntpd112.access.roles import Role
from ntpd112.app import Service
from ntpd112.queue.operators import NewOperator
from ntpd112.reports.wallboard import OperatorState, Wallboard
from ntpd112.room.priority import PriorityReason
from ntpd112.store.models import Call, CallerFlag, Incident, Operator, Ticket
from ntpd112.web.common import DEPS
from tests.integration.conftest import agency_token, user_token
from tests.integration.test_reports import DAY, EXPECTED_TOTALS, Day, build, monday, store, wib

__all__ = ["monday"]  # the reports' Monday, used as a fixture here

NOW = wib(DAY, 23, 59, 59) + timedelta(milliseconds=500)
WAITING_NUMBER = "+6281234500001"


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


@pytest.fixture
async def week_and_room(service: Service, monday: None) -> dict[str, uuid.UUID]:
    day = Day()
    # The 7 days before: one call at 08:10 WIB each day, and 14 more at 09:00 on Sunday 29th: hour 8 averages
    # 7 / 7 = 1.0, hour 9 14 / 7 = 2.0. The Monday before that (23rd) is 8 days back: outside the average.
    for back in range(1, 8):
        day.call(wib(DAY - timedelta(days=back), 8, 10), ended=30)
    for minute in range(14):
        day.call(wib(DAY - timedelta(days=1), 9, minute), ended=30)
    day.call(wib(DAY - timedelta(days=8), 8, 10), ended=30)
    # budi's call of 23:58:44.5, still open: he is on it (75 s), the records say, whatever his unregistered phone.
    talking = day.call(NOW - timedelta(seconds=80), answered=5, operator="budi", ended=None, category="fire")
    await store(service, day.rows)
    waiting = await _call_at(service, wib(DAY, 23, 59, 59))
    async with service.database.session() as session, session.begin():
        # The Monday's last call, still waiting: a flagged prankster with a location and earlier calls today.
        await session.execute(
            update(Call)
            .where(Call.id == waiting)
            .values(
                caller_number=WAITING_NUMBER,
                queue_priority=1,
                queue_joined_at=wib(DAY, 23, 59, 59) + timedelta(milliseconds=200),
                best_lat=-6.3,
                best_lon=106.7,
                repeat_caller=True,
                calls_24h=3,
                area_kecamatan="Pamulang",
            )
        )
        session.add(CallerFlag(number=WAITING_NUMBER, prankster=True, set_by="t"))
        await session.execute(update(Incident).where(Incident.call_id == talking).values(lat=-6.29, lon=106.72))
        await session.execute(
            update(Incident).where(Incident.category == "road").values(status="closed")  # off the map
        )
        incident_id = await session.scalar(select(Incident.id).where(Incident.call_id == talking))
        for number, status in (("112-2026-000001", "sent"), ("112-2026-000002", "closed")):
            session.add(
                Ticket(
                    number=number,
                    incident_id=incident_id,
                    call_id=talking,
                    agency="damkar" if status == "sent" else "psc119",
                    category="fire",
                    status=status,
                    created_by="budi",
                    created_at=NOW - timedelta(seconds=30),
                    updated_at=NOW - timedelta(seconds=20),
                )
            )
    for username, name in (("budi", "Budi Santoso"), ("ani", "Ani Lestari"), ("cici", "Cici Paramita")):
        await service.operators.add(NewOperator(username=username, name=name))
    async with service.database.session() as session, session.begin():
        # State written as the operator service writes it (no phone of theirs registers in this test).
        await session.execute(
            update(Operator).where(Operator.username == "budi").values(logged_in=True, state_changed_at=NOW)
        )
        await session.execute(
            update(Operator)
            .where(Operator.username == "cici")
            .values(logged_in=True, paused=True, pause_reason="meal", state_changed_at=NOW - timedelta(minutes=7))
        )
    return {"talking": talking, "waiting": waiting}


async def _call_at(service: Service, offered: datetime) -> uuid.UUID:
    async with service.database.session() as session:
        found = await session.scalar(select(Call.id).where(Call.offered_at == offered))
    assert found is not None
    return found


async def test_the_wallboard_at_the_end_of_the_hand_worked_monday(
    service: Service, week_and_room: dict[str, uuid.UUID]
) -> None:
    board = await service.web_app[DEPS].wallboard.snapshot(NOW, None)
    today = board.today
    assert (today.day, today.timezone) == (DAY, "Asia/Jakarta")
    # The report's Monday plus budi's open call (23:58:39.5, answered 5 s later: in every service level).
    flow = today.flow.model_dump()
    expected = {k: EXPECTED_TOTALS[k] for k in flow} | {"offered": 14, "answered": 9}
    assert flow == expected
    levels = [(s.within_seconds, s.answered_within, s.counted, s.share, s.met) for s in today.service_levels]
    assert levels == [(10, 5, 12, 0.4167, False), (15, 7, 12, 0.5833, False), (20, 8, 12, 0.6667, False)]
    # The same rule as the report's: the day's report has the same levels.
    report = await build(service, DAY)
    assert report.service_levels == today.service_levels
    # Abandoned (not the 3 s phantom), newest first, with the callback's status.
    assert [(a.offered_at, a.wait_seconds, a.callback_status, a.callback_outcome) for a in today.abandoned] == [
        (wib(DAY, 16), None, "failed", "caller_noanswer"),
        (wib(DAY, 15), None, "done", "caller_answer"),
    ]
    hours = {h.hour: (h.today, h.average) for h in today.by_hour}
    # 23:00: 23:30, budi's 23:58:39.5 and the waiting 23:59:59; its average: 23:59:59 on the 29th, 1 / 7.
    assert (hours[0], hours[8], hours[9], hours[23], hours[12]) == ((1, 0.0), (1, 1.0), (1, 2.0), (3, 0.1), (1, 0.0))
    assert sum(h.today for h in today.by_hour) == 14
    categories = {c.category: c.calls for c in today.by_category}
    assert categories == {"medical": 1, "fire": 2, "road": 1, "information": 1, "prank": 2, "silent": 1}
    assert today.nuisance.model_dump() == {"prank": 2, "silent": 1, "prank_share": 0.1429, "silent_share": 0.0714}

    # The one waiting call: the prankster's low priority and why.
    [waiting] = board.waiting
    assert (waiting.call_id, waiting.caller_number, waiting.priority) == (week_and_room["waiting"], WAITING_NUMBER, 1)
    assert waiting.priority_reasons == [PriorityReason.PRANKSTER]
    assert (waiting.repeat_caller, waiting.calls_24h, waiting.kecamatan) == (True, 3, "Pamulang")
    assert waiting.queue_joined_at is not None and not waiting.overflowed

    operators = {o.username: o for o in board.operators}
    assert set(operators) == {"ani", "budi", "cici"}
    # No phone registered (their endpoints exist in Asterisk, with no contact).
    assert [o.phone_registered for o in board.operators] == [False, False, False]
    assert operators["ani"].state is OperatorState.LOGGED_OUT
    assert (operators["cici"].state, operators["cici"].pause_reason) == (OperatorState.PAUSED, "meal")
    assert operators["cici"].since == NOW - timedelta(minutes=7)
    # budi's phone is unreachable: the records say he is on his call, since its answer.
    budi = operators["budi"]
    assert (budi.state, budi.since) == (OperatorState.ON_CALL, NOW - timedelta(seconds=75))
    assert budi.call is not None and budi.call.call_id == week_and_room["talking"]

    # Open incidents of calls of the last 24 hours (road closed): the Monday's 6 others, the next day's fire (the
    # records' future, here) and budi's.
    assert len(board.incidents) == 8
    pinned = [(i.call_id, i.lat, i.lon, i.label) for i in board.incidents if i.lat is not None]
    assert pinned == [(week_and_room["talking"], -6.29, 106.72, "Kebakaran")]
    assert [(t.number, t.agency, t.status) for t in board.tickets] == [("112-2026-000001", "damkar", "sent")]


async def test_only_supervisors_and_admins_read_the_wallboard(service: Service, http: aiohttp.ClientSession) -> None:
    answers: tuple[tuple[Role, int], ...] = (("supervisor", 200), ("admin", 200), ("operator", 403))
    for role, status in answers:
        token = await user_token(service, f"wall-{role}", role)
        async with http.get("/api/wallboard", headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status == status, (role, await response.text())
            if status == 200:
                board = Wallboard.model_validate(await response.json())
                assert len(board.today.by_hour) == 24
            else:
                assert (await response.json())["error"]["id"] == "forbidden"
    agency = await agency_token(service, "wall-damkar", "damkar")
    async with http.get("/api/wallboard", headers={"Authorization": f"Bearer {agency}"}) as response:
        assert response.status == 403
    async with http.get("/api/wallboard") as response:
        assert response.status == 401
