"""`suivi directory import|show`: the organisation, sites, dwellings, staff and residents."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.admin import AdminAct, is_rehearsal
from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff
from models.directory_io import (
    DirectoryError,
    deactivate_staff,
    import_directory,
    import_residents,
    load_directory_file,
    staff_missing_from,
)
from models.resident_sheet import mapping_file, parse_mapping, plan_sheet
from suivi.common import JsonOption, console, fail, print_json, styled, unit_of_work


def masked(settings: dict[str, Any]) -> dict[str, Any]:
    from notifications.channels import mask_urls  # Apprise only when settings are shown

    return dict(mask_urls(settings))


directory_app = typer.Typer(
    help="Annuaire : organisation, sites, personnel, résidents.", no_args_is_help=True
)


def _check_importer(session: Session, actor: str | None) -> str:
    """Who imports: an active admin on a production database that already has staff; on the
    first import or a rehearsal database, whoever runs it (named if --actor is given)."""
    has_staff = session.scalar(select(func.count()).select_from(Staff)) or 0
    if not has_staff or is_rehearsal(session):
        return actor or "installation"
    if actor is None:
        fail("--actor est obligatoire : l'import de l'annuaire est un acte d'administration "
             "(identifiant d'un membre du personnel de rôle admin)")
    staff = session.get(Staff, actor)
    if staff is None or not staff.active or staff.role != "admin":
        fail(f"--actor « {actor} » : seul un membre actif du personnel de rôle admin importe "
             "l'annuaire")
    return actor


@directory_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="Fichier YAML de l'annuaire."),
    actor: str | None = typer.Option(
        None, "--actor", "-a", help="L'administrateur qui importe (obligatoire en production)."
    ),
    prune: bool = typer.Option(
        False, "--prune", help="Désactive le personnel absent du fichier (il ne peut plus se "
        "connecter ni agir)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Importe l'annuaire (mise à jour par identifiant : relancer ne duplique rien)."""
    if not file.exists():
        fail(f"fichier introuvable : {file}")
    try:
        directory = load_directory_file(file)
        with unit_of_work(as_json) as session:
            by = _check_importer(session, actor)
            summary = import_directory(session, directory)
            missing = staff_missing_from(session, directory)
            if prune:
                deactivate_staff(session, missing)
            session.add(AdminAct(
                at=datetime.now(UTC), actor_id=by, act="directory_import",
                detail={"file": file.name, "created": summary.created,
                        "updated": summary.updated,
                        "deactivated": missing if prune else [],
                        "missing_kept_active": [] if prune else missing},
            ))
    except DirectoryError as error:
        fail(str(error))
    if as_json:
        print_json({"created": summary.created, "updated": summary.updated,
                    "deactivated": missing if prune else [],
                    "missing_kept_active": [] if prune else missing})
        return
    if missing and prune:
        console.print(f"Personnel désactivé (absent du fichier) : {', '.join(missing)}")
    elif missing:
        console.print(styled(
            ("Attention", "bold"),
            f" : {len(missing)} membre(s) du personnel absent(s) du fichier "
            f"reste(nt) actif(s) : {', '.join(missing)}. Relancez avec --prune pour les "
            "désactiver (ils ne pourront plus se connecter ni agir).",
        ))
    table = Table(title=f"Annuaire importé depuis {file}")
    table.add_column("type")
    table.add_column("créés", justify="right")
    table.add_column("mis à jour", justify="right")
    for what in sorted(set(summary.created) | set(summary.updated)):
        table.add_row(what, str(summary.created.get(what, 0)), str(summary.updated.get(what, 0)))
    console.print(table)


