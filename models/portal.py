"""What a landlord's users read: each portal page, case page and export download, kept.

No foreign keys: the record of a read must outlive what was read (a case anonymised, a file
removed, a user deactivated).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")


class LandlordRead(Base):
    __tablename__ = "landlord_reads"
    __table_args__ = (Index("ix_landlord_reads_landlord_id_at", "landlord_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    staff_id: Mapped[str] = mapped_column(String(64))
    landlord_id: Mapped[str | None] = mapped_column(String(64))
    # `portail`, `dossier`, `export`, `resident`, `messages`, `api` (see processes.portal_reads).
    what: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    export_id: Mapped[int | None] = mapped_column(BigInteger)
    # The address asked for (path and query), as a person would see it in the log.
    target: Mapped[str] = mapped_column(Text)
