"""Bad input a person can type gets one French line and exit 2, nothing written; a database
that is busy or out of reach gets one line and exit 1. Never a traceback (DESIGN.md, rule 8)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hygiene_walk import hold_visit, report_breach
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from models.db import SettingError, busy_timeout_s, get_engine, session_scope
from models.directory import Organisation, Resident
from suivi.cli import build

DIRECTORY = Path(__file__).parent / "data" / "directory.yaml"


def one_french_line(result: Result, *, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A fresh SQLite database, upgraded, with the test directory imported."""
    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    runner = CliRunner()
    app = build()
    upgraded = runner.invoke(app, ["db", "upgrade", "--rehearsal"])
    assert upgraded.exit_code == 0, upgraded.output
    imported = runner.invoke(app, ["directory", "import", str(DIRECTORY)])
    assert imported.exit_code == 0, imported.output
    yield runner


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(build(), list(args))


def warned_case() -> int:
    """Reported the day before the first visit; three failed visits: a first warning."""
    with session_scope(get_engine()) as s:
        case = report_breach(s, "r-0001", "2026-09-13")
        for day in ("2026-09-14", "2026-09-21", "2026-09-28"):
            case = hold_visit(s, case, day)
        assert case.state == "warning_1"
        return case.id


# 1. case letter -o


def test_letter_into_a_directory_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    case = warned_case()
    folder = tmp_path / "courriers.html"
    folder.mkdir()
    line = one_french_line(run(cli, "case", "letter", f"C-{case}", "hygiene_warning_1",
                               "-o", str(folder), "--now", "2026-09-29T09:00"))
    assert line == f"-o : {folder} est un dossier, pas un fichier"
    assert list(folder.iterdir()) == []


def test_letter_into_a_missing_folder_is_refused_and_creates_nothing(
    cli: CliRunner, tmp_path: Path
) -> None:
    case = warned_case()
    target = tmp_path / "absent" / "dossier" / "l.html"
    line = one_french_line(run(cli, "case", "letter", str(case), "hygiene_warning_1",
                               "-o", str(target), "--now", "2026-09-29T09:00"))
    assert line.startswith(f"-o : le dossier {target.parent} n'existe pas")
    assert not (tmp_path / "absent").exists()

    # A file where the folder should be is no folder either.
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    line = one_french_line(run(cli, "case", "letter", str(case), "hygiene_warning_1",
                               "-o", str(blocker / "l.html")))
    assert line.startswith(f"-o : le dossier {blocker} n'existe pas")


