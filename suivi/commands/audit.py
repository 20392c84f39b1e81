"""`suivi audit verify`: check the hash chains of the case histories."""

from __future__ import annotations

import typer

from processes.audit import iter_breaks
from suivi.common import JsonOption, console, err_console, print_json, unit_of_work

audit_app = typer.Typer(help="Piste d'audit.", no_args_is_help=True)


@audit_app.command("verify")
def verify_command(
    case_id: int | None = typer.Argument(None, help="Un dossier (défaut : tous)."),
    as_json: bool = JsonOption,
) -> None:
    """Vérifie les chaînes d'empreintes ; code 1 au premier dossier altéré."""
    with unit_of_work(as_json) as session:
        broken = next(iter_breaks(session, case_id), None)
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
