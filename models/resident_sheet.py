"""Residents from the software associations already use: a CSV or .xlsx export, its columns
mapped to ours (`nom=name`), each row checked as the directory file checks a resident
(models/schemas.py: ids, names, email, phone), every bad row named by its line number."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.directory import Dwelling, Resident
from models.directory_io import DirectoryError
from models.schemas import ResidentIn

FIELDS = ("id", "name", "dwelling", "email", "phone", "consent")
FIELD_WORDS = {"id": "identifiant", "name": "nom", "dwelling": "logement", "email": "courriel",
               "phone": "téléphone", "consent": "consentement"}
YES = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
NO = {"non", "n", "no", "false", "faux", "0", ""}
MAX_ROWS = 200_000


@dataclass
class SheetPlan:
    """What importing the sheet would change, row by row."""

    residents: list[ResidentIn] = field(default_factory=list)
    created: list[ResidentIn] = field(default_factory=list)
    changed: list[tuple[ResidentIn, list[str]]] = field(default_factory=list)
    unchanged: int = 0


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`--map nom=name` pairs: a column of the sheet to one of our fields."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, ours = pair.partition("=")
        if not sep or not column.strip() or ours.strip() not in FIELDS:
            raise DirectoryError(
                f"--map « {pair} » : attendu COLONNE=CHAMP, CHAMP parmi {', '.join(FIELDS)}"
            )
        mapping[column.strip()] = ours.strip()
    return mapping


def mapping_file(path: Path) -> list[str]:
    """A mapping file: one `COLONNE=champ` a line; blank lines and `#` comments ignored."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DirectoryError(f"fichier de correspondance illisible : {path} ({error})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def read_sheet(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number as the spreadsheet shows it, {column: text}) for each non-empty row."""
    if path.suffix.lower() == ".xlsx":
        yield from _xlsx_rows(path)
    elif path.suffix.lower() == ".csv":
        yield from _csv_rows(path)
    else:
        raise DirectoryError(f"{path.name} : fichier .csv ou .xlsx attendu")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DirectoryError(f"{path.name} : texte UTF-8 attendu") from None
    # French spreadsheets export with `;`; others with `,`.
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    for number, row in enumerate(reader, start=2):
        if any(cell.strip() for cell in row):
            yield number, dict(zip(header, (c.strip() for c in row), strict=False))


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise DirectoryError(f"{path.name} : classeur .xlsx illisible ({error})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell(h) for h in next(rows, ())]
        for number, row in enumerate(rows, start=2):
            cells = [_cell(c) for c in row]
            if any(cells):
                yield number, dict(zip(header, cells, strict=False))
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def resident_of(row: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, Any]:
    ours = {field: row[column] for column, field in mapping.items() if column in row}
    for name in FIELDS:  # a column already named as ours needs no mapping
        if name in row and name not in ours.values() and name not in mapping:
            ours.setdefault(name, row[name])
    consent = ours.get("consent", "").strip().casefold()
    if consent in YES | NO:
        consent_value: Any = consent in YES
    else:
        consent_value = ours.get("consent")
    # An empty id or name is left out, so that it is refused as missing.
    required = {key: ours[key] for key in ("id", "name") if ours.get(key)}
    return {
        **required,
        "dwelling": ours.get("dwelling") or None,
        "contact": {"email": ours.get("email") or None, "phone": ours.get("phone") or None},
        "consent": consent_value,
    }


def plan_sheet(session: Session, path: Path, mapping: Mapping[str, str]) -> SheetPlan:
    """Every row checked; all the bad ones reported together by line, before anything is
    written."""
    from processes.errors import french_error

    problems: list[str] = []
    plan = SheetPlan()
    seen: dict[str, int] = {}
    for number, row in read_sheet(path):
        if number > MAX_ROWS:
            raise DirectoryError(f"{path.name} : plus de {MAX_ROWS} lignes")
        try:
            resident = ResidentIn.model_validate(resident_of(row, mapping))
        except ValidationError as error:
            details = " ; ".join(
                f"{FIELD_WORDS.get(str(e['loc'][-1]), '.'.join(map(str, e['loc'])))} : "
                f"{french_error(e)}"
                for e in error.errors()
            )
            problems.append(f"ligne {number} : {details}")
            continue
        if resident.id in seen:
            problems.append(f"ligne {number} : identifiant « {resident.id} » déjà à la ligne "
                            f"{seen[resident.id]}")
            continue
        seen[resident.id] = number
        plan.residents.append(resident)
    if not plan.residents and not problems:
        raise DirectoryError(f"{path.name} : aucun résident (colonnes : {', '.join(FIELDS)} "
                             "ou --map)")
    problems += _unknown_dwellings(session, plan.residents, seen)
    problems.sort(key=lambda problem: int(problem.split()[1]))
    if problems:
        raise DirectoryError(
            f"{path.name} : {len(problems)} ligne(s) refusée(s), rien n'est écrit : "
            + " ; ".join(problems)
        )
    _compare(session, plan)
    return plan


def _unknown_dwellings(
    session: Session, residents: list[ResidentIn], lines: Mapping[str, int]
) -> list[str]:
    wanted = {r.dwelling for r in residents if r.dwelling}
    known = set(session.scalars(select(Dwelling.id).where(Dwelling.id.in_(wanted)))) if wanted \
        else set()
    return [f"ligne {lines[r.id]} : logement « {r.dwelling} » inconnu"
            for r in residents if r.dwelling and r.dwelling not in known]


def _compare(session: Session, plan: SheetPlan) -> None:
    ids = [r.id for r in plan.residents]
    stored = {r.id: r for r in session.scalars(select(Resident).where(Resident.id.in_(ids)))}
    for new in plan.residents:
        old = stored.get(new.id)
        if old is None:
            plan.created.append(new)
            continue
        changes = [
            f"{FIELD_WORDS[name]} « {before or ''} » → « {after or ''} »"
            for name, before, after in (
                ("name", old.name, new.name), ("dwelling", old.dwelling_id, new.dwelling),
                ("email", old.email, new.contact.email), ("phone", old.phone, new.contact.phone),
            )
            if (before or None) != (after or None)
        ]
        if old.consent != new.consent:
            changes.append(f"consentement {'oui' if new.consent else 'non'}")
        if changes:
            plan.changed.append((new, changes))
        else:
            plan.unchanged += 1
