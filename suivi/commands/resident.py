"""`suivi resident list|show|export`: residents by name, every case of one, what is held."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case
from models.directory import Dwelling, Resident, Site
from models.private import write_private
from models.residents_view import ResidentView, resident_view
from notifications.reports import resident_render
from processes import registry
from processes.calendar import format_local
from processes.errors import NotFound
from processes.read_policy import Viewer, readable_resident, visible_cases, visible_residents
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


LIST_MAX = 10_000


@resident_app.command("list")
def list_command(
    site: str | None = typer.Option(None, "--site", help="Les résidents logés sur ce site."),
    search: str | None = typer.Option(
        None, "--search", help="Une partie du nom (sans tenir compte des majuscules)."
    ),
    limit: int = typer.Option(200, "--limit", help=f"Résidents à afficher (1 à {LIST_MAX})."),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Les résidents que vous pouvez consulter, par nom : logement, site."""
    if not 1 <= limit <= LIST_MAX:
        fail(f"--limit : « {limit} » n'est pas un nombre de résidents (de 1 à {LIST_MAX})")
    if site is not None:
        identifier(site, "--site")
    with unit_of_work(as_json, read_only=True) as session:
        viewer = reader(session, actor)
        if site is not None and session.get(Site, site) is None:
            known = session.scalars(select(Site.id).order_by(Site.id)).all()
            raise NotFound(f"site inconnu « {site} » ; sites : {', '.join(known)}")
        rows = residents_listed(session, viewer, site=site, search=search, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("Aucun résident.")
        return
    table = Table(title=f"Résidents ({len(rows)})")
    for col in ("résident", "nom", "logement", "site"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["name"], r["dwelling_label"] or "", r["site_name"] or "")
    console.print(table)


def residents_listed(
    session: Session, viewer: Viewer | None, *, site: str | None, search: str | None, limit: int
) -> list[dict[str, str | None]]:
    """Residents by name as this person may read them (the read policy's own clause)."""
    query = (
        select(Resident.id, Resident.name, Dwelling.label, Site.id, Site.name)
        .outerjoin(Dwelling, Dwelling.id == Resident.dwelling_id)
        .outerjoin(Site, Site.id == Dwelling.site_id)
    )
    if viewer is not None:
        query = query.where(visible_residents(viewer))
    if site is not None:
        query = query.where(Dwelling.site_id == site)
    if search and search.strip():
        query = query.where(Resident.name.icontains(search.strip(), autoescape=True))
    query = query.order_by(Resident.name, Resident.id).limit(limit)
    return [
        {"id": rid, "name": name, "dwelling_label": label, "site": site_id, "site_name": site_name}
        for rid, name, label, site_id, site_name in session.execute(query).tuples()
    ]


@resident_app.command("export")
def export_command(
    resident_id: str = typer.Argument(..., help="Identifiant du résident (r-0001)."),
    fmt: str = typer.Option("json", "--format", help="json ou pdf."),
    output: Path = typer.Option(..., "-o", "--output", help="Fichier à écrire."),
    actor: str | None = ReaderOption,
    now: str | None = NowOption,
) -> None:
    """Droit d'accès (RGPD) : tout ce que l'association détient sur ce résident, lui seul."""
    if fmt not in ("json", "pdf"):
        fail(f"--format : « {fmt} » inconnu (json ou pdf)")
    moment = resolve_now(now)
    with unit_of_work(read_only=True) as session:
        # A reading like any other: on a production database, someone who may see the resident.
        viewer = reader(session, actor)
        if viewer is not None:
            readable_resident(session, viewer, resident_id)
        record = resident_record(session, resident_id, now=moment)
    try:
        write_private(output, resident_render(record, fmt))
    except OSError as error:
        fail(f"impossible d'écrire {output} : {error.strerror}")
    console.print(f"{output} : {len(record['cases'])} dossier(s) de {resident_id}.", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(resident_app, name="resident")
