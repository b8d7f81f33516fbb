"""the open tickets by creation time (partial index): the wallboard's open tickets and tickets past their limits

Both read the open tickets of the last 30 days (store/wallboard.py, store/wallboard_dispatch.py); through
ix_tickets_created_at PostgreSQL fetched every ticket of those 30 days and dropped the closed ones (16,000 rows for
260 open at a million calls a year: 8-10 ms each; docs/BENCHMARKS.md). The open ones are few, so the index is small.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# tickets.flow.OPEN_STATUSES (written out: a migration stays as it was when the statuses change).
_OPEN = "status IN ('new', 'sent', 'acknowledged', 'en_route', 'on_scene', 'resolved')"


def upgrade() -> None:
    op.create_index("ix_tickets_open_created_at", "tickets", ["created_at"], postgresql_where=sa.text(_OPEN))


def downgrade() -> None:
    op.drop_index("ix_tickets_open_created_at", table_name="tickets")
