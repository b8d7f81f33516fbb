"""intake: location fixes, cell table, administrative areas, best location and caller history on calls

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CALL_COLUMNS = [
    sa.Column("best_fix_id", sa.UUID()),
    sa.Column("best_lat", sa.Double()),
    sa.Column("best_lon", sa.Double()),
    sa.Column("best_radius_m", sa.Double()),
    sa.Column("best_source", sa.String(8)),
    sa.Column("best_measured_at", sa.DateTime(timezone=True)),
    sa.Column("area_id", sa.Integer()),
    sa.Column("area_code", sa.String(64)),
    sa.Column("area_kabupaten", sa.String(256)),
    sa.Column("area_kecamatan", sa.String(256)),
    sa.Column("area_kelurahan", sa.String(256)),
    sa.Column("repeat_caller", sa.Boolean()),
    sa.Column("calls_24h", sa.Integer()),
    sa.Column("calls_30d", sa.Integer()),
]


def upgrade() -> None:
    for column in _CALL_COLUMNS:
        op.add_column("calls", column)
    op.create_table(
        "location_fixes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(8), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("radius_m", sa.Double(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("method", sa.String(64), nullable=True),
        sa.Column("shape", sa.String(16), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("radio", sa.String(4), nullable=True),
        sa.Column("mcc", sa.Integer(), nullable=True),
        sa.Column("mnc", sa.Integer(), nullable=True),
        sa.Column("area_code", sa.Integer(), nullable=True),
        sa.Column("cell_id", sa.BigInteger(), nullable=True),
        sa.Column("caller_number", sa.String(32), nullable=True),
        sa.Column("dedup_key", sa.String(64), nullable=True),
        sa.CheckConstraint("source IN ('cell', 'pidf', 'aml')", name=op.f("ck_location_fixes_source")),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name=op.f("ck_location_fixes_lat_lon_together")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_location_fixes_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_fixes")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_location_fixes_dedup_key")),
    )
    op.create_index(op.f("ix_location_fixes_call_id"), "location_fixes", ["call_id"])
    op.create_index(
        "ix_location_fixes_unmatched",
        "location_fixes",
        ["caller_number", "received_at"],
        postgresql_where=sa.text("call_id IS NULL"),
    )
    op.create_table(
        "cells",
        sa.Column("radio", sa.String(4), nullable=False),
        sa.Column("mcc", sa.Integer(), nullable=False),
        sa.Column("mnc", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("range_m", sa.Double(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("changeable", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("average_signal", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("radio", "mcc", "mnc", "area_code", "cell_id", name=op.f("pk_cells")),
    )
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("kabupaten", sa.String(256), nullable=True),
        sa.Column("kecamatan", sa.String(256), nullable=True),
        sa.Column("kelurahan", sa.String(256), nullable=True),
        sa.Column("geometry", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("min_lon", sa.Double(), nullable=False),
        sa.Column("min_lat", sa.Double(), nullable=False),
        sa.Column("max_lon", sa.Double(), nullable=False),
        sa.Column("max_lat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
    )
    op.create_index(
        "ix_areas_bbox",
        "areas",
        [sa.text("box(point(min_lon, min_lat), point(max_lon, max_lat))")],
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.drop_table("areas")
    op.drop_table("cells")
    op.drop_table("location_fixes")
    for column in reversed(_CALL_COLUMNS):
        op.drop_column("calls", column.name)
