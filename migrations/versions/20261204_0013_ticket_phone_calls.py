"""phone notifications of tickets: ticket_phone_calls (one per ticket event rung to the agency's duty number,
pending until the desk presses 1, the last attempt, or the ticket no longer waits) and ticket_phone_call_attempts
(every attempt with its outcome)

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_phone_calls",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("number", sa.String(15), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('pending', 'acknowledged', 'failed', 'cancelled')", name=op.f("ck_ticket_phone_calls_status")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_phone_calls_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_phone_calls")),
    )
    op.create_index(op.f("ix_ticket_phone_calls_ticket_id"), "ticket_phone_calls", ["ticket_id"])
    op.create_index(
        "ix_ticket_phone_calls_pending",
        "ticket_phone_calls",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "ticket_phone_call_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("digit", sa.String(1)),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["ticket_phone_calls.id"],
            name=op.f("fk_ticket_phone_call_attempts_call_id_ticket_phone_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_phone_call_attempts")),
        sa.UniqueConstraint("call_id", "attempt", name="uq_ticket_phone_call_attempts_call_attempt"),
    )


def downgrade() -> None:
    op.drop_table("ticket_phone_call_attempts")
    op.drop_table("ticket_phone_calls")