@directory_app.command("import-residents")
def import_residents_command(
    file: Path = typer.Argument(..., help="Export CSV ou .xlsx des résidents (1re ligne : "
                                "les noms des colonnes)."),
    mapping: list[str] | None = typer.Option(
        None, "--map", help="Colonne du fichier = champ de suivi (id, name, dwelling, email, "
        "phone, consent), répétable : --map nom=name --map logement=dwelling.",
    ),
    mapping_path: Path | None = typer.Option(
        None, "--map-file", help="Fichier de correspondance : une ligne COLONNE=champ par "
        "colonne.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Affiche ce qui changerait, sans rien écrire."
    ),
    actor: str | None = typer.Option(
        None, "--actor", "-a", help="L'administrateur qui importe (obligatoire en production)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Importe des résidents depuis un tableur (mise à jour par identifiant) ; une ligne
    invalide et rien n'est écrit."""
    if not file.is_file():
        fail(f"fichier introuvable : {file}")
    try:
        pairs = list(mapping or [])
        if mapping_path is not None:
            pairs = mapping_file(mapping_path) + pairs
        columns = parse_mapping(pairs)
        with unit_of_work(as_json, read_only=dry_run) as session:
            by = None if dry_run else _check_importer(session, actor)
            plan = plan_sheet(session, file, columns)
            if not dry_run:
                summary = import_residents(session, plan.residents)
                session.add(AdminAct(
                    at=datetime.now(UTC), actor_id=by, act="residents_import",
                    detail={"file": file.name, "created": summary.created,
                            "updated": summary.updated},
                ))
    except DirectoryError as error:
        fail(str(error))
    report = {
        "dry_run": dry_run,
        "created": [r.id for r in plan.created],
        "changed": {r.id: changes for r, changes in plan.changed},
        "unchanged": plan.unchanged,
    }
    if as_json:
        print_json(report)
        return
    verb = ("serait créé", "serait modifié") if dry_run else ("créé", "modifié")
    for r in plan.created:
        console.print(f"{r.id} {verb[0]} : {r.name}")
    for r, changes in plan.changed:
        console.print(f"{r.id} {verb[1]} : {', '.join(changes)}")
    console.print(styled(
        ("Essai : rien n'est écrit. " if dry_run else ""),
        f"{len(plan.created)} à créer, {len(plan.changed)} à modifier, "
        f"{plan.unchanged} inchangé(s).",
    ))


@directory_app.command("show")
def show_command(as_json: bool = JsonOption) -> None:
    """Affiche l'organisation, ses sites et son personnel."""
    with unit_of_work(as_json, read_only=True) as session:
        org = session.scalars(select(Organisation).limit(1)).first()
        sites = session.scalars(select(Site).order_by(Site.id)).all()
        staff = session.scalars(select(Staff).order_by(Staff.role, Staff.id)).all()
        dwellings = dict(
            session.execute(select(Dwelling.site_id, func.count()).group_by(Dwelling.site_id)).all()
        )
        residents = session.scalar(select(func.count()).select_from(Resident)) or 0
        landlords = session.scalars(select(Landlord).order_by(Landlord.id)).all()
        if as_json:
            print_json(
                {
                    "organisation": {
                        "id": org.id,
                        "name": org.name,
                        "language": org.language,
                        # A gateway URL may hold its password: shown masked, as Apprise does.
                        "settings": masked(org.settings or {}),
                    }
                    if org
                    else None,
                    "landlords": [{"id": x.id, "name": x.name} for x in landlords],
                    "sites": [
                        {
                            "id": s.id,
                            "name": s.name,
                            "kind": s.kind,
                            "landlord": s.landlord_id,
                            "town": s.town,
                            "dwellings": dwellings.get(s.id, 0),
                        }
                        for s in sites
                    ],
                    "staff": [
                        {
                            "id": p.id,
                            "name": p.name,
                            "role": p.role,
                            "sites": "all" if p.all_sites else p.site_ids,
                            "landlord": p.landlord_id,
                            "channels": len(p.notify or []),
                        }
                        for p in staff
                    ],
                    "residents": residents,
                }
            )
            return
        if org is None:
            fail("annuaire vide : importez-le avec `suivi directory import FICHIER.yaml`")
        console.print(styled((org.name, "bold"), f" — {len(sites)} sites, {residents} résidents"))
        table = Table(title="Sites")
        for col in ("id", "nom", "type", "bailleur", "commune", "logements"):
            table.add_column(col)
        for s in sites:
            table.add_row(
                s.id, s.name, s.kind, s.landlord_id or "", s.town or "", str(dwellings.get(s.id, 0))
            )
        console.print(table)
        people = Table(title="Personnel")
        for col in ("id", "nom", "rôle", "sites", "canaux"):
            people.add_column(col)
        for p in staff:
            scope = "tous" if p.all_sites else ", ".join(p.site_ids) or (p.landlord_id or "")
            people.add_row(p.id, p.name, p.role, scope, str(len(p.notify or [])) or "console")
        console.print(people)


def register(app: typer.Typer) -> None:
    app.add_typer(directory_app, name="directory")
