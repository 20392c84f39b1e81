"""log-in, personal API tokens, the rehearsal mark, events' recorded_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:50:00

Staff log in with a password (argon2 hash) and call the API with personal tokens (SHA-256
of a random secret); every attempt is kept. A database may be marked as a rehearsal (the
demo's), where the command line accepts any `--now` and the `system` actor. Each event also
keeps the database server's time it was written at, outside the hash chain; events written
before this revision have none (we do not know it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("set_at", WHEN, nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_credentials_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_credentials")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_api_tokens_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_staff_id"), "api_tokens", ["staff_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_staff_at", "login_attempts", ["staff_id", "at"])
    op.create_table(
        "database_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rehearsal", sa.Boolean(), nullable=False),
        sa.Column("marked_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_mark")),
    )
    op.create_table(
        "admin_acts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("act", sa.String(length=64), nullable=False),
        sa.Column("detail", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_acts")),
    )
    # SQLite cannot add a column with a non-constant default in place: the table is rebuilt,
    # and the rows copied get the default, which would be a lie for them. PostgreSQL adds
    # the column empty, then the default for new rows, without rewriting the table.
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("case_events", recreate="always") as batch_op:
            batch_op.add_column(
                sa.Column("recorded_at", WHEN, server_default=sa.func.current_timestamp())
            )
        op.execute("UPDATE case_events SET recorded_at = NULL")
    else:
        op.add_column("case_events", sa.Column("recorded_at", WHEN, nullable=True))
        op.alter_column(
            "case_events", "recorded_at", server_default=sa.func.current_timestamp()
        )


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch_op:
        batch_op.drop_column("recorded_at")
    op.drop_table("admin_acts")
    op.drop_table("database_mark")
    op.drop_index("ix_login_attempts_staff_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_api_tokens_staff_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("credentials")
