"""What the database says about itself, and the administrators' acts outside cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, JSONType
from models.cases import BigId


class DatabaseMark(Base):
    """One row when the database is a rehearsal (the demo's, a training copy); none for a
    production database, the default. A rehearsal accepts any `--now` and the `system` actor
    from the command line."""

    __tablename__ = "database_mark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rehearsal: Mapped[bool]
    marked_at: Mapped[datetime]


class AdminAct(Base):
    """An act on the directory or on log-ins (import, password, token), with who did it."""

    __tablename__ = "admin_acts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[str] = mapped_column(String(64))
    act: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class NotANewDatabase(ValueError):
    """`--rehearsal` asked of a database that already holds cases."""


def is_rehearsal(connection: Connection | Session) -> bool:
    return bool(
        connection.scalar(select(DatabaseMark.rehearsal).where(DatabaseMark.id == 1))
    )


def mark_rehearsal(connection: Connection) -> None:
    """Mark a new database as a rehearsal (the server's time as the moment). A database that
    already holds cases stays what it is: turning production data into a rehearsal would
    let anyone rewrite its time."""
    from models.cases import Case

    if is_rehearsal(connection):
        return
    if connection.scalar(select(func.count()).select_from(Case)):
        raise NotANewDatabase(
            "cette base contient déjà des dossiers : seule une base neuve peut être marquée "
            "comme base de répétition (--rehearsal)"
        )
    connection.execute(
        insert(DatabaseMark).values(id=1, rehearsal=True, marked_at=func.current_timestamp())
    )
