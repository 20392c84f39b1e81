"""`suivi process migrate`: move running cases to a new version of their process."""

from __future__ import annotations

import typer
from rich.table import Table

from processes.calendar import format_local
from processes.migration import MigrationReport, migrate_cases
from suivi.commands.process import process_app
from suivi.common import (
    JsonOption,
    NowOption,
    check_actor,
    console,
    fail,
    parse_data,
    print_json,
    resolve_now,
    unit_of_work,
)


def migrate_command(
    name: str = typer.Argument(..., help="Processus (hygiene, ...)."),
    from_version: int = typer.Option(..., "--from", help="Version des dossiers à déplacer."),
    to_version: int = typer.Option(..., "--to", help="Version d'arrivée."),
    mapping: list[str] | None = typer.Option(
        None, "--map", help="Correspondance d'état ancien=nouveau (répétable) ; "
        "un état non cité garde son identifiant."
    ),
    drop_clocks: list[str] | None = typer.Option(
        None, "--drop-clock", help="Échéance qui peut disparaître faute d'équivalent (répétable)."
    ),
    actor: str = typer.Option(..., "--actor", "-a", help="Direction (dgls) ou admin."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Montre ce qui serait fait, sans rien écrire."
    ),
    now: str | None = NowOption,
    as_json: bool = JsonOption,
) -> None:
    """Migre les dossiers en cours d'une version à une autre (un événement audité par dossier,
    échéances recalculées selon la nouvelle version)."""
    moment = resolve_now(now)
    states = {key: str(value) for key, value in parse_data(mapping).items()}
    with unit_of_work(as_json) as session:
        check_actor(session, actor)
        report = migrate_cases(
            session, name, from_version, to_version, states, actor_id=actor, now=moment,
            dry_run=dry_run, drop_clocks=drop_clocks or (),
        )
    if as_json:
        print_json(report.as_dict())
    else:
        print_report(report)
    if not report.ok:
        # Only a dry run gets here with problems: a real run was refused above.
        raise typer.Exit(2)


def print_report(report: MigrationReport) -> None:
    verb = "serait migré" if report.dry_run else "migré"
    console.print(
        f"{report.process} v{report.from_version} → v{report.to_version} : "
        f"{len(report.cases)} dossier(s) en cours {verb}(s)"
        + (" (simulation, rien n'est écrit)" if report.dry_run else "")
    )
    if not report.cases:
        return
    table = Table()
    for col in ("dossier", "état", "échéances recalculées", "supprimées", "problèmes"):
        table.add_column(col)
    for c in report.cases:
        state = c.from_state if c.from_state == c.to_state else f"{c.from_state} → {c.to_state}"
        table.add_row(
            c.reference, state,
            "\n".join(f"{p.name} : {format_local(p.due_at)}" for p in c.created),
            ", ".join(c.dropped), "\n".join(c.problems),
        )
    console.print(table)
    if not report.ok:
        fail("migration impossible en l'état : corrigez la correspondance (--map) ou "
             "indiquez les échéances à supprimer (--drop-clock)")


def register(app: typer.Typer) -> None:
    # `process_app` belongs to suivi.commands.process, registered before this module.
    if not any(c.name == "migrate" for c in process_app.registered_commands):
        process_app.command("migrate")(migrate_command)
