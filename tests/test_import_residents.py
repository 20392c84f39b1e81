"""Issue 13, item 11: residents from the software associations already use, as CSV or .xlsx,
columns mapped to ours; a dry run lists what would change; every bad row named by its line,
nothing written; an admin's act like the directory import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from models.admin import AdminAct
from models.db import get_engine, session_scope
from models.directory import Resident
from suivi.cli import build

DIRECTORY = Path(__file__).parent / "data" / "directory.yaml"
MAP = ["--map", "Matricule=id", "--map", "Nom=name", "--map", "Logement=dwelling",
       "--map", "Courriel=email", "--map", "Portable=phone", "--map", "Accord=consent"]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(build(), ["db", "upgrade", "--rehearsal"]).exit_code == 0
    assert runner.invoke(build(), ["directory", "import", str(DIRECTORY)]).exit_code == 0
    yield runner


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(build(), list(args))


def residents() -> dict[str, tuple[str, str | None, str | None]]:
    with session_scope(get_engine()) as s:
        return {r.id: (r.name, r.dwelling_id, r.email) for r in s.scalars(select(Resident))}


def sheet_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("Matricule;Nom;Logement;Courriel;Portable;Accord\n" + "\n".join(rows) + "\n",
                    encoding="utf-8-sig")
    return path


def test_a_dry_run_lists_who_would_be_created_and_changed_and_writes_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    path = sheet_csv(
        tmp_path,
        "r-0100;Marie Curie;viala-215;marie@example.org;06 12 34 56 78;oui",
        "r-0001;Jean Dupont;viala-215;jean.dupont@example.org;0600000001;oui",
    )
    before = residents()
    result = run(cli, "directory", "import-residents", str(path), *MAP, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "r-0100 serait créé : Marie Curie" in result.stdout
    assert "r-0001 serait modifié : logement « viala-214 » → « viala-215 »" in result.stdout
    assert "Essai : rien n'est écrit." in result.stdout
    assert residents() == before


def test_every_bad_row_is_named_by_its_line_and_nothing_is_written(
    cli: CliRunner, tmp_path: Path
) -> None:
    path = sheet_csv(
        tmp_path,
        "r-0100;Marie Curie;viala-215;marie@example.org;;oui",
        "r-0101;;viala-215;;;non",
        "r-0102;Paul Valéry;viala-215;pas-une-adresse;;non",
        "r-0103;Louise Michel;nulle-part;;;non",
        "r-0100;Marie Curie bis;viala-215;;;non",
    )
    before = residents()
    result = run(cli, "directory", "import-residents", str(path), *MAP)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    for expected in ("4 ligne(s) refusée(s), rien n'est écrit", "ligne 3 : nom",
                     "ligne 4 : courriel", "ligne 6 : identifiant « r-0100 » déjà à la ligne 2",
                     "ligne 5 : logement « nulle-part » inconnu"):
        assert expected in line, expected
    assert residents() == before


def test_an_xlsx_export_with_a_mapping_file_is_imported_and_recorded_as_an_admin_act(
    cli: CliRunner, tmp_path: Path
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Matricule", "Nom", "Logement", "Courriel", "Portable", "Accord"])
    sheet.append(["r-0200", "Simone Veil", "chartreux-12", "simone@example.org", None, "oui"])
    sheet.append(["r-0003", "Pierre Moreau", "chartreux-12", None, None, "non"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    mapping = tmp_path / "colonnes.txt"
    mapping.write_text("# export du logiciel X\n" + "\n".join(MAP[1::2]) + "\n",
                       encoding="utf-8")
    result = run(cli, "directory", "import-residents", str(path), "--map-file", str(mapping),
                 "--actor", "admin", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] == ["r-0200"] and report["unchanged"] == 1
    stored = residents()
    assert stored["r-0200"] == ("Simone Veil", "chartreux-12", "simone@example.org")
    with session_scope(get_engine()) as s:
        act = s.scalars(select(AdminAct).where(AdminAct.act == "residents_import")).one()
        assert act.actor_id == "admin" and act.detail["file"] == "export.xlsx"
        assert s.scalar(select(func.count()).select_from(Resident)) == 5


def test_a_mapping_to_an_unknown_field_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    path = sheet_csv(tmp_path, "r-0100;Marie Curie;viala-215;;;oui")
    result = run(cli, "directory", "import-residents", str(path), "--map", "Nom=nom_complet")
    assert result.exit_code == 2
    assert "CHAMP parmi id, name, dwelling, email, phone, consent" in result.stderr
