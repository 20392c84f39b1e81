"""What the audit keeps beside the chains: signed checkpoints of every case head, exports made.

A checkpoint is the organisation's signed statement "at this moment, these cases existed and
their chains ended here". Its rows are hash-chained to the one before; its digest is also
sent out of the database, so that a rewrite done with database access alone shows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(32))
    cases: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(BigInteger)
    max_case_id: Mapped[int] = mapped_column(BigInteger)
    heads_digest: Mapped[str] = mapped_column(String(64))
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(Text)
    # Where the digest was sent out (an Apprise target) and what came back.
    sent_to: Mapped[str | None] = mapped_column(Text)
    sent_ok: Mapped[bool | None]


class AuditCheckpointHead(Base):
    """One case's head as a checkpoint saw it. No foreign key: it must outlive a deleted case."""

    __tablename__ = "audit_checkpoint_heads"

    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("audit_checkpoints.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # Hash of what must never change (process, resident, dwelling, site, opening).
    identity: Mapped[str] = mapped_column(String(64))
    # Hash of what changes only with an event (state, closure, data).
    row: Mapped[str] = mapped_column(String(64))


class AuditExport(Base):
    """Each landlord export made: who, when, for which landlord and period, its manifest."""

    __tablename__ = "audit_exports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    landlord_id: Mapped[str] = mapped_column(ForeignKey("landlords.id"), index=True)
    period_from: Mapped[date]
    period_to: Mapped[date]
    format: Mapped[str] = mapped_column(String(8))
    cases: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("audit_checkpoints.id"))
    path: Mapped[str | None] = mapped_column(Text)
