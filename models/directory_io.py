"""Import the directory from its YAML file: an idempotent upsert by id, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff, StaffSite
from models.schemas import DirectoryFile, StaffIn
from processes.errors import french_error

# libyaml's parser when PyYAML has it (the wheels do): the same safe subset of YAML, read ten
# times faster, which a 100,000-resident file needs.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DirectoryError(ValueError):
    """The file cannot be imported; nothing was written."""


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)


def parse_directory(text: str, source: str = "directory") -> DirectoryFile:
    try:
        raw = yaml.load(text, Loader=SAFE_LOADER)
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


# SQLite allows 32,766 bound parameters a statement; PostgreSQL 65,535. An `IN` list of this
# many ids stays well under both.
CHUNK = 10_000


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing(session: Session, model: type[Any], ids: Iterable[str]) -> set[str]:
    """Which of these ids the table already holds: one query per CHUNK ids, not one per id."""
    wanted = sorted(set(ids))
    found: set[str] = set()
    for chunk in _chunks(wanted):
        found.update(session.scalars(select(model.id).where(model.id.in_(chunk))))
    return found


def _check_references(session: Session, directory: DirectoryFile) -> None:
    """Every reference points into the file or into the database; the first bad one, in the
    file's order, is named."""
    in_file = {
        Landlord: {x.id for x in directory.landlords},
        Site: {x.id for x in directory.sites},
        Dwelling: {x.id for x in directory.dwellings},
    }
    # (model, referenced id, French name of what is referenced, who refers to it)
    references: list[tuple[type[Any], str | None, str, str]] = []
    for s in directory.sites:
        references.append((Landlord, s.landlord, "bailleur", f"site {s.id}"))
    for d in directory.dwellings:
        references.append((Site, d.site, "site", f"logement {d.id}"))
        references.append((Landlord, d.landlord, "bailleur", f"logement {d.id}"))
    for r in directory.residents:
        references.append((Dwelling, r.dwelling, "logement", f"résident {r.id}"))
    for p in directory.staff:
        references.append((Landlord, p.landlord, "bailleur", f"personnel {p.id}"))
        for site in p.sites if isinstance(p.sites, list) else []:
            references.append((Site, site, "site", f"personnel {p.id}"))
    elsewhere: dict[type[Any], set[str]] = {model: set() for model in in_file}
    for model, key, _, _ in references:
        if key is not None and key not in in_file[model]:
            elsewhere[model].add(key)
    known = {model: _existing(session, model, keys) for model, keys in elsewhere.items()}
    for model, key, what, owner in references:
        if key is not None and key not in in_file[model] and key not in known[model]:
            raise DirectoryError(f"{owner} : {what} « {key} » inconnu")


def _upsert(
    session: Session,
    model: type[Any],
    rows: list[dict[str, Any]],
    summary: ImportSummary,
    what: str,
) -> None:
    """Insert the rows whose id is new and update the others, a few statements per table
    whatever the number of rows (executemany), without an ORM object per row."""
    if not rows:
        return
    existing = _existing(session, model, (row["id"] for row in rows))
    new = [row for row in rows if row["id"] not in existing]
    old = [row for row in rows if row["id"] in existing]
    for chunk in _chunks(new):
        session.execute(insert(model), chunk)
    for chunk in _chunks(old):
        session.execute(update(model), chunk)  # by primary key: one UPDATE per row, batched
    if new:
        summary.created[what] = len(new)
    if old:
        summary.updated[what] = len(old)


def _link_staff_to_sites(session: Session, staff: list[StaffIn]) -> None:
    """Each person's site links become exactly the file's list (none for `sites: all`)."""
    wanted = {
        (p.id, site)
        for p in staff
        for site in (p.sites if isinstance(p.sites, list) else [])
    }
    have: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted({p.id for p in staff})):
        have.update(
            session.execute(
                select(StaffSite.staff_id, StaffSite.site_id).where(StaffSite.staff_id.in_(chunk))
            ).tuples()
        )
    gone = sorted(have - wanted)
    links = cast(Table, StaffSite.__table__)
    for chunk in _chunks(gone):
        session.execute(
            delete(links).where(
                links.c.staff_id == bindparam("staff"), links.c.site_id == bindparam("site")
            ),
            [{"staff": staff_id, "site": site_id} for staff_id, site_id in chunk],
        )
    added = [{"staff_id": s, "site_id": site} for s, site in sorted(wanted - have)]
    for chunk in _chunks(added):
        session.execute(insert(links), chunk)


def import_directory(session: Session, directory: DirectoryFile) -> ImportSummary:
    """Upsert everything in the file; a bad reference raises DirectoryError and writes nothing.

    Written with bulk statements (100,000 residents in seconds: bench/directory_import.py);
    objects of these tables already in the session are expired, so they read the new rows.
    """
    summary = ImportSummary()
    # What the caller changed through the ORM goes first, so our statements see it.
    session.flush()
    _check_references(session, directory)

    org = directory.organisation
    existing = session.scalars(select(Organisation).limit(1)).first()
    if existing is not None and existing.id != org.id:
        raise DirectoryError(
            f"la base appartient déjà à l'organisation « {existing.id} », pas « {org.id} »"
        )
    # Parents before children: SQLite checks each foreign key as the statement runs.
    _upsert(session, Organisation, [org.model_dump()], summary, "organisation")
    _upsert(
        session,
        Landlord,
        [{"id": x.id, "name": x.name} for x in directory.landlords],
        summary,
        "landlords",
    )
    _upsert(
        session,
        Site,
        [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "landlord_id": s.landlord,
                "town": s.town,
                "address": s.address,
            }
            for s in directory.sites
        ],
        summary,
        "sites",
    )
    _upsert(
        session,
        Dwelling,
        [
            {"id": d.id, "site_id": d.site, "label": d.label, "landlord_id": d.landlord}
            for d in directory.dwellings
        ],
        summary,
        "dwellings",
    )
    _upsert(
        session,
        Resident,
        [
            {
                "id": r.id,
                "name": r.name,
                "dwelling_id": r.dwelling,
                "email": r.contact.email,
                "phone": r.contact.phone,
                "consent": r.consent,
            }
            for r in directory.residents
        ],
        summary,
        "residents",
    )
    _upsert(
        session,
        Staff,
        [
            {
                "id": p.id,
                "name": p.name,
                "role": p.role,
                "all_sites": p.sites == "all",
                "landlord_id": p.landlord,
                "notify": list(p.notify),
                "language": p.language,
                "active": p.active,
            }
            for p in directory.staff
        ],
        summary,
        "staff",
    )
    _link_staff_to_sites(session, directory.staff)
    session.expire_all()
    return summary
