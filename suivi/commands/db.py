"""`suivi db upgrade`: bring the database to the newest schema."""

from __future__ import annotations

import typer

from models.db import get_engine
from models.migrate import upgrade
from suivi.common import console

db_app = typer.Typer(help="Base de données (schéma, migrations Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Crée ou met à jour le schéma de la base (SUIVI_DATABASE_URL)."""
    engine = get_engine()
    upgrade(engine)
    console.print(f"Base à jour : {engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
