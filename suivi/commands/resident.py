"""`suivi resident show ID`: every case of a resident, open and closed, across processes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case
from models.residents_view import ResidentView, resident_view
from notifications.reports import resident_render
from processes import registry
from processes.calendar import format_local
from processes.errors import NotFound
from processes.read_policy import Viewer, readable_resident, visible_cases
from processes.resident_access import resident_record
from suivi.common import (
    JsonOption,
    NowOption,
    ReaderOption,
    console,
    fail,
    identifier,
    print_json,
    reader,
    resolve_now,
    styled,
    unit_of_work,
)

resident_app = typer.Typer(help="Résidents : leurs dossiers.", no_args_is_help=True)


def labels(case: Case) -> tuple[str, str]:
    definition = registry.get(case.process, case.process_version).definition
    return definition.label, definition.state(case.state).label


@resident_app.command("show")
def show_command(
    resident_id: str = typer.Argument(..., help="Identifiant du résident (r-0001)."),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Tous les dossiers du résident, ouverts puis clos, avec la prochaine échéance de chacun."""
    identifier(resident_id, "résident")
    with unit_of_work(as_json, read_only=True) as session:
        viewer = reader(session, actor)
        if viewer is not None:
            readable_resident(session, viewer, resident_id)
        view = resident_view(session, resident_id, labels)
        if view is None:
            raise NotFound(f"résident inconnu : « {resident_id} »")
        if viewer is not None:
            view = only_visible_cases(session, viewer, view)
    if as_json:
        print_json(view)
    else:
        print_resident(view)


def only_visible_cases(session: Session, viewer: Viewer, view: ResidentView) -> ResidentView:
    ids = [c.id for c in view.cases]
    visible = set(session.scalars(select(Case.id).where(Case.id.in_(ids), visible_cases(viewer))))
    return view.model_copy(update={"cases": [c for c in view.cases if c.id in visible]})


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


@resident_app.command("export")
def export_command(
    resident_id: str = typer.Argument(..., help="Identifiant du résident (r-0001)."),
    fmt: str = typer.Option("json", "--format", help="json ou pdf."),
    output: Path = typer.Option(..., "-o", "--output", help="Fichier à écrire."),
    now: str | None = NowOption,
) -> None:
    """Droit d'accès (RGPD) : tout ce que l'association détient sur ce résident, lui seul."""
    if fmt not in ("json", "pdf"):
        fail(f"--format : « {fmt} » inconnu (json ou pdf)")
    moment = resolve_now(now)
    with unit_of_work(read_only=True) as session:
        record = resident_record(session, resident_id, now=moment)
    try:
        output.write_bytes(resident_render(record, fmt))
    except OSError as error:
        fail(f"impossible d'écrire {output} : {error.strerror}")
    console.print(f"{output} : {len(record['cases'])} dossier(s) de {resident_id}.", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(resident_app, name="resident")
