"""Cases and what hangs off them: the append-only event chain, clocks, the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, JSONType

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

CLOCK_KINDS = ("reminder", "escalation", "deadline")
CLOCK_STATUSES = ("pending", "claimed", "fired", "cancelled", "failed")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "retry", "failed", "unknown")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    process: Mapped[str] = mapped_column(String(64), index=True)
    process_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    dwelling_id: Mapped[str | None] = mapped_column(ForeignKey("dwellings.id"))
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime]
    state_entered_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Head of the event chain: lets `audit verify` notice a removed last event.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_cases_process_state", "process", "state"),)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", lazy="raise_on_sql"
    )

    @property
    def reference(self) -> str:
        return f"C-{self.id}"


class CaseEvent(Base):
    """One thing that happened to a case. Never updated, never deleted."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The database server's time when the row was written, beside `at` (the moment the
    # action says it happened, which a rehearsal may choose). Outside the hash chain, so
    # that chains written before it verify unchanged; NULL for events older than 0003.
    recorded_at: Mapped[datetime | None] = mapped_column(server_default=func.current_timestamp())

    case: Mapped[Case] = relationship(back_populates="events")

    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)


class Clock(Base):
    """A timer as a row: due at a time, fired once by the sweep, cancelled on leaving its state."""

    __tablename__ = "clocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    # "notify:<template>" or "fire:<trigger>"
    action: Mapped[str] = mapped_column(String(120))
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Human-readable rule and the anchor it was computed from, so a later reader sees why.
    rule: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The sweep's only question: what is pending and due?
        Index("ix_clocks_status_due", "status", "due_at"),
    )


class Notification(Base):
    """The outbox: one row per recipient and channel, written with the event that caused it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    recipient_resident_id: Mapped[str | None] = mapped_column(ForeignKey("residents.id"))
    recipient_role: Mapped[str | None] = mapped_column(String(32))
    channel_url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(64))
    # A clock's notice is composed when delivery claims it (notifications.compose): until
    # then it names its clock and has no text. Every other notice is written with its text.
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("clocks.id"))
    # The case as the clock found it, so that a message delivered later says what was true.
    case_state: Mapped[str | None] = mapped_column(String(64))
    case_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Why this recipient: e.g. "fallback: no rgls on site viala".
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)


class NotificationAttempt(Base):
    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    at: Mapped[datetime]
    ok: Mapped[bool | None]
    error: Mapped[str | None] = mapped_column(Text)
