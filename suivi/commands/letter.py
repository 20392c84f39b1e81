"""`suivi case letter CASE KIND -o FILE.pdf|.html`: the letter a state asks staff to send."""

from __future__ import annotations

from pathlib import Path

import typer

from models.private import write_private
from notifications.letters import KINDS, letter_for
from processes.read_policy import readable_case
from suivi.commands.case import case_app, parse_case_id
from suivi.common import (
    JsonOption,
    NowOption,
    ReaderOption,
    console,
    fail,
    print_json,
    reader,
    resolve_now,
    unit_of_work,
)

FORMATS = (".pdf", ".html")


def check_output(output: Path) -> None:
    """Refuse before any work a path that cannot take the letter; create no folder."""
    if output.is_dir():
        fail(f"-o : {output} est un dossier, pas un fichier")
    if not output.parent.is_dir():
        fail(
            f"-o : le dossier {output.parent} n'existe pas : créez-le d'abord "
            "ou choisissez un autre chemin"
        )


def letter_command(
    case_id: str = typer.Argument(..., help="Numéro du dossier (12 ou C-12)."),
    kind: str = typer.Argument(..., help="Courrier : " + ", ".join(KINDS) + "."),
    output: Path = typer.Option(..., "--output", "-o", help="Fichier à écrire (.pdf ou .html)."),
    now: str | None = NowOption,
    actor: str | None = ReaderOption,
    as_json: bool = JsonOption,
) -> None:
    """Rédige un courrier (avertissement, mise en demeure) à partir du dossier, en PDF ou HTML.

    --now est la date portée sur le courrier."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        fail(f"-o : extension « {output.suffix} » non prise en charge (attendu : .pdf ou .html)")
    check_output(output)
    moment = resolve_now(now)
    number = parse_case_id(case_id)
    with unit_of_work(as_json) as session:
        viewer = reader(session, actor)
        if viewer is not None:
            if viewer.is_landlord:
                fail("les courriers sont rédigés par le personnel de l'association")
            readable_case(session, viewer, number)
        letter = letter_for(session, number, kind, now=moment)
    content = letter.pdf() if suffix == ".pdf" else letter.html.encode("utf-8")
    try:
        # A letter names the resident and the breach: readable by its owner only.
        write_private(output, content)
    except IsADirectoryError:
        fail(f"-o : {output} est un dossier, pas un fichier")
    except FileNotFoundError:
        fail(f"-o : le dossier {output.parent} n'existe pas : créez-le d'abord")
    except PermissionError:
        fail(f"-o : écriture refusée dans {output} (droits insuffisants)")
    except OSError as error:
        fail(f"-o : impossible d'écrire {output} ({error.strerror or error})")
    if as_json:
        print_json({"case": letter.case_id, "kind": kind, "file": str(output)})
    else:
        console.print(f"{letter.kind.title} du dossier C-{letter.case_id} écrit dans {output}")


def register(app: typer.Typer) -> None:
    # `case_app` belongs to suivi.commands.case, registered before this module.
    if not any(c.name == "letter" for c in case_app.registered_commands):
        case_app.command("letter")(letter_command)
