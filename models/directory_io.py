"""Import the directory from its YAML file: an idempotent upsert by id, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff, StaffSite
from models.schemas import DirectoryFile
from processes.errors import french_error


class DirectoryError(ValueError):
    """The file cannot be imported; nothing was written."""


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, created: bool) -> None:
        bucket = self.created if created else self.updated
        bucket[what] = bucket.get(what, 0) + 1


def parse_directory(text: str, source: str = "directory") -> DirectoryFile:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DirectoryError(f"{source} : YAML illisible{where} ({problem})") from None
    if raw is None:
        raise DirectoryError(f"{source} : fichier vide, aucun annuaire à importer")
    if not isinstance(raw, dict):
        raise DirectoryError(
            f"{source} : l'annuaire doit être un dictionnaire YAML "
            "(organisation, landlords, sites, dwellings, staff, residents)"
        )
    try:
        return DirectoryFile.model_validate(raw)
    except ValidationError as error:
        details = " ; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'annuaire'} : {french_error(e)}"
            for e in error.errors()
        )
        raise DirectoryError(
            f"{source} : {error.error_count()} erreur(s) : {details}"
        ) from None


def load_directory_file(path: Path) -> DirectoryFile:
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise DirectoryError(f"{path} est un dossier, pas un fichier YAML d'annuaire") from None
    except FileNotFoundError:
        raise DirectoryError(f"fichier introuvable : {path}") from None
    except PermissionError:
        raise DirectoryError(f"lecture refusée : {path} (droits insuffisants)") from None
    except UnicodeDecodeError as error:
        raise DirectoryError(
            f"{path} n'est pas un texte UTF-8 (octet illisible à la position {error.start}) : "
            "enregistrez le fichier en UTF-8"
        ) from None
    except OSError as error:
        raise DirectoryError(f"lecture impossible : {path} ({error.strerror or error})") from None
    return parse_directory(text, str(path))


def _upsert(
    session: Session,
    model: type[Any],
    key: str,
    values: dict[str, Any],
    summary: ImportSummary,
    what: str,
) -> Any:
    row = session.get(model, key)
    created = row is None
    if row is None:
        row = model(id=key)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    summary.count(what, created)
    return row


def _require(
    session: Session, model: type[Any], key: str | None, pending: set[str], what: str, owner: str
) -> None:
    if key is not None and key not in pending and session.get(model, key) is None:
        raise DirectoryError(f"{owner} : {what} « {key} » inconnu")


def import_directory(session: Session, directory: DirectoryFile) -> ImportSummary:
    """Upsert everything in the file; a bad reference raises DirectoryError and writes nothing."""
    summary = ImportSummary()
    landlord_ids = {x.id for x in directory.landlords}
    site_ids = {x.id for x in directory.sites}
    dwelling_ids = {x.id for x in directory.dwellings}
    for s in directory.sites:
        _require(session, Landlord, s.landlord, landlord_ids, "bailleur", f"site {s.id}")
    for d in directory.dwellings:
        _require(session, Site, d.site, site_ids, "site", f"logement {d.id}")
        _require(session, Landlord, d.landlord, landlord_ids, "bailleur", f"logement {d.id}")
    for r in directory.residents:
        _require(session, Dwelling, r.dwelling, dwelling_ids, "logement", f"résident {r.id}")
    for p in directory.staff:
        _require(session, Landlord, p.landlord, landlord_ids, "bailleur", f"personnel {p.id}")
        for site in p.sites if isinstance(p.sites, list) else []:
            _require(session, Site, site, site_ids, "site", f"personnel {p.id}")

    org = directory.organisation
    existing = session.scalars(select(Organisation).limit(1)).first()
    if existing is not None and existing.id != org.id:
        raise DirectoryError(
            f"la base appartient déjà à l'organisation « {existing.id} », pas « {org.id} »"
        )
    _upsert(session, Organisation, org.id, org.model_dump(exclude={"id"}), summary, "organisation")
    for landlord in directory.landlords:
        _upsert(session, Landlord, landlord.id, {"name": landlord.name}, summary, "landlords")
    session.flush()
    for s in directory.sites:
        _upsert(
            session,
            Site,
            s.id,
            {
                "name": s.name,
                "kind": s.kind,
                "landlord_id": s.landlord,
                "town": s.town,
                "address": s.address,
            },
            summary,
            "sites",
        )
    session.flush()
    for d in directory.dwellings:
        _upsert(
            session,
            Dwelling,
            d.id,
            {"site_id": d.site, "label": d.label, "landlord_id": d.landlord},
            summary,
            "dwellings",
        )
    session.flush()
    for r in directory.residents:
        _upsert(
            session,
            Resident,
            r.id,
            {
                "name": r.name,
                "dwelling_id": r.dwelling,
                "email": r.contact.email,
                "phone": r.contact.phone,
                "consent": r.consent,
            },
            summary,
            "residents",
        )
    for p in directory.staff:
        staff = _upsert(
            session,
            Staff,
            p.id,
            {
                "name": p.name,
                "role": p.role,
                "all_sites": p.sites == "all",
                "landlord_id": p.landlord,
                "notify": list(p.notify),
                "language": p.language,
                "active": p.active,
            },
            summary,
            "staff",
        )
        wanted = set(p.sites) if isinstance(p.sites, list) else set()
        staff.site_links = [link for link in staff.site_links if link.site_id in wanted]
        have = {link.site_id for link in staff.site_links}
        staff.site_links.extend(StaffSite(site_id=s) for s in sorted(wanted - have))
    session.flush()
    return summary


def staff_missing_from(session: Session, directory: DirectoryFile) -> list[str]:
    """Active staff in the database that the file no longer lists (left the association?)."""
    listed = {p.id for p in directory.staff}
    active = session.scalars(select(Staff.id).where(Staff.active.is_(True)).order_by(Staff.id))
    return [staff_id for staff_id in active if staff_id not in listed]


def deactivate_staff(session: Session, staff_ids: list[str]) -> None:
    """They can no longer log in, act or be told; their history stays as it was."""
    for staff_id in staff_ids:
        staff = session.get(Staff, staff_id)
        if staff is not None:
            staff.active = False
