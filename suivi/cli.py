"""The `suivi` command line: each command group lives in `suivi/commands/` and is thin."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
import typer
from typer.core import TyperCommand, TyperGroup

from suivi import help_fr

# Each module exposes `register(app)`; one line per command group.
COMMAND_MODULES = [
    "suivi.commands.db",
    "suivi.commands.directory",
    "suivi.commands.case",
    "suivi.commands.audit",
    "suivi.commands.retention",
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

# `suivi --help` should not pay for what the commands need (SQLAlchemy's models, Jinja, the
# process definitions: most of a second), nor a command for its neighbours' needs (Apprise,
# Prefect, WeasyPrint: seconds). Each top-level command is therefore imported when it runs,
# from the modules whose register(app) defines it; its one-line help is repeated here for the
# listing (tests/test_startup.py checks that both screens are the same). A module of
# COMMAND_MODULES that no entry names is registered at start, as before.
LAZY_COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sweep": (
        "Déclenche les relances, escalades et échéances dues (une seule fois chacune).",
        ("suivi.commands.sweep",),
    ),
    "serve": (
        "Sert les flux de prefect.yaml selon leurs horaires ; Ctrl-C pour arrêter.",
        ("suivi.commands.sweep",),
    ),
    "notify": (
        "Envoie les notifications dues (une seule fois chacune ; nouvel essai en cas d'échec).",
        ("suivi.commands.notify",),
    ),
    "agenda": (
        "Prépare l'agenda du jour de chaque personne, une seule fois par jour.",
        ("suivi.commands.agenda",),
    ),
    "demo": (
        "Simule un mois de suivis de l'organisation de démonstration, sur une base à part.",
        ("suivi.commands.demo",),
    ),
    "db": ("Base de données (schéma, migrations Alembic).", ("suivi.commands.db",)),
    "directory": (
        "Annuaire : organisation, sites, personnel, résidents.",
        ("suivi.commands.directory",),
    ),
    "case": (
        "Dossiers : ouvrir, déclencher, consulter.",
        ("suivi.commands.case", "suivi.commands.letter"),
    ),
    "audit": ("Piste d'audit.", ("suivi.commands.audit",)),
    "process": (
        "Définitions des processus.",
        ("suivi.commands.process", "suivi.commands.migrate"),
    ),
    "resident": ("Résidents : leurs dossiers.", ("suivi.commands.resident",)),
    "notifications": (
        "Notifications : la file d'envoi (outbox), ses essais et ses échecs.",
        ("suivi.commands.notify",),
    ),
    "retention": ("Durée de conservation (RGPD).", ("suivi.commands.retention",)),
    "user": ("Comptes : mots de passe et jetons d'API.", ("suivi.commands.user",)),
    "web": ("Sert les pages et l'API.", ("suivi.commands.web",)),
}

_loaded: dict[str, click.Command] = {}
"""Lazy commands already imported in this process (tests build the app many times)."""


def load_command(name: str) -> click.Command:
    """The real command `name`, its modules imported and registered on an app of their own."""
    if name not in _loaded:
        own = typer.Typer()
        for module in LAZY_COMMANDS[name][1]:
            importlib.import_module(module).register(own)
        _loaded[name] = typer.main.get_group(own).commands[name]
    return _loaded[name]


class LazyGroup(TyperGroup):
    """The root command: lists every command, imports one only to run it (or show its help)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        eager = dict(self.commands)
        self.commands = {
            name: _loaded.get(name) or TyperCommand(name=name, help=help_text)
            for name, (help_text, _) in LAZY_COMMANDS.items()
        }
        self.commands.update(eager)
        self._listing = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and not self._listing:
            self.commands[cmd_name] = load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing needs each command's help line, not the command.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="suivi",
    help="Suivi des processus d'accompagnement des résidents (tenant follow-up processes).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyGroup,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"suivi {version('suivi')}\n")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False, "--version", help="Affiche la version de suivi.", is_eager=True,
        callback=_print_version,
    ),
) -> None:
    # A callback makes the app a group even before any command is registered (all are lazy).
    pass


def build() -> typer.Typer:
    help_fr.install()
    lazy = {module for _, modules in LAZY_COMMANDS.values() for module in modules}
    for name in COMMAND_MODULES:
        if name not in lazy:
            importlib.import_module(name).register(app)
    return app


def _raised_by(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """Exception classes to catch, from a module the command imported: one it never imported
    cannot have raised them, and importing it only to catch them would slow every start."""
    loaded = sys.modules.get(module)
    return tuple(getattr(loaded, name) for name in names) if loaded else ()


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
    try:
        build()()
    except _raised_by("models.db", "SettingError") as error:
        sys.stderr.write(f"{error}\n")
        sys.exit(2)
    except _raised_by("sqlalchemy.exc", "OperationalError", "ProgrammingError") as error:
        trouble = database_trouble(error)
        if trouble is None:
            raise
        message, code = trouble
        # One line, never wrapped, as suivi.common.fail writes it.
        sys.stderr.write(" ".join(message.split()) + "\n")
        sys.exit(code)


if __name__ == "__main__":
    main()
