"""`suivi case open|fire|show|list`: follow a resident's case through its process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from models.directory import Site
from models.schemas import CaseView
from models.views import case_view, directory_names, next_clocks
from processes import engine, labels, registry
from processes.calendar import format_local
from processes.errors import NotFound
from processes.read_policy import Viewer, readable_case, redact, visible_cases
from suivi.common import (
    DataOption,
    JsonOption,
    NowOption,
    ReaderOption,
    after_commit,
    check_actor,
    console,
    fail,
    identifier,
    parse_data,
    print_json,
    reader,
    resolve_now,
    row_id,
    styled,
    unit_of_work,
)

case_app = typer.Typer(help="Dossiers : ouvrir, déclencher, consulter.", no_args_is_help=True)


def parse_case_id(text: str) -> int:
    """Accept `12` and `C-12`: staff copy the reference from messages."""
    cleaned = text.strip().upper().removeprefix("C-")
    if not cleaned.isascii() or not cleaned.isdigit():
        fail(f"référence de dossier invalide : « {text} » (attendu : 12 ou C-12)")
    return row_id(cleaned, "référence de dossier", "12 ou C-12")


def view_of(
    session: Session, case: Case, *, role: str | None = None, viewer: Viewer | None = None
) -> CaseView:
    process = registry.get(case.process, case.process_version)
    role = viewer.role if viewer is not None else role
    allowed = (
        process.triggers_for(case.state, role) if role else process.staff_triggers_in(case.state)
    )
    view = case_view(
        session,
        case,
        state_label=process.definition.state(case.state).label,
        allowed=[] if case.closed_at else allowed,
    )
    return redacted_view(viewer, view) if viewer is not None else view


def redacted_view(viewer: Viewer, view: CaseView) -> CaseView:
    """The case as this person may read it (a landlord: no free text, no contact)."""
    if not viewer.is_landlord:
        return view
    return view.model_copy(update={
        "data": redact(viewer, view.data),
        "history": [e.model_copy(update={"payload": redact(viewer, e.payload)})
                    for e in view.history],
    })


def print_case(view: CaseView, names: dict[str, dict[str, str]] | None = None) -> None:
    """The case in French: labels for states, actions and deadlines, what each step found."""
    definition = registry.get(view.process, view.version).definition
    names = names or {}
    status = "clos" if view.closed else "ouvert"
    console.print(styled(
        (view.reference, "bold"), f" · {definition.label} (v{view.version}) · ",
        (labels.state_label(definition, view.state), "bold"), f" ({status})",
    ))
    site = names.get("site", {}).get(view.site, view.site)
    dwelling = names.get("dwelling", {}).get(view.dwelling or "", view.dwelling or "")
    console.print(
        f"Résident : {view.resident_name} ({view.resident})"
        + (f" · {dwelling}" if dwelling else "")
        + f" · {site} · ouvert le {format_local(view.opened_at)}"
    )
    if view.allowed_triggers:
        console.print("Actions possibles : " + ", ".join(
            f"{labels.trigger_label(definition, t)} ({t})" for t in view.allowed_triggers
        ))
    history = Table(title="Historique")
    for col in ("n°", "date", "action", "de", "vers", "par", "constaté"):
        history.add_column(col)
    for e in view.history:
        found = "\n".join(
            f"{field} : {value}"
            for field, value in labels.facts(
                definition, e.trigger, e.payload, names.get("dwelling")
            )
        )
        history.add_row(
            str(e.seq), format_local(e.at), labels.trigger_label(definition, e.trigger),
            labels.state_label(definition, e.from_), labels.state_label(definition, e.to),
            f"{e.actor} ({e.role})", found,
        )
    console.print(history)
    if view.clocks:
        clocks = Table(title="Échéances à venir")
        for col in ("date", "nature", "quoi", "règle"):
            clocks.add_column(col)
        for c in view.clocks:
            clocks.add_row(
                format_local(c.due_at), labels.clock_kind(c.kind),
                labels.clock_label(definition, c.name), c.rule,
            )
        console.print(clocks)


@case_app.command("open")
def open_command(
    process: str = typer.Argument(..., help="Processus (hygiene, asylum, arrears, insurance)."),
    resident: str = typer.Option(..., "--resident", "-r", help="Identifiant du résident."),
    actor: str = typer.Option(..., "--actor", "-a", help="Identifiant de la personne qui agit."),
    now: str | None = NowOption,
    data: list[str] | None = DataOption,
    as_json: bool = JsonOption,
) -> None:
    """Ouvre un dossier pour un résident ; affiche le dossier créé (son numéro sert ensuite)."""
    moment = resolve_now(now)
    process, resident = identifier(process, "processus"), identifier(resident, "--resident")
    actor, payload = identifier(actor, "--actor"), parse_data(data)
    with unit_of_work(as_json) as session:
        check_actor(session, actor)
        case = engine.open_case(
            session,
            process,
            resident_id=resident,
            actor_id=actor,
            payload=payload,
            now=moment,
        )
        view, names = view_of(session, case), directory_names(session, [case])
    with after_commit(f"dossier {view.reference} ouvert"):
        print_json(view) if as_json else print_case(view, names)


@case_app.command("fire")
def fire_command(
    case_id: str = typer.Argument(..., help="Numéro du dossier (12 ou C-12)."),
    trigger: str = typer.Argument(..., help="Déclencheur (voir `suivi process show`)."),
    actor: str = typer.Option(..., "--actor", "-a"),
    now: str | None = NowOption,
    data: list[str] | None = DataOption,
    expect_version: int | None = typer.Option(
        None, "--expect-version", help="Refuse si le dossier a changé depuis cette version."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Déclenche une transition sur un dossier."""
    moment = resolve_now(now)
    number, payload = parse_case_id(case_id), parse_data(data)
    trigger, actor = identifier(trigger, "déclencheur"), identifier(actor, "--actor")
    with unit_of_work(as_json) as session:
        check_actor(session, actor)
        case = engine.fire(
            session,
            number,
            trigger,
            payload=payload,
            actor_id=actor,
            now=moment,
            expected_version=expect_version,
        )
        view, names = view_of(session, case), directory_names(session, [case])
    with after_commit(f"dossier {view.reference} : {trigger} enregistré"):
        print_json(view) if as_json else print_case(view, names)


