"""The wallboard's dispatch panel from the records (what it means: reports/wallboard.py): the open dispatches, read
from the timelines of the calls that may hold one; the open tickets and those past their time limits.

Read from PostgreSQL inside the wallboard's one snapshot (store/wallboard.py), not from the dispatch service's
memory: the panel agrees with the rest of the wall, survives a restart of the service, and keeps a failed dispatch
on the wall after the dispatch service has let go of it. Every state change is a timeline event, and the journal
announces each commit on the live stream (room_changed), so the wall follows within the journal's flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, any_, bindparam, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from ntpd112.reports.wallboard import (
    DISPATCH_EVENTS,
    INCIDENT_WINDOW,
    TICKET_WINDOW,
    BoardDispatch,
    BoardEscalation,
    BoardOpenTicket,
    DispatchState,
    DispatchStep,
    dispatch_reading,
)
from ntpd112.routing.categories import Category, category_index
from ntpd112.routing.deadlines import Deadline
from ntpd112.store.models import Call, CallEvent, Incident, Ticket, TicketEscalation
from ntpd112.tickets.flow import AWAITING_ACKNOWLEDGEMENT, AWAITING_RESOLUTION, OPEN_STATUSES

FAILED = "failed"  # the incident's status once a dispatch's chain is exhausted (dispatch/transitions.py)
DEADLINE_ORDER = [deadline.value for deadline in Deadline]  # a ticket's missed limits are listed in this order


def one_of(column: QueryableAttribute[uuid.UUID], ids: Collection[uuid.UUID]) -> ColumnElement[bool]:
    """`column = ANY($1)`: one array parameter, so one prepared statement whatever the count (an IN list has a
    parameter per value, and each new count is a new statement to prepare)."""
    return column == any_(bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True))))


async def open_dispatches(
    session: AsyncSession,
    now: datetime,
    failed_calls: list[uuid.UUID],
    categories: list[Category],
    agency_names: Mapping[str, str],
) -> list[BoardDispatch]:
    """`failed_calls`: the calls of the last day whose incident is failed (store/wallboard._recent_incidents finds
    them in its one pass over those incidents). With the live calls of the last day that were dispatched, they are
    the calls that may hold an open dispatch: only their timelines are read."""
    dispatched = select(CallEvent.id).where(CallEvent.call_id == Call.id, CallEvent.type == "dispatch_requested")
    live = select(Call.id).where(Call.offered_at >= now - INCIDENT_WINDOW, Call.ended_at.is_(None), dispatched.exists())
    # Two statements, not one with an OR: estimated over every call of the window, the OR's cost crossed
    # PostgreSQL's JIT threshold (15 ms compiling a 1 ms query).
    candidates = set(await session.scalars(live)) | set(failed_calls)
    if not candidates:
        return []
    calls = await session.execute(
        select(Call.id, Call.caller_number, Call.area_kecamatan, Call.ended_at, Incident.category, Incident.status)
        .outerjoin(Incident, Incident.call_id == Call.id)
        .where(one_of(Call.id, candidates))
    )
    found = {row[0]: row for row in calls}
    steps: dict[uuid.UUID, list[DispatchStep]] = {}
    events = await session.execute(
        select(CallEvent.call_id, CallEvent.type, CallEvent.at, CallEvent.data)
        .where(one_of(CallEvent.call_id, found), CallEvent.type.in_(DISPATCH_EVENTS))
        .order_by(CallEvent.call_id, CallEvent.at, CallEvent.seq)
    )
    for call_id, kind, at, data in events:
        steps.setdefault(call_id, []).append(DispatchStep(kind, at, data or {}))
    known = category_index(categories)
    board = []
    for call_id, call_steps in steps.items():
        _, number, kecamatan, ended_at, category, status = found[call_id]
        reading = dispatch_reading(call_steps)
        if reading is None:
            continue
        # Ringing or answered only while the call lasts (a crash may leave no closing event); failed while the
        # incident stays failed.
        if (ended_at is not None) if reading.state is not DispatchState.FAILED else status != FAILED:
            continue
        board.append(
            BoardDispatch(
                call_id=call_id,
                caller_number=number,
                category=category,
                label=None if category is None else (known[category].label_id if category in known else category),
                kecamatan=kecamatan,
                mode=reading.mode,
                state=reading.state,
                agency=reading.agency,
                agency_label=None if reading.agency is None else agency_names.get(reading.agency, reading.agency),
                target=reading.target,
                attempt=reading.attempt,
                attempts=reading.attempts,
                since=reading.since,
                requested_at=reading.requested_at,
                requested_by=reading.requested_by,
            )
        )
    return sorted(board, key=lambda dispatch: dispatch.since, reverse=True)


async def open_tickets(
    session: AsyncSession, now: datetime, categories: list[Category], agency_names: Mapping[str, str]
) -> tuple[list[BoardOpenTicket], list[BoardEscalation]]:
    """The open tickets of the wallboard's ticket window, oldest first, and those of them past a limit they still
    miss (not yet acknowledged for the acknowledge limit, not yet resolved for the resolve one), the longest missed
    first: one read of the tickets, both rows of a ticket built from its one result row."""
    escalation = TicketEscalation
    still_missed = or_(
        and_(
            escalation.deadline == Deadline.ACKNOWLEDGE.value,
            Ticket.status.in_([s.value for s in AWAITING_ACKNOWLEDGEMENT]),
        ),
        and_(escalation.deadline == Deadline.RESOLVE.value, Ticket.status.in_([s.value for s in AWAITING_RESOLUTION])),
    )
    # Per ticket (LATERAL: the few open tickets' escalations through their key, not a hash join over them all).
    missed = (
        select(
            func.array_agg(func.distinct(escalation.deadline)).label("deadlines"),
            func.max(escalation.level).label("level"),
            func.min(escalation.due_at).label("missed_at"),
        )
        .where(escalation.ticket_id == Ticket.id, still_missed)
        .lateral()
    )
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.call_id,
            Ticket.agency,
            Ticket.category,
            Ticket.status,
            Ticket.created_at,
            Ticket.updated_at,
            missed.c.deadlines,
            missed.c.level,
            missed.c.missed_at,
        )
        .join(missed, true())
        .where(Ticket.created_at >= now - TICKET_WINDOW, Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(Ticket.created_at, Ticket.number)
    )
    known = category_index(categories)
    tickets: list[BoardOpenTicket] = []
    escalations: list[BoardEscalation] = []
    for ticket_id, number, call_id, agency, category, status, created, updated, deadlines, level, missed_at in rows:
        # The fields of BoardTicket, which both rows share.
        shown: dict[str, Any] = {
            "ticket_id": ticket_id,
            "number": number,
            "call_id": call_id,
            "agency": agency,
            "agency_label": agency_names.get(agency, agency),
            "category": category,
        }
        tickets.append(BoardOpenTicket(**shown, status=status, created_at=created, updated_at=updated))
        if deadlines:
            escalations.append(
                BoardEscalation(
                    **shown,
                    label=known[category].label_id if category in known else category,
                    status=status,
                    deadlines=sorted(deadlines, key=DEADLINE_ORDER.index),
                    level=level,
                    missed_at=missed_at,
                )
            )
    return tickets, sorted(escalations, key=lambda row: row.missed_at)
