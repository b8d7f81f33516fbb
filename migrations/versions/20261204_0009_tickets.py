"""agency tickets: tickets (one per incident and agency), ticket_events (every status change and comment, who and
when), ticket_counters (the yearly sequence of ticket numbers)

Revision ID: 0009
Revises: 0008 (the reports index)
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
# Tickets refer to incidents (0002), which this branch (0004 <- 0007 <- 0008) does not include.
depends_on: str | Sequence[str] | None = "0002"

STATUSES = ("new", "sent", "acknowledged", "en_route", "on_scene", "resolved", "closed", "rejected", "cancelled")


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("final_report", sa.Text()),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('" + "', '".join(STATUSES) + "')", name=op.f("ck_tickets_status")),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_tickets_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_tickets_call_id_calls"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
        sa.UniqueConstraint("incident_id", "agency", name="uq_tickets_incident_agency"),
    )
    op.create_index("ix_tickets_agency_status", "tickets", ["agency", "status"])
    op.create_index(op.f("ix_tickets_call_id"), "tickets", ["call_id"])
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"])
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16)),
        sa.Column("by", sa.String(80), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("text", sa.Text()),
        sa.CheckConstraint("kind IN ('status', 'comment')", name=op.f("ck_ticket_events_kind")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"])
    op.create_table(
        "ticket_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_ticket_counters")),
    )


def downgrade() -> None:
    op.drop_table("ticket_counters")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
