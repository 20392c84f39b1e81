"""A database that was never upgraded is a set-up step to name, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_command_on_a_database_without_schema_names_the_step(tmp_path: Path) -> None:
    empty = tmp_path / "vide.db"
    env = {**os.environ, "SUIVI_DATABASE_URL": f"sqlite:///{empty}"}
    run = subprocess.run(
        [sys.executable, "-m", "suivi.cli", "case", "list"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.strip().endswith("lancez d'abord `suivi db upgrade`")
    assert "Traceback" not in run.stderr

    upgraded = subprocess.run(
        [sys.executable, "-m", "suivi.cli", "db", "upgrade", "--rehearsal"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "suivi.cli", "case", "list", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]"