def test_letter_into_an_unwritable_file_is_refused(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = warned_case()
    target = tmp_path / "l.html"

    def denied(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    # Tests may run as root, for whom chmod forbids nothing: refuse the write itself.
    with monkeypatch.context() as patch:
        patch.setattr("suivi.commands.letter.write_private", denied)
        line = one_french_line(run(cli, "case", "letter", str(case), "hygiene_warning_1",
                                   "-o", str(target), "--now", "2026-09-29T09:00"))
    assert line == f"-o : écriture refusée dans {target} (droits insuffisants)"

    written = run(cli, "case", "letter", str(case), "hygiene_warning_1", "-o", str(target),
                  "--now", "2026-09-29T09:00")
    assert written.exit_code == 0, written.output
    assert "Jean Dupont" in target.read_text(encoding="utf-8")


# 2. and 3. directory import


def directory_counts() -> tuple[int, int]:
    with session_scope(get_engine()) as s:
        return (
            s.scalar(select(func.count()).select_from(Organisation)) or 0,
            s.scalar(select(func.count()).select_from(Resident)) or 0,
        )


def test_directory_import_of_a_folder_or_a_non_utf8_file_is_refused(
    cli: CliRunner, tmp_path: Path
) -> None:
    before = directory_counts()
    line = one_french_line(run(cli, "directory", "import", str(tmp_path)))
    assert line == f"{tmp_path} est un dossier, pas un fichier YAML d'annuaire"

    latin1 = tmp_path / "annuaire.yaml"
    latin1.write_bytes("organisation:\n  id: x\n  name: Société\n".encode("latin-1"))
    line = one_french_line(run(cli, "directory", "import", str(latin1)))
    assert line.startswith(f"{latin1} n'est pas un texte UTF-8")
    assert "enregistrez le fichier en UTF-8" in line

    broken = tmp_path / "casse.yaml"
    broken.write_text("organisation:\n  id: x\n   name: [oups\n", encoding="utf-8")
    line = one_french_line(run(cli, "directory", "import", str(broken)))
    assert line.startswith(f"{broken} : YAML illisible ligne ")

    for text in ("", "- une liste\n- pas un annuaire\n"):
        odd = tmp_path / "bizarre.yaml"
        odd.write_text(text, encoding="utf-8")
        line = one_french_line(run(cli, "directory", "import", str(odd)))
        assert line.startswith(f"{odd} : ")
    assert directory_counts() == before


def test_directory_validation_lists_every_error_in_french(
    cli: CliRunner, tmp_path: Path
) -> None:
    before = directory_counts()
    bad = tmp_path / "annuaire.yaml"
    bad.write_text(
        "sites:\n"
        "  - id: viala\n"
        "    name: Viala\n"
        "    kind: chateau\n"
        "staff:\n"
        "  - id: x\n"
        "    name: X\n"
        "    role: gs\n"
        "    active: peut-être\n"
        "    couleur: bleu\n",
        encoding="utf-8",
    )
    line = one_french_line(run(cli, "directory", "import", str(bad)))
    assert line.startswith(f"{bad} : 4 erreur(s) : ")
    assert "organisation : champ obligatoire manquant" in line
    assert "sites.0.kind : valeur non permise « chateau »" in line
    assert "staff.0.active : oui/non attendu (true/false)" in line
    assert "staff.0.couleur : champ inconnu" in line
    assert "Field required" not in line
    assert directory_counts() == before


def test_directory_rules_of_our_own_answer_in_french(cli: CliRunner, tmp_path: Path) -> None:
    before = directory_counts()
    bad = tmp_path / "annuaire.yaml"
    bad.write_text(
        "organisation: {id: org, name: Org}\n"
        "sites:\n"
        "  - {id: viala, name: Viala, kind: residence}\n"
        "staff:\n"
        "  - {id: gs-x, name: X, role: gs, sites: all}\n"
        "  - {id: bailleur-x, name: Y, role: landlord}\n",
        encoding="utf-8",
    )
    line = one_french_line(run(cli, "directory", "import", str(bad)))
    assert "staff.0 : gs-x (rôle gs) : `sites: all` est réservé aux rôles dgls, rgls, admin" in line
    assert "staff.1 : bailleur-x (rôle landlord) : indiquez son bailleur" in line
    assert directory_counts() == before

    twice = tmp_path / "doublons.yaml"
    twice.write_text(
        "organisation: {id: org, name: Org}\n"
        "sites:\n"
        "  - {id: viala, name: Viala, kind: residence}\n"
        "  - {id: viala, name: Viala bis, kind: residence}\n",
        encoding="utf-8",
    )
    line = one_french_line(run(cli, "directory", "import", str(twice)))
    assert "sites : identifiant(s) en double : viala" in line
    assert directory_counts() == before


# 4. audit verify


def test_audit_verify_takes_a_reference_and_refuses_an_unknown_case(cli: CliRunner) -> None:
    case = warned_case()
    for reference in (str(case), f"C-{case}", f"c-{case}"):
        checked = run(cli, "audit", "verify", reference)
        assert checked.exit_code == 0, checked.output
        assert "Piste d'audit intègre." in checked.stdout

    assert one_french_line(run(cli, "audit", "verify", "999")) == "dossier inconnu : C-999"
    assert one_french_line(run(cli, "audit", "verify", "C-999")) == "dossier inconnu : C-999"
    line = one_french_line(run(cli, "audit", "verify", "dossier-12"))
    assert line.startswith("référence de dossier invalide : « dossier-12 »")

    everything = run(cli, "audit", "verify")
    assert everything.exit_code == 0 and "Piste d'audit intègre." in everything.stdout


# 5. main(): a database busy or out of reach


def suivi(
    env_url: str, *args: str, timeout: int = 60, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUIVI_DATABASE_URL": env_url, **settings}
    return subprocess.run(
        [sys.executable, "-m", "suivi.cli", *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )


def test_a_locked_database_says_it_is_busy(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "suivi.db"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock (sweep, delivery)
        # A command that writes waits for the database's busy timeout (10 s unless set),
        # then gives up; one that only reads would not wait at all (WAL snapshot,
        # tests/test_read_only.py).
        started = time.monotonic()
        run_ = suivi(f"sqlite:///{path}", "case", "fire", "1", "schedule_visit",
                     "--actor", "gs-viala", SUIVI_SQLITE_BUSY_TIMEOUT="1,5")
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert waited >= 1.5, "gave up before the busy timeout it was given"
    assert run_.returncode == 1, run_.stderr
    assert "Traceback" not in run_.stderr
    assert run_.stderr.splitlines() == [
        f"la base sqlite:///{path} est occupée par un autre traitement (balayage, envoi) : "
        "réessayez dans un instant"
    ]


def test_a_busy_timeout_that_is_not_seconds_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("dix", "-1", "nan", "7200"):
        monkeypatch.setenv("SUIVI_SQLITE_BUSY_TIMEOUT", value)
        with pytest.raises(SettingError, match=f"« {value} » n'est pas une durée en secondes"):
            busy_timeout_s()
    monkeypatch.setenv("SUIVI_SQLITE_BUSY_TIMEOUT", "2,5")
    assert busy_timeout_s() == 2.5
    monkeypatch.delenv("SUIVI_SQLITE_BUSY_TIMEOUT")
    assert busy_timeout_s() == 10

    run_ = suivi(f"sqlite:///{tmp_path / 'suivi.db'}", "case", "list",
                 SUIVI_SQLITE_BUSY_TIMEOUT="dix")
    assert (run_.returncode, run_.stderr) == (
        2, "SUIVI_SQLITE_BUSY_TIMEOUT : « dix » n'est pas une durée en secondes entre 0 et 3600\n"
    )
    assert not (tmp_path / "suivi.db").exists()


def test_an_unreachable_postgres_server_is_named_without_its_password() -> None:
    run_ = suivi("postgresql://suivi:motdepasse@127.0.0.1:1/suivi", "case", "list")
    assert run_.returncode == 1, run_.stderr
    assert "Traceback" not in run_.stderr
    lines = run_.stderr.splitlines()
    assert len(lines) == 1, run_.stderr
    assert lines[0].startswith(
        "la base postgresql+psycopg://suivi:***@127.0.0.1:1/suivi est injoignable ("
    )
    assert "motdepasse" not in run_.stderr
