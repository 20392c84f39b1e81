"""The command line starts without what it does not use: `suivi --help` loads no command,
`suivi case show` neither Prefect, Apprise nor WeasyPrint (seconds and tens of MB each;
their times are in bench/startup.py). Behaviour, not timing: which modules a real process
imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import report
from sqlalchemy import Engine
from typer.testing import CliRunner

from models.db import session_scope
from suivi import cli

HEAVY = ("prefect", "apprise", "weasyprint")

# Runs the real entry point, then says which packages the process had imported.
PROBE = """
import json, sys
sys.argv = ["suivi", *sys.argv[1:]]
from suivi.cli import main
try:
    main()
except SystemExit as end:
    code = end.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def imported_by(*args: str, database: str | None = None) -> tuple[int, set[str]]:
    env = {**os.environ}
    if database:
        env["SUIVI_DATABASE_URL"] = database
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    last = json.loads(run.stdout.strip().splitlines()[-1])
    return last["code"], set(last["modules"])


def test_suivi_help_imports_no_command_nor_the_database_layer() -> None:
    code, modules = imported_by("--help")
    assert code == 0
    assert not modules & {*HEAVY, "sqlalchemy", "pydantic", "models", "processes", "jinja2"}


def test_case_show_loads_neither_prefect_apprise_nor_weasyprint(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = report(s, "2026-11-02 09:00").id
    url = sqlite_engine.url.render_as_string(hide_password=False)
    code, modules = imported_by("case", "show", str(case_id), database=url)
    assert code in (0, None)
    assert "models" in modules  # it did read the case
    assert not modules & set(HEAVY)


def test_the_help_listing_is_the_commands_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-line helps of suivi --help come from a table in suivi/cli.py: the screen must be
    the one the commands themselves give once loaded."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setattr(cli, "_loaded", {})
    lazy = CliRunner().invoke(cli.build(), ["--help"])
    for name in cli.LAZY_COMMANDS:
        cli.load_command(name)
    loaded = CliRunner().invoke(cli.build(), ["--help"])
    assert lazy.exit_code == loaded.exit_code == 0
    assert lazy.stdout == loaded.stdout
    assert all(f" {name} " in lazy.stdout for name in cli.LAZY_COMMANDS)


def test_every_command_module_is_loaded_by_a_lazy_command() -> None:
    """A module left out of LAZY_COMMANDS still works (registered at start) but slows every
    command: name it there."""
    lazy = {module for _, modules in cli.LAZY_COMMANDS.values() for module in modules}
    assert set(cli.COMMAND_MODULES) <= lazy
