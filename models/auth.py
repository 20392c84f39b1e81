"""Log-in: passwords (argon2 hashes), failed attempts and locks, personal API tokens.

Who may log in is the directory's business (an inactive staff member cannot); what a hash is
and how many failures lock an account is `processes.authentication`'s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.cases import BigId


class Credential(Base):
    """A staff member's password: only its argon2 hash, and the count that locks it."""

    __tablename__ = "credentials"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class ApiToken(Base):
    """A personal bearer token for the JSON API; only its SHA-256 is kept (it is random)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """Every log-in attempt, good or bad, with why it was refused: who tried what, when."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Not a foreign key: attempts with an unknown id are recorded too.
    staff_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    ok: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_login_attempts_staff_at", "staff_id", "at"),)
