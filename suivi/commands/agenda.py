"""`suivi agenda` queues this morning's agendas through the Prefect flow and says who got one."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from flows import run_once
from notifications.agenda import AgendaReport
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


def agenda_command(
    now: str | None = NowOption,
    as_json: bool = JsonOption,
    without_prefect: bool = typer.Option(
        False, "--sans-prefect", help="Prépare les agendas directement, sans flux Prefect."
    ),
) -> None:
    """Prépare l'agenda du jour de chaque personne, une seule fois par jour.

    En retard, aujourd'hui, visites du jour, échéances à 7 jours, sur ses sites.
    """
    report = run_directly(now) if without_prefect else run_flow(now)
    if as_json:
        print_json(report)
        return
    console.print(report_table(report))


def register(app: typer.Typer) -> None:
    app.command("agenda")(agenda_command)
