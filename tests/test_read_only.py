"""Reading a case needs no write lock: staff can look while a sweep batch holds it (SQLite)."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import report
from sqlalchemy import Engine
from typer.testing import CliRunner

from models.cases import Case
from models.db import session_scope
from suivi.cli import build


def other_writer(engine: Engine) -> sqlite3.Connection:
    """A second process's connection, which gives up at once instead of waiting for a lock."""
    path = engine.url.database
    assert path is not None
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def test_case_show_and_lists_answer_while_a_writer_holds_the_lock(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = report(s, "2026-11-02 09:00").id
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    writer = other_writer(sqlite_engine)
    writer.execute("BEGIN IMMEDIATE")  # what a sweep batch holds while it fires
    try:
        for command in (
            ["case", "show", str(case_id), "--json"],
            ["case", "list", "--json"],
            ["notifications", "list", "--json"],
            ["resident", "show", "r-0001", "--json"],
            ["audit", "verify", str(case_id)],
            ["directory", "show", "--json"],
        ):
            result = CliRunner().invoke(build(), command)
            assert result.exit_code == 0, (command, result.output)
    finally:
        writer.rollback()
        writer.close()


def test_a_read_only_scope_takes_no_write_lock_and_a_writer_still_does(
    sqlite_engine: Engine,
) -> None:
    with session_scope(sqlite_engine) as s:
        report(s, "2026-11-02 09:00")
    other = other_writer(sqlite_engine)
    try:
        with session_scope(sqlite_engine, read_only=True) as reader:
            assert reader.get(Case, 1) is not None
            other.execute("BEGIN IMMEDIATE")  # the reader leaves the write lock free
            other.rollback()
        with session_scope(sqlite_engine) as writer_session:
            writer_session.get(Case, 1)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