@case_app.command("show")
def show_command(
    case_id: str = typer.Argument(..., help="Numéro du dossier."),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Affiche un dossier : état, historique, échéances à venir."""
    number = parse_case_id(case_id)
    with unit_of_work(as_json, read_only=True) as session:
        viewer = reader(session, actor)
        if viewer is None:
            case = engine.load_case(session, number)
            view = view_of(session, case)
        else:
            case = readable_case(session, viewer, number)
            view = view_of(session, case, viewer=viewer)
        names = directory_names(session, [case])
    print_json(view) if as_json else print_case(view, names)


LIST_MAX = 100_000
"""Most cases one `case list` prints; more pages with --offset."""


def count_text(number: int) -> str:
    """12 345 as French writes it, never broken across a line."""
    return f"{number:,}".replace(",", "\u00a0")


def list_title(shown: int, total: int, offset: int) -> str:
    """« 200 dossiers sur 100 000 (n° 1 à 200 ; suite : --offset 200) »."""
    if total == 0:
        return "Aucun dossier"
    if shown == 0:
        return f"Aucun dossier après le n° {count_text(offset)} ({count_text(total)} en tout)"
    if shown == total:
        return f"{count_text(total)} dossier{'s' if total > 1 else ''}"
    title = f"{count_text(shown)} dossier{'s' if shown > 1 else ''} sur {count_text(total)}"
    title += f" (n° {count_text(offset + 1)} à {count_text(offset + shown)}"
    following = offset + shown
    return title + (f" ; suite : --offset {following})" if following < total else ")")


@case_app.command("list")
def list_command(
    process: str | None = typer.Option(
        None, "--process", "-p", help="Processus : son code (hygiene) ou son nom en français."
    ),
    state: str | None = typer.Option(
        None, "--state", "-s", help="État : son code (visit_2) ou son libellé (« 2e visite »)."
    ),
    site: str | None = typer.Option(None, "--site", help="Identifiant du site."),
    closed: bool = typer.Option(False, "--closed", help="Inclure les dossiers clos."),
    limit: int = typer.Option(200, "--limit", help=f"Dossiers à afficher (1 à {LIST_MAX})."),
    offset: int = typer.Option(
        0, "--offset", help="Dossiers à passer avant le premier affiché (page suivante)."
    ),
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Liste les dossiers (ouverts par défaut ; --state inclut un état clos demandé)."""
    if not 1 <= limit <= LIST_MAX:
        fail(f"--limit : « {limit} » n'est pas un nombre de dossiers par page (de 1 à "
             f"{count_text(LIST_MAX)} ; --offset pour les suivants)")
    if not 0 <= offset < 2**62:
        fail(f"--offset : « {offset} » n'est pas un nombre de dossiers à passer (0 ou plus)")
    conditions = []
    with unit_of_work(as_json, read_only=True) as session:
        if process:
            process = labels.process_named(process)
            conditions.append(Case.process == process)
        if state:
            conditions.append(Case.state.in_(labels.state_named(state, process)))
        elif not closed:
            conditions.append(Case.closed_at.is_(None))
        if site:
            known_site(session, site)
            conditions.append(Case.site_id == site)
        viewer = reader(session, actor)
        if viewer is not None:
            conditions.append(visible_cases(viewer))
        query = select(Case).where(*conditions).order_by(Case.id).offset(offset).limit(limit)
        total = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
        cases = session.scalars(query).all()
        names = directory_names(session, cases)
        clocks = next_clocks(session, [c.id for c in cases])
        rows = [list_row(case, names, clocks.get(case.id)) for case in cases]
    if as_json:
        print_json([
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()}
            for r in rows
        ])
        return
    table = Table(title=list_title(len(rows), total, offset))
    for col in ("dossier", "processus", "état", "résident", "site", "prochaine échéance",
                "ouvert le"):
        table.add_column(col)
    for r in rows:
        due = (f"{format_local(r['next_due_at'])} · {r['next_due_label']}"
               if r["next_due_at"] else "")
        table.add_row(
            r["reference"], r["process_label"], r["state_label"], r["resident_name"],
            r["site_name"], due, format_local(r["opened_at"])[:10],
        )
    console.print(table)


def known_site(session: Session, site: str) -> None:
    """A site filter naming no site is a typing error, not an empty list."""
    if session.get(Site, site) is None:
        known = session.scalars(select(Site.id).order_by(Site.id)).all()
        raise NotFound(f"site inconnu « {site} » ; sites : {', '.join(known)}")


def list_row(case: Case, names: dict[str, dict[str, str]], clock: Clock | None) -> dict[str, Any]:
    definition = registry.get(case.process, case.process_version).definition
    return {
        "id": case.id,
        "reference": case.reference,
        "process": case.process,
        "process_label": definition.label,
        "version": case.process_version,
        "state": case.state,
        "state_label": definition.state(case.state).label,
        "resident": case.resident_id,
        "resident_name": names["resident"].get(case.resident_id, ""),
        "site": case.site_id,
        "site_name": names["site"].get(case.site_id, case.site_id),
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "next_due_at": clock.due_at if clock else None,
        "next_due_label": labels.clock_label(definition, clock.name) if clock else None,
    }


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
