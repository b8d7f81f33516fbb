"""ticket attachments: ticket_attachments (a photo's metadata; the file itself is outside the database, named by its
SHA-256 in the attachments directory); ticket_events may record a photo

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_ticket_events_kind"), "ticket_events", type_="check")
    op.create_check_constraint(
        op.f("ck_ticket_events_kind"), "ticket_events", "kind IN ('status', 'comment', 'escalated', 'photo')"
    )
    op.create_table(
        "ticket_attachments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ticket_id", sa.UUID(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "media_type IN ('image/jpeg', 'image/png', 'image/webp')", name=op.f("ck_ticket_attachments_media_type")
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_ticket_attachments_sha256")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_ticket_attachments_size_bytes")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_attachments_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attachments")),
    )
    op.create_index(op.f("ix_ticket_attachments_ticket_id"), "ticket_attachments", ["ticket_id"])
    op.create_index(op.f("ix_ticket_attachments_sha256"), "ticket_attachments", ["sha256"])


def downgrade() -> None:
    # The files stay in the attachments directory: a downgrade drops only what the database knew of them.
    op.drop_table("ticket_attachments")
    op.execute("DELETE FROM ticket_events WHERE kind = 'photo'")
    op.drop_constraint(op.f("ck_ticket_events_kind"), "ticket_events", type_="check")
    op.create_check_constraint(
        op.f("ck_ticket_events_kind"), "ticket_events", "kind IN ('status', 'comment', 'escalated')"
    )
