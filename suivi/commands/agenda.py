"""`suivi agenda` queues this morning's agendas through the Prefect flow and says who got one."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from flows import run_once
from models.cases import Case
from models.directory import Staff
from notifications.agenda import AgendaReport, agenda_of
from processes.calendar import format_local
from suivi.common import JsonOption, NowOption, console, print_json, resolve_now


def run_flow(now: str | None) -> AgendaReport:
    """The flow, with Prefect's local API unless PREFECT_API_URL names a server."""
    moment = resolve_now(now) if now is not None else None
    result: dict[str, Any] = run_once("flows.digest:daily_agenda", now=moment)
    return AgendaReport.model_validate(result)


def report_table(report: AgendaReport) -> Table:
    table = Table(title=f"Agendas du {report.day.strftime('%d/%m/%Y')}")
    table.add_column("personne", no_wrap=True)
    table.add_column("rôle")
    for title in ("en retard", "aujourd'hui", "visites", "à 7 jours"):
        table.add_column(title, justify="right")
    table.add_column("agenda")
    for line in report.agendas:
        status = "mis en file" if line.status == "queued" else "déjà fait"
        counts = [str(line.counts.get(g, 0)) for g in ("overdue", "today", "visit", "deadline")]
        table.add_row(line.name, line.role, *counts, status)
    table.caption = (
        f"{report.recipients} agenda(s) mis en file ({report.items} élément(s)), "
        f"{report.skipped} déjà envoyé(s), {report.nothing_due} personne(s) sans rien à faire"
    )
    return table


def run_directly(now: str | None) -> AgendaReport:
    """The same function as the flow's task, without Prefect (no API to start)."""
    from models.db import get_engine, session_scope
    from notifications.agenda import queue_daily_agendas

    with session_scope(get_engine()) as session:
        return queue_daily_agendas(session, resolve_now(now))


GROUPS_FR = {
    "overdue": "en retard", "today": "aujourd'hui", "visit": "visite", "deadline": "à 7 jours",
}


def my_agenda(staff_id: str, now: str | None, as_json: bool) -> None:
    """One person's agenda on screen, as the morning message has it, limited to the cases
    they may read: nothing is queued."""
    from processes.read_policy import load_viewer, visible_cases
    from suivi.common import identifier, unit_of_work

    staff_id = identifier(staff_id, "--me")
    moment = resolve_now(now)
    with unit_of_work(as_json, read_only=True) as session:
        viewer = load_viewer(session, staff_id)
        window, items = agenda_of(session, staff_id, moment)
        ids = {i.case_id for i in items}
        readable = set(session.scalars(
            select(Case.id).where(Case.id.in_(ids), visible_cases(viewer))
        ))
        shown = [i for i in items if i.case_id in readable]
        staff = session.get(Staff, staff_id)
        name = staff.name if staff else staff_id
    if as_json:
        print_json({"staff": staff_id, "day": window.day,
                    "items": [i.model_dump(exclude={"link"}) for i in shown]})
        return
    title = f"Agenda de {name} du {window.day.strftime('%d/%m/%Y')}"
    if not shown:
        console.print(f"{title} : rien à faire.")
        return
    table = Table(title=title)
    for col in ("quand", "date", "dossier", "quoi", "résident", "site"):
        table.add_column(col)
    for item in shown:
        table.add_row(
            GROUPS_FR.get(item.group, item.group), format_local(item.due_at), item.case_ref,
            item.kind, item.resident, item.site,
        )
    console.print(table)


def agenda_command(
    now: str | None = NowOption,
    as_json: bool = JsonOption,
    without_prefect: bool = typer.Option(
        False, "--sans-prefect", help="Prépare les agendas directement, sans flux Prefect."
    ),
    me: str | None = typer.Option(
        None, "--me", help="Affiche l'agenda de cette personne (son identifiant), sans rien "
        "mettre en file.",
    ),
) -> None:
    """Prépare l'agenda du jour de chaque personne, une seule fois par jour.

    En retard, aujourd'hui, visites du jour, échéances à 7 jours, sur ses sites.
    Avec --me : l'agenda d'une personne, à l'écran.
    """
    if me is not None:
        my_agenda(me, now, as_json)
        return
    report = run_directly(now) if without_prefect else run_flow(now)
    if as_json:
        print_json(report)
        return
    console.print(report_table(report))


def register(app: typer.Typer) -> None:
    app.command("agenda")(agenda_command)
