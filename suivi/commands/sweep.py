"""`suivi sweep` fires the due clocks through the Prefect flow; `suivi serve` runs the schedules."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from flows import local_defaults, run_once
from processes.calendar import format_local
from processes.sweep import SweepSummary, sweep_due_clocks
from suivi.common import JsonOption, NowOption, console, fail, print_json, resolve_now, styled

KIND_LABELS = {"reminder": "relances", "escalation": "escalades", "deadline": "échéances"}


def run_flow(now: str | None, batch_size: int) -> SweepSummary:
    """The flow, with Prefect's local API unless PREFECT_API_URL names a server."""
    moment = resolve_now(now) if now is not None else None
    result: dict[str, Any] = run_once(
        "flows.sweep:followup_sweep", now=moment, batch_size=batch_size
    )
    return SweepSummary.model_validate(result)


def summary_table(summary: SweepSummary) -> Table:
    when = format_local(summary.now) if summary.now else ""
    table = Table(title=f"Balayage des horloges du {when}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    table.add_row("Horloges déclenchées", str(summary.fired))
    for kind, count in summary.by_kind.items():
        table.add_row(f"  dont {KIND_LABELS.get(kind, kind)}", str(count))
    table.add_row("Périmées (dossier passé à autre chose)", str(summary.stale))
    table.add_row("Reportées (dossier en cours de modification)", str(summary.deferred))
    table.add_row("Réservations abandonnées libérées", str(summary.released))
    table.add_row("Dossiers d'assurance ouverts", str(summary.insurance_opened))
    table.add_row("Lots", str(summary.batches))
    table.add_row("En échec", styled((str(summary.failed), "red" if summary.failed else "")))
    return table


def errors_table(summary: SweepSummary) -> Table:
    table = Table(title="Horloges en échec (à corriger, non rejouées)")
    table.add_column("horloge", justify="right")
    table.add_column("dossier")
    table.add_column("erreur")
    for error in summary.errors:
        table.add_row(str(error.clock_id), f"C-{error.case_id}", error.message)
    return table


def sweep_command(
    now: str | None = NowOption,
    as_json: bool = JsonOption,
    batch_size: int = typer.Option(1000, "--lot", min=1, help="Horloges par lot (une tâche)."),
    without_prefect: bool = typer.Option(
        False, "--sans-prefect", help="Appelle le balayage directement, sans flux Prefect."
    ),
) -> None:
    """Déclenche les relances, escalades et échéances dues (une seule fois chacune)."""
    if without_prefect:
        from models.db import get_engine

        summary = sweep_due_clocks(get_engine(), resolve_now(now), batch_size=batch_size)
    else:
        summary = run_flow(now, batch_size)
    if as_json:
        print_json(summary)
        return
    console.print(summary_table(summary))
    if summary.errors:
        console.print(errors_table(summary))


def serve_command() -> None:
    """Sert les flux de prefect.yaml selon leurs horaires ; Ctrl-C pour arrêter.

    Sans PREFECT_API_URL, démarre un serveur Prefect local sur 127.0.0.1 et l'arrête à la fin.
    """
    local_defaults()
    from flows.serve import serve_all

    try:
        serve_all(on_ready=console.print)
    except KeyboardInterrupt:
        console.print("Arrêt demandé.")
    except RuntimeError as error:
        fail(str(error), code=1)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
    app.command("serve")(serve_command)
