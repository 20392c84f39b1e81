"""The `suivi` command line: each command group lives in `suivi/commands/` and is thin."""

from __future__ import annotations

import importlib
import sys

import typer

app = typer.Typer(
    name="suivi",
    help="Suivi des processus d'accompagnement des résidents (tenant follow-up processes).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module exposes `register(app)`; one line per command group.
COMMAND_MODULES = [
    "suivi.commands.db",
    "suivi.commands.directory",
    "suivi.commands.case",
    "suivi.commands.audit",
    "suivi.commands.process",
    "suivi.commands.migrate",
    "suivi.commands.letter",
    "suivi.commands.resident",
    "suivi.commands.sweep",
    "suivi.commands.notify",
    "suivi.commands.agenda",
    "suivi.commands.demo",
]


def build() -> typer.Typer:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def main() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        build()()
    except (OperationalError, ProgrammingError) as error:
        # A database never upgraded is a set-up step, not a fault: say which step.
        text = str(error.orig)
        if "no such table" not in text and "does not exist" not in text:
            raise
        from sqlalchemy import make_url

        from models.db import database_url

        where = make_url(database_url()).render_as_string(hide_password=True)
        sys.stderr.write(
            f"la base {where} n'a pas le schéma de suivi ({text.splitlines()[0]}) : "
            "lancez d'abord `suivi db upgrade`\n"
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
