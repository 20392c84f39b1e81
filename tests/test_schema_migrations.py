"""The schema's own migrations go both ways without losing a queued message."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from conftest import at
from helpers import report

from models.db import make_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import alembic_config, upgrade
from processes.sweep import sweep_due_clocks

DIRECTORY = Path(__file__).parent / "data" / "directory.yaml"


def test_going_back_to_0001_gives_a_queued_clock_notice_words_and_loses_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'suivi.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
        case_id = report(s, "2026-11-23 09:00").id
    assert sweep_due_clocks(engine, at("2026-11-30 09:00")).fired == 1

    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT subject, body, status FROM notifications WHERE case_id = :id"
        ), {"id": case_id}).all()
    assert rows == [(f"[C-{case_id}] plan_first_visit", "plan_first_visit", "pending")]

    upgrade(engine)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("notifications")}
    assert {"clock_id", "case_state", "case_data"} <= columns
    engine.dispose()
