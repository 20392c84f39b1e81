"""a clock's notifications are composed at delivery

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 15:45:00

The sweep no longer renders messages while it holds the batch's transaction: a clock's
outbox rows name their clock, keep the case's state and data as they were when it fired,
and get their subject and body when delivery claims them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_id", BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("case_state", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("case_data", JSON_TYPE, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_clock_id_clocks"), "clocks", ["clock_id"], ["id"]
        )
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Rows still waiting for their text get it from the clock's kind before the columns
    # become required again; delivery of this older schema sends what is stored.
    op.execute(
        "UPDATE notifications SET subject = COALESCE('[C-' || case_id || '] ', '') || kind, "
        "body = kind WHERE body IS NULL"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_notifications_clock_id_clocks"), type_="foreignkey")
        batch_op.drop_column("case_data")
        batch_op.drop_column("case_state")
        batch_op.drop_column("clock_id")
