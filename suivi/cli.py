"""The `suivi` command line: each command group lives in `suivi/commands/` and is thin."""

from __future__ import annotations

import importlib

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
    build()()


if __name__ == "__main__":
    main()
