"""`suivi audit verify`: check the hash chains of the case histories."""

from __future__ import annotations

import typer

from models.cases import Case
from processes.audit import iter_breaks
from processes.errors import NotFound
from suivi.commands.case import parse_case_id
from suivi.common import JsonOption, console, err_console, print_json, unit_of_work

audit_app = typer.Typer(help="Piste d'audit.", no_args_is_help=True)


@audit_app.command("verify")
def verify_command(
    case_id: str | None = typer.Argument(None, help="Un dossier, 12 ou C-12 (défaut : tous)."),
    as_json: bool = JsonOption,
) -> None:
    """Vérifie les chaînes d'empreintes ; code 1 au premier dossier altéré."""
    number = parse_case_id(case_id) if case_id is not None else None
    with unit_of_work(as_json, read_only=True) as session:
        if number is not None and session.get(Case, number) is None:
            raise NotFound(f"dossier inconnu : C-{number}")
        broken = next(iter_breaks(session, number), None)
    if broken is None:
        if as_json:
            print_json({"ok": True})
        else:
            console.print("Piste d'audit intègre.")
        return
    if as_json:
        print_json(
            {"ok": False, "case": broken.case_id, "seq": broken.seq, "reason": broken.reason}
        )
    else:
        err_console.print(f"Piste d'audit ALTÉRÉE : {broken.describe()}", markup=False)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
