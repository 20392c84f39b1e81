"""Migration 0003 (log-in, tokens, the rehearsal mark, events' recorded_at): the models match
it on both databases, and it goes down and up again without touching an audit chain."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import report
from sqlalchemy import Engine, select

from models import Base
from models.admin import is_rehearsal
from models.cases import CaseEvent
from models.db import session_scope
from models.migrate import alembic_config, upgrade
from processes.audit import iter_breaks


def test_the_models_are_exactly_what_the_migrations_create(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def test_events_from_before_0003_keep_their_chain_and_no_invented_recorded_at(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    upgrade(engine)
    with session_scope(engine) as s:
        recorded = s.scalars(select(CaseEvent.recorded_at).where(CaseEvent.case_id == case_id))
        assert list(recorded) == [None]
        assert list(iter_breaks(s)) == []
        # Going down drops the mark with its table: the database is a production one again.
        assert not is_rehearsal(s)
