"""signed checkpoints of every case head, and the record of landlord exports

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:00:00

A per-case chain cannot see a case deleted whole, nor its last events deleted with its head
set back: checkpoints keep every head, signed with a key kept outside the database (issue 11).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("max_case_id", sa.BigInteger(), nullable=False),
        sa.Column("heads_digest", sa.String(length=64), nullable=False),
        sa.Column("prev_digest", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("sent_to", sa.Text(), nullable=True),
        sa.Column("sent_ok", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint("digest", name=op.f("uq_audit_checkpoints_digest")),
    )
    op.create_table(
        "audit_checkpoint_heads",
        sa.Column("checkpoint_id", BIG_ID, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("row", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"], ["audit_checkpoints.id"],
            name=op.f("fk_audit_checkpoint_heads_checkpoint_id_audit_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("checkpoint_id", "case_id", name=op.f("pk_audit_checkpoint_heads")),
    )
    op.create_table(
        "audit_exports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("landlord_id", sa.String(length=64), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_id", BIG_ID, nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"], ["audit_checkpoints.id"],
            name=op.f("fk_audit_exports_checkpoint_id_audit_checkpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["landlord_id"], ["landlords.id"], name=op.f("fk_audit_exports_landlord_id_landlords")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_exports")),
    )
    op.create_index(op.f("ix_audit_exports_landlord_id"), "audit_exports", ["landlord_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_exports_landlord_id"), table_name="audit_exports")
    op.drop_table("audit_exports")
    op.drop_table("audit_checkpoint_heads")
    op.drop_table("audit_checkpoints")
