"""The partial index of open tickets (migration 0014) must name exactly the open statuses: with one missing,
PostgreSQL can no longer prove that the wallboard's open tickets lie inside the index and scans the month's tickets
again (docs/BENCHMARKS.md)."""

import re

from sqlalchemy import Table

from ntpd112.store.models import Ticket
from ntpd112.tickets.flow import OPEN_STATUSES


def test_the_open_tickets_index_names_the_open_statuses() -> None:
    table = Ticket.__table__
    assert isinstance(table, Table)
    (index,) = [i for i in table.indexes if i.name == "ix_tickets_open_created_at"]
    where = str(index.dialect_options["postgresql"]["where"])
    assert set(re.findall(r"'(\w+)'", where)) == {s.value for s in OPEN_STATUSES}
