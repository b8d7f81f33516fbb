"""users, browser sessions, personal tokens (api_tokens now belong to a user), audit trail; operators get a user

Existing rows are kept: every operator gets a user of the same username (no password: an admin sets one with
`ntpd112 users reset-password`); every API token becomes a personal token of a user named after it, with the
token's role (a token named like an operator who has that role joins the operator's user instead), and expires
90 days after this migration, so the scripts that use them keep working meanwhile.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATED_TOKEN_DAYS = 90

# The service's database role owns its tables, so REVOKE cannot take UPDATE/DELETE from it: a trigger refuses them
# (and TRUNCATE) for every role; only a superuser dropping the trigger could rewrite the trail.
_APPEND_ONLY = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
    END;
    $$""",
    """CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("roles", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("agency", sa.String(64)),
        sa.Column("password_hash", sa.Text()),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "roles <@ ARRAY['operator', 'supervisor', 'admin', 'agency']::varchar[] AND cardinality(roles) > 0",
            name=op.f("ck_users_roles"),
        ),
        sa.CheckConstraint("('agency' = ANY(roles)) = (agency IS NOT NULL)", name=op.f("ck_users_agency_bound")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("source_address", sa.String(64)),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_user_sessions_secret_sha256")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("username", sa.String(80)),
        sa.Column("roles", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("via", sa.String(8)),
        sa.Column("action", sa.String(160), nullable=False),
        sa.Column("target", sa.String(300)),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(80), nullable=False),
        sa.Column("source_address", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_username_at", "audit_log", ["username", "at"])
    for statement in _APPEND_ONLY:
        op.execute(statement)

    # Operators: a user each, same username.
    op.add_column("operators", sa.Column("user_id", sa.UUID()))
    op.execute(
        "INSERT INTO users (id, username, full_name, roles, must_change_password, active)"
        " SELECT gen_random_uuid(), username, name, ARRAY[role]::varchar[], true, true FROM operators"
    )
    op.execute("UPDATE operators SET user_id = users.id FROM users WHERE users.username = operators.username")
    op.alter_column("operators", "user_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_operators_user_id_users"), "operators", "users", ["user_id"], ["id"], ondelete="RESTRICT"
    )
    op.create_unique_constraint(op.f("uq_operators_user_id"), "operators", ["user_id"])

    # Tokens: each becomes a personal token of a user.
    op.add_column("api_tokens", sa.Column("user_id", sa.UUID()))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("api_tokens", sa.Column("last_used_at", sa.DateTime(timezone=True)))
    _give_tokens_users(op.get_bind())
    op.get_bind().execute(
        sa.text("UPDATE api_tokens SET expires_at = now() + make_interval(days => :days)"),
        {"days": MIGRATED_TOKEN_DAYS},
    )
    op.alter_column("api_tokens", "user_id", nullable=False)
    op.alter_column("api_tokens", "expires_at", nullable=False)
    op.create_foreign_key(
        op.f("fk_api_tokens_user_id_users"), "api_tokens", "users", ["user_id"], ["id"], ondelete="CASCADE"
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.drop_column("api_tokens", "role")


def _username_for(name: str, taken: set[str]) -> str:
    """A free username (the SIP name pattern, as every username) made from a token's name."""
    base = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:34] or "token"
    if not base[0].isalpha():
        base = ("t-" + base)[:34]
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


def _give_tokens_users(connection: sa.Connection) -> None:
    users = {row.username: row for row in connection.execute(sa.text("SELECT id, username, roles FROM users"))}
    created: dict[tuple[str, str], object] = {}  # (token name, role) -> user id: same name and role, one user
    for token in connection.execute(sa.text("SELECT id, name, role FROM api_tokens ORDER BY created_at")).all():
        existing = users.get(token.name)
        if existing is not None and token.role in existing.roles:
            user_id = existing.id
        elif (token.name, token.role) in created:
            user_id = created[(token.name, token.role)]
        else:
            username = _username_for(token.name, set(users) | {name for name, _ in created})
            user_id = connection.execute(
                sa.text(
                    "INSERT INTO users (id, username, full_name, roles, must_change_password, active)"
                    " VALUES (gen_random_uuid(), :username, :full_name, ARRAY[:role]::varchar[], false, true)"
                    " RETURNING id"
                ),
                {"username": username, "full_name": token.name[:120], "role": token.role},
            ).scalar_one()
            created[(token.name, token.role)] = user_id
            users[username] = connection.execute(
                sa.text("SELECT id, username, roles FROM users WHERE id = :id"), {"id": user_id}
            ).one()
        connection.execute(
            sa.text("UPDATE api_tokens SET user_id = :user_id WHERE id = :id"), {"user_id": user_id, "id": token.id}
        )


def downgrade() -> None:
    op.add_column("api_tokens", sa.Column("role", sa.String(16)))
    op.execute(
        "UPDATE api_tokens SET role = (SELECT CASE WHEN 'admin' = ANY(roles) THEN 'admin'"
        " WHEN 'supervisor' = ANY(roles) THEN 'supervisor' ELSE 'operator' END FROM users WHERE users.id = user_id)"
    )
    op.alter_column("api_tokens", "role", nullable=False)
    op.drop_index(op.f("ix_api_tokens_user_id"), "api_tokens")
    op.drop_constraint(op.f("fk_api_tokens_user_id_users"), "api_tokens", type_="foreignkey")
    for column in ("user_id", "expires_at", "last_used_at"):
        op.drop_column("api_tokens", column)
    op.drop_constraint(op.f("uq_operators_user_id"), "operators", type_="unique")
    op.drop_constraint(op.f("fk_operators_user_id_users"), "operators", type_="foreignkey")
    op.drop_column("operators", "user_id")
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("user_sessions")
    op.drop_table("users")
