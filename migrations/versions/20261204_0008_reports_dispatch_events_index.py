"""reports: a partial index on the dispatch steps of the timeline

The reports read, for the calls of a range, the dispatch attempts and agency answers among every event of the
timeline (a call has a dozen or more): this index holds only those two kinds of event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_call_events_dispatch_steps",
        "call_events",
        ["call_id", "type", "at"],
        postgresql_where=sa.text("type IN ('dispatch_attempt', 'agency_answered')"),
    )


def downgrade() -> None:
    op.drop_index("ix_call_events_dispatch_steps", table_name="call_events")
