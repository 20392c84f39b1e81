"""Bring a database to the newest schema with Alembic (`suivi db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from models.admin import mark_rehearsal

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head", *, rehearsal: bool = False) -> None:
    """Migrate to `revision`; `rehearsal` also marks a new database as a rehearsal one
    (`models.admin.mark_rehearsal`), in the same transaction."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if rehearsal:
            mark_rehearsal(connection)
