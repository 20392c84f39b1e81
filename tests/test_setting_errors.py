"""Settings people get wrong on the way to production: one French line, exit 2, no traceback,
and nothing created on disk (issue 9, item 6). Through the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from receivers import free_port

from models.db import make_engine
from models.migrate import upgrade


def suivi(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"SUIVI_DATABASE_URL", "PREFECT_API_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "suivi.cli", *args], env={**environment, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )


def one_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_a_database_path_given_instead_of_a_url_is_refused_with_the_url_to_write(
    tmp_path: Path,
) -> None:
    run = suivi(tmp_path, "case", "list", SUIVI_DATABASE_URL="var/demo.db")

    assert one_line(run) == (
        "SUIVI_DATABASE_URL : « var/demo.db » n'est pas une adresse de base de données "
        "(un fichier SQLite s'écrit sqlite:///var/demo.db) ; attendu : "
        "postgresql://utilisateur@hôte/base ou sqlite:///chemin/suivi.db"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_mysql_url_is_refused_by_its_kind_without_repeating_the_password(
    tmp_path: Path,
) -> None:
    run = suivi(tmp_path, "db", "upgrade",
                SUIVI_DATABASE_URL="mysql://suivi:motdepasse@127.0.0.1/suivi")

    assert one_line(run) == (
        "SUIVI_DATABASE_URL : les bases « mysql » ne sont pas prises en charge ; suivi "
        "fonctionne avec PostgreSQL ou SQLite (postgresql://utilisateur@hôte/base ou "
        "sqlite:///chemin/suivi.db)"
    )
    assert "motdepasse" not in run.stderr + run.stdout

    without_scheme = suivi(tmp_path, "db", "upgrade",
                           SUIVI_DATABASE_URL="suivi:motdepasse@127.0.0.1/suivi")
    assert one_line(without_scheme).startswith(
        "SUIVI_DATABASE_URL : la valeur donnée n'est pas une adresse de base de données ; ")
    assert "motdepasse" not in without_scheme.stderr + without_scheme.stdout


def test_a_prefect_server_that_does_not_answer_is_named_before_any_flow_runs(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'suivi.db'}"
    engine = make_engine(database)
    upgrade(engine)
    engine.dispose()
    nobody = f"http://127.0.0.1:{free_port()}/api"

    for command in (["sweep", "--now", "2026-11-30T10:00"], ["notify"], ["serve"]):
        run = suivi(tmp_path, *command, SUIVI_DATABASE_URL=database, PREFECT_API_URL=nobody)

        line = one_line(run)
        assert line.startswith(
            f"PREFECT_API_URL : le serveur Prefect {nobody} ne répond pas ("
        ), (command, line)
        assert line.endswith("ou corrigez l'adresse ; sans PREFECT_API_URL, suivi utilise un "
                             "serveur local temporaire")


def test_reading_a_sqlite_database_that_does_not_exist_creates_no_file(tmp_path: Path) -> None:
    absent = tmp_path / "absent.db"
    for command in (["case", "list"], ["directory", "show"], ["notifications", "list"]):
        run = suivi(tmp_path, *command, SUIVI_DATABASE_URL=f"sqlite:///{absent}")

        assert one_line(run) == (
            f"la base sqlite:///{absent} n'existe pas (aucun fichier à cet endroit) : "
            "vérifiez SUIVI_DATABASE_URL, ou lancez d'abord `suivi db upgrade`"
        ), command
    # The default database (./var/suivi.db) is not made by a reader either.
    assert one_line(suivi(tmp_path, "case", "list")).startswith(
        "la base sqlite:///var/suivi.db n'existe pas")
    assert [p.name for p in tmp_path.rglob("*")] == ["var"]
