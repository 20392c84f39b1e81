"""`suivi resident show ID`: every case of a resident, open and closed, across processes."""

from __future__ import annotations

import typer
from rich.table import Table

from models.cases import Case
from models.residents_view import ResidentView, resident_view
from processes import registry
from processes.calendar import format_local
from processes.errors import NotFound
from suivi.common import JsonOption, console, identifier, print_json, styled, unit_of_work

resident_app = typer.Typer(help="Résidents : leurs dossiers.", no_args_is_help=True)


def labels(case: Case) -> tuple[str, str]:
    definition = registry.get(case.process, case.process_version).definition
    return definition.label, definition.state(case.state).label


@resident_app.command("show")
def show_command(
    resident_id: str = typer.Argument(..., help="Identifiant du résident (r-0001)."),
    as_json: bool = JsonOption,
) -> None:
    """Tous les dossiers du résident, ouverts puis clos, avec la prochaine échéance de chacun."""
    identifier(resident_id, "résident")
    with unit_of_work(as_json, read_only=True) as session:
        view = resident_view(session, resident_id, labels)
        if view is None:
            raise NotFound(f"résident inconnu : « {resident_id} »")
    if as_json:
        print_json(view)
    else:
        print_resident(view)


def print_resident(view: ResidentView) -> None:
    where = f" · {view.dwelling_label} ({view.site})" if view.dwelling_label else ""
    console.print(styled((view.name, "bold"), f" ({view.id}){where}"))
    if not view.cases:
        console.print("Aucun dossier.")
        return
    table = Table(title=f"Dossiers ({len(view.cases)})")
    for col in ("dossier", "processus", "état", "ouvert le", "clos le", "prochaine échéance"):
        table.add_column(col)
    for c in view.cases:
        # The rule starts with the clock's label; the full rule is in --json and `case show`.
        due = (f"{format_local(c.next_clock.due_at)} · {c.next_clock.rule.partition(' : ')[0]}"
               if c.next_clock else "")
        table.add_row(
            c.reference, f"{c.process_label} (v{c.version})", c.state_label,
            format_local(c.opened_at)[:10], format_local(c.closed_at)[:10], due,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(resident_app, name="resident")
