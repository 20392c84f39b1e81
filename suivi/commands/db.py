"""`suivi db upgrade [--rehearsal]`: bring the database to the newest schema."""

from __future__ import annotations

import typer

from models.admin import NotANewDatabase
from models.db import get_engine
from models.migrate import upgrade
from suivi.common import console, fail

db_app = typer.Typer(help="Base de données (schéma, migrations Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(
    rehearsal: bool = typer.Option(
        False,
        "--rehearsal",
        help="Marque une base neuve comme base de répétition : --now futur et acteur "
        "« system » permis, consultation sans --actor. Sinon : base de production.",
    ),
) -> None:
    """Crée ou met à jour le schéma de la base (SUIVI_DATABASE_URL)."""
    engine = get_engine()
    try:
        upgrade(engine, rehearsal=rehearsal)
    except NotANewDatabase as error:
        fail(str(error))
    where = engine.url.render_as_string(hide_password=True)
    kind = " (base de répétition)" if rehearsal else ""
    console.print(f"Base à jour{kind} : {where}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
