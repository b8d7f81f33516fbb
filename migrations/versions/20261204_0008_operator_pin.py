"""location_fixes.source may be 'operator': a pin an operator placed by hand

Revision ID: 0008_pin
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_pin"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_location_fixes_source"), "location_fixes", type_="check")
    op.create_check_constraint(
        op.f("ck_location_fixes_source"), "location_fixes", "source IN ('cell', 'pidf', 'aml', 'operator')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM location_fixes WHERE source = 'operator'")
    op.drop_constraint(op.f("ck_location_fixes_source"), "location_fixes", type_="check")
    op.create_check_constraint(op.f("ck_location_fixes_source"), "location_fixes", "source IN ('cell', 'pidf', 'aml')")
