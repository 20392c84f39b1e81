"""`suivi case letter CASE KIND -o FILE.pdf|.html`: the letter a state asks staff to send."""

from __future__ import annotations

from pathlib import Path

import typer

from notifications.letters import KINDS, letter_for
from suivi.commands.case import case_app, parse_case_id
from suivi.common import JsonOption, NowOption, console, fail, print_json, resolve_now, unit_of_work

FORMATS = (".pdf", ".html")


def letter_command(
    case_id: str = typer.Argument(..., help="Numéro du dossier (12 ou C-12)."),
    kind: str = typer.Argument(..., help="Courrier : " + ", ".join(KINDS) + "."),
    output: Path = typer.Option(..., "--output", "-o", help="Fichier à écrire (.pdf ou .html)."),
    now: str | None = NowOption,
    as_json: bool = JsonOption,
) -> None:
    """Rédige un courrier (avertissement, mise en demeure) à partir du dossier, en PDF ou HTML.

    --now est la date portée sur le courrier."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        fail(f"-o : extension « {output.suffix} » non prise en charge (attendu : .pdf ou .html)")
    moment = resolve_now(now)
    with unit_of_work(as_json) as session:
        letter = letter_for(session, parse_case_id(case_id), kind, now=moment)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        output.write_bytes(letter.pdf())
    else:
        output.write_text(letter.html, encoding="utf-8")
    if as_json:
        print_json({"case": letter.case_id, "kind": kind, "file": str(output)})
    else:
        console.print(f"{letter.kind.title} du dossier C-{letter.case_id} écrit dans {output}")


def register(app: typer.Typer) -> None:
    # `case_app` belongs to suivi.commands.case, registered before this module.
    if not any(c.name == "letter" for c in case_app.registered_commands):
        case_app.command("letter")(letter_command)
