"""operator presence: when each operator logged in, paused (and why), resumed and logged out

The queue's member events (AMI) say who is logged in and paused now; the reports need how long over a range, so each
change is kept as a row: from `at`, the operator is `state` (with `reason` while paused) until their next row.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_presence",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        # No foreign key: the history outlives an operator who is removed.
        sa.Column("operator", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.CheckConstraint("state IN ('available', 'paused', 'logged_out')", name=op.f("ck_operator_presence_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_presence")),
    )
    # The reports read each operator's rows of a range and the last row before it.
    op.create_index("ix_operator_presence_operator_at", "operator_presence", ["operator", "at"])
    op.create_index("ix_operator_presence_at", "operator_presence", ["at"])


def downgrade() -> None:
    op.drop_table("operator_presence")
