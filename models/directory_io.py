"""Import the directory from its YAML file: an idempotent upsert by id, all or nothing."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from models.directory import Dwelling, Landlord, Organisation, Resident, Site, Staff, StaffSite
from models.schemas import DirectoryFile, ResidentIn, StaffIn
from models.settings import load_yaml
from processes.errors import french_error


class DirectoryError(ValueError):
    """The file cannot be imported; nothing was written."""


@dataclass
class ImportSummary:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Reading a large file makes millions of dicts and strings, none in a cycle: CPython's
    collector would re-scan them all again and again (most of the time for 100,000 residents)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_directory(text: str, source: str = "directory") -> DirectoryFile:
    with _without_cycle_collector():
        return _parse_directory(text, source)


def _parse_directory(text: str, source: str) -> DirectoryFile:
    try:
        raw = load_yaml(text)
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
    items: list[Any],
    row_of: Callable[[Any], dict[str, Any]],
    summary: ImportSummary,
    what: str,
) -> None:
    """Insert the rows whose id is new and update the others: per CHUNK items, one query for
    the ids already there and one executemany statement each way, never an ORM object per row
    (nor every row's dict at once: 100,000 residents stay under 500 MB)."""
    table = cast(Table, model.__table__)
    # Core statements on the table: the ORM's bulk insert leaves out None values, which splits
    # rows with and without a contact into one statement each.
    by_id = update(table).where(table.c.id == bindparam("row_id"))
    for chunk in _chunks(items):
        rows = [row_of(item) for item in chunk]
        existing = _existing(session, model, (row["id"] for row in rows))
        new = [row for row in rows if row["id"] not in existing]
        old = [
            {"row_id": key, **{k: v for k, v in row.items() if k != "id"}}
            for row in rows
            if (key := row["id"]) in existing
        ]
        if new:
            session.execute(insert(table), new)
            summary.created[what] = summary.created.get(what, 0) + len(new)
        if old:
            session.execute(by_id, old)
            summary.updated[what] = summary.updated.get(what, 0) + len(old)


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
    with _without_cycle_collector():
        return _import_directory(session, directory)


def _import_directory(session: Session, directory: DirectoryFile) -> ImportSummary:
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
    _upsert(session, Organisation, [org], lambda o: o.model_dump(), summary, "organisation")
    _upsert(
        session,
        Landlord,
        directory.landlords,
        lambda x: {"id": x.id, "name": x.name},
        summary,
        "landlords",
    )
    _upsert(
        session,
        Site,
        directory.sites,
        lambda s: {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "landlord_id": s.landlord,
            "town": s.town,
            "address": s.address,
        },
        summary,
        "sites",
    )
    _upsert(
        session,
        Dwelling,
        directory.dwellings,
        lambda d: {"id": d.id, "site_id": d.site, "label": d.label, "landlord_id": d.landlord},
        summary,
        "dwellings",
    )
    _upsert(
        session,
        Resident,
        directory.residents,
        resident_row,
        summary,
        "residents",
    )
    _upsert(
        session,
        Staff,
        directory.staff,
        lambda p: {
            "id": p.id,
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
    _link_staff_to_sites(session, directory.staff)
    session.expire_all()
    return summary


def resident_row(r: ResidentIn) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "dwelling_id": r.dwelling,
        "email": r.contact.email,
        "phone": r.contact.phone,
        "consent": r.consent,
    }


def import_residents(session: Session, residents: list[ResidentIn]) -> ImportSummary:
    """Upsert residents only (a spreadsheet from another software), with the directory
    import's checks and statements; an unknown dwelling raises DirectoryError, nothing written."""
    summary = ImportSummary()
    session.flush()
    dwellings = {r.dwelling for r in residents if r.dwelling}
    known = _existing(session, Dwelling, dwellings)
    for r in residents:
        if r.dwelling and r.dwelling not in known:
            raise DirectoryError(f"résident {r.id} : logement « {r.dwelling} » inconnu")
    _upsert(session, Resident, residents, resident_row, summary, "residents")
    session.expire_all()
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
