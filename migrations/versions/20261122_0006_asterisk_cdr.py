"""asterisk_cdr: Asterisk's own call records (cdr_pgsql writes them), the source for reconciliation

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Column names are cdr_pgsql's: it fills every column whose name is a CDR field. Quirk: it also writes ''
    # into any other column, a serial or identity key included, and then drops the whole record ("invalid input
    # syntax for type bigint"), so the table has no surrogate key.
    op.create_table(
        "asterisk_cdr",
        sa.Column("calldate", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True)),
        sa.Column("answer", sa.DateTime(timezone=True)),
        sa.Column("end", sa.DateTime(timezone=True)),
        sa.Column("clid", sa.String(80)),
        sa.Column("src", sa.String(80)),
        sa.Column("dst", sa.String(80)),
        sa.Column("dcontext", sa.String(80)),
        sa.Column("channel", sa.String(80)),
        sa.Column("dstchannel", sa.String(80)),
        sa.Column("lastapp", sa.String(80)),
        sa.Column("lastdata", sa.String(255)),
        sa.Column("duration", sa.Integer()),
        sa.Column("billsec", sa.Integer()),
        sa.Column("disposition", sa.String(45)),
        sa.Column("amaflags", sa.Integer()),
        sa.Column("accountcode", sa.String(80)),
        sa.Column("uniqueid", sa.String(150)),
        sa.Column("linkedid", sa.String(150)),
        sa.Column("userfield", sa.String(255)),
        sa.Column("peeraccount", sa.String(80)),
        sa.Column("sequence", sa.Integer()),
    )
    op.create_index("ix_asterisk_cdr_calldate", "asterisk_cdr", ["calldate"])
    op.create_index("ix_asterisk_cdr_uniqueid", "asterisk_cdr", ["uniqueid"])


def downgrade() -> None:
    op.drop_table("asterisk_cdr")
