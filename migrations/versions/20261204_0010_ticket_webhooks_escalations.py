"""agency webhooks and ticket escalations: agency_webhook_secrets, webhook_deliveries and webhook_attempts (every
attempt with its status code), ticket_escalations (each missed deadline's levels, once); ticket_events may record
an escalation

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("ticket_events", "kind", type_=sa.String(16), existing_type=sa.String(8), existing_nullable=False)
    op.drop_constraint(op.f("ck_ticket_events_kind"), "ticket_events", type_="check")
    op.create_check_constraint(
        op.f("ck_ticket_events_kind"), "ticket_events", "kind IN ('status', 'comment', 'escalated')"
    )
    op.create_table(
        "ticket_escalations",
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("deadline", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("deadline IN ('acknowledge', 'resolve')", name=op.f("ck_ticket_escalations_deadline")),
        sa.CheckConstraint("level >= 1", name=op.f("ck_ticket_escalations_level")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_escalations_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", "deadline", "level", name=op.f("pk_ticket_escalations")),
    )
    op.create_index(op.f("ix_ticket_escalations_due_at"), "ticket_escalations", ["due_at"])
    op.create_table(
        "agency_webhook_secrets",
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_agency_webhook_secrets")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_deliveries_status")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_webhook_deliveries_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(op.f("ix_webhook_deliveries_ticket_id"), "webhook_deliveries", ["ticket_id"])
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.String(200)),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        sa.UniqueConstraint("delivery_id", "attempt", name="uq_webhook_attempts_delivery_attempt"),
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("agency_webhook_secrets")
    op.drop_table("ticket_escalations")
    op.execute("DELETE FROM ticket_events WHERE kind = 'escalated'")
    op.drop_constraint(op.f("ck_ticket_events_kind"), "ticket_events", type_="check")
    op.create_check_constraint(op.f("ck_ticket_events_kind"), "ticket_events", "kind IN ('status', 'comment')")
    op.alter_column("ticket_events", "kind", type_=sa.String(8), existing_type=sa.String(16), existing_nullable=False)
