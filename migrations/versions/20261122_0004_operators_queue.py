"""operators, queue outcome on calls, recordings, callback list, caller flags

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CALL_COLUMNS = [
    sa.Column("recording_path", sa.String(255)),
    sa.Column("recording_seconds", sa.Double()),
    sa.Column("queue_priority", sa.Integer()),
    sa.Column("queue_joined_at", sa.DateTime(timezone=True)),
    sa.Column("operator_answered_at", sa.DateTime(timezone=True)),
    sa.Column("operator", sa.String(40)),
    sa.Column("ring_attempts", sa.Integer()),
    sa.Column("wait_seconds", sa.Double()),
    sa.Column("talk_seconds", sa.Double()),
    sa.Column("abandoned_at", sa.DateTime(timezone=True)),
    sa.Column("callback_status", sa.String(16)),
    sa.Column("callback_reason", sa.String(16)),
    sa.Column("callback_taken_by", sa.String(40)),
    sa.Column("callback_taken_at", sa.DateTime(timezone=True)),
    sa.Column("callback_outcome", sa.String(40)),
    sa.Column("callback_attempts", sa.Integer()),
]


def upgrade() -> None:
    for column in _CALL_COLUMNS:
        op.add_column("calls", column)
    op.create_index(op.f("ix_calls_callback_status"), "calls", ["callback_status"])
    op.create_table(
        "operators",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sip_md5_cred", sa.String(32), nullable=False),
        sa.Column("contact", sa.String(255), nullable=True),
        sa.Column("logged_in", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.String(40), nullable=True),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    op.create_table(
        "caller_flags",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("prankster", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(80), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_caller_flags")),
    )


def downgrade() -> None:
    op.drop_table("caller_flags")
    op.drop_table("operators")
    op.drop_index(op.f("ix_calls_callback_status"), table_name="calls")
    for column in reversed(_CALL_COLUMNS):
        op.drop_column("calls", column.name)
