"""every read by a landlord's user: the portal, a case page, an export downloaded

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:15:00

Issue 11: a landlord's users read the cases of their properties and download their exports;
who read what and when is kept (no foreign keys: the record outlives what was read).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "landlord_reads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("landlord_id", sa.String(length=64), nullable=True),
        sa.Column("what", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("export_id", sa.BigInteger(), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landlord_reads")),
    )
    op.create_index(
        "ix_landlord_reads_landlord_id_at", "landlord_reads", ["landlord_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_landlord_reads_landlord_id_at", table_name="landlord_reads")
    op.drop_table("landlord_reads")
