"""`suivi retention apply`: anonymise the cases closed longer than the organisation keeps them."""

from __future__ import annotations

import typer

from processes.calendar import format_local
from processes.retention import apply_retention
from suivi.common import JsonOption, NowOption, console, print_json, resolve_now, unit_of_work

retention_app = typer.Typer(help="Durée de conservation (RGPD).", no_args_is_help=True)


@retention_app.command("apply")
def apply_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Dire ce qui serait anonymisé."),
    now: str | None = NowOption,
    as_json: bool = JsonOption,
) -> None:
    """Anonymise les dossiers clos depuis plus que la durée de conservation."""
    moment = resolve_now(now)
    with unit_of_work(as_json, read_only=dry_run) as session:
        report = apply_retention(session, now=moment, dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
        return
    verb = "seraient anonymisés" if dry_run else "anonymisés"
    console.print(f"Dossiers clos avant le {format_local(report.cutoff)[:10]} "
                  f"({report.months} mois) {verb} : {len(report.cases)}",
                  markup=False, soft_wrap=True)
    for item in report.cases:
        console.print(f"  C-{item.case_id} (résident {item.resident_id})",
                      markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
