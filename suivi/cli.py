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
    "suivi.commands.user",
    "suivi.commands.web",
]


def build() -> typer.Typer:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    return app


def _where() -> str:
    """The database URL as people may read it: never the password."""
    from sqlalchemy import make_url

    from models.db import database_url

    return make_url(database_url()).render_as_string(hide_password=True)


def database_trouble(error: Exception) -> tuple[str, int] | None:
    """What a database error means for the person at the terminal, and the exit code;
    None when it is a fault of the program (a traceback is then the right answer)."""
    from sqlalchemy.exc import OperationalError

    text = str(getattr(error, "orig", None) or error)
    lowered = text.lower()
    first = (text.splitlines() or [""])[0].strip()
    detail = first.removeprefix("connection failed: ")
    if isinstance(error, OperationalError) and 'database "' in text and "does not exist" in text:
        return (
            f"la base {_where()} n'existe pas sur le serveur PostgreSQL : créez-la "
            "(createdb) puis lancez `suivi db upgrade`",
            2,
        )
    if "no such table" in text or "does not exist" in text:
        # A database never upgraded is a set-up step, not a fault: say which step.
        return (
            f"la base {_where()} n'a pas le schéma de suivi ({first}) : "
            "lancez d'abord `suivi db upgrade`",
            2,
        )
    if not isinstance(error, OperationalError):
        return None
    if "database is locked" in lowered or "database is busy" in lowered:
        return (
            f"la base {_where()} est occupée par un autre traitement (balayage, envoi) : "
            "réessayez dans un instant",
            1,
        )
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return (
            f"le serveur de la base {_where()} refuse l'identifiant ou le mot de passe : "
            "vérifiez SUIVI_DATABASE_URL",
            1,
        )
    if any(
        sign in lowered
        for sign in (
            "connection refused",
            "could not connect",
            "connection failed",
            "could not translate host name",
            "name or service not known",
            "timeout expired",
            "no route to host",
        )
    ):
        return (
            f"la base {_where()} est injoignable ({detail}) : vérifiez que le serveur "
            "PostgreSQL est démarré et l'adresse dans SUIVI_DATABASE_URL",
            1,
        )
    if "unable to open database file" in lowered:
        return (
            f"la base {_where()} ne peut pas être ouverte (dossier absent ou droits "
            "insuffisants) : vérifiez SUIVI_DATABASE_URL",
            1,
        )
    return f"erreur de la base {_where()} : {detail}", 1


def main() -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from models.db import SettingError

    try:
        build()()
    except SettingError as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(2)
    except (OperationalError, ProgrammingError) as error:
        trouble = database_trouble(error)
        if trouble is None:
            raise
        message, code = trouble
        # One line, never wrapped, as suivi.common.fail writes it.
        sys.stderr.write(" ".join(message.split()) + "\n")
        sys.exit(code)


if __name__ == "__main__":
    main()
