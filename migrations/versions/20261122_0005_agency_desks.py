"""agency desks: SIP phones of agencies' hunt groups

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_desks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("sip_md5_cred", sa.String(32), nullable=False),
        sa.Column("contact", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agency_desks"),
        sa.UniqueConstraint("endpoint", name="uq_agency_desks_endpoint"),
    )
    op.create_index("ix_agency_desks_agency", "agency_desks", ["agency"])


def downgrade() -> None:
    op.drop_index("ix_agency_desks_agency", table_name="agency_desks")
    op.drop_table("agency_desks")
