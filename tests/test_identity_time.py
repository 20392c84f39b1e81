"""Identity and time are not the caller's to choose (issue 10, item 7; DESIGN.md rule 3).

A production database (the default) refuses a future `--now` and `--actor system` from the
command line, and its reading commands need `--actor` and apply the read policy; a rehearsal
database (`suivi db upgrade --rehearsal`, the demo's) allows all of it. Each event keeps the
server's time it was written at. Importing the directory is an admin act, recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import at
from helpers import report
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from models.admin import AdminAct, is_rehearsal
from models.cases import Case, CaseEvent
from models.db import get_engine, session_scope
from models.directory import Staff
from processes import engine as wf
from processes.errors import NotFound
from processes.sweep import sweep_due_clocks
from suivi.cli import build

DIRECTORY = Path(__file__).parent / "data" / "directory.yaml"


def run(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(build(), list(args))


def one_line(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *upgrade: str) -> CliRunner:
    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    runner = CliRunner()
    assert run(runner, "db", "upgrade", *upgrade).exit_code == 0
    imported = run(runner, "directory", "import", str(DIRECTORY))
    assert imported.exit_code == 0, imported.output
    return runner


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    yield fresh(tmp_path, monkeypatch)


@pytest.fixture
def rehearsal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    yield fresh(tmp_path, monkeypatch, "--rehearsal")


def yesterday() -> str:
    """A moment in the past, whatever the day the suite runs (the CLI compares with its
    real clock, as it must)."""
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


def open_breach(runner: CliRunner, *extra: str) -> Result:
    return run(runner, "case", "open", "hygiene", "--resident", "r-0001", "--actor",
               "agent-viala", "--data", f"observed_at={yesterday()}",
               "--data", "description=Déchets accumulés", *extra)


def cases() -> int:
    with session_scope(get_engine()) as s:
        return s.scalar(select(func.count()).select_from(Case)) or 0


def test_a_production_database_refuses_an_action_dated_in_2099_and_writes_nothing(
    production: CliRunner,
) -> None:
    line = one_line(open_breach(production, "--now", "2099-01-04T09:00", "--json"))
    assert line.startswith("--now 04/01/2099 09:00 est dans le futur")
    assert cases() == 0


def test_a_production_database_refuses_a_sweep_on_31_december_9999(
    production: CliRunner,
) -> None:
    line = one_line(run(production, "sweep", "--sans-prefect", "--now", "9999-12-31T08:00"))
    assert "est dans le futur" in line


def test_a_production_database_accepts_an_action_dated_yesterday(production: CliRunner) -> None:
    opened = open_breach(production, "--now", yesterday())
    assert opened.exit_code == 0, opened.output
    assert cases() == 1


def test_nobody_may_act_as_system_on_a_production_database(production: CliRunner) -> None:
    assert open_breach(production).exit_code == 0
    line = one_line(run(production, "case", "fire", "1", "schedule_visit", "--actor", "system",
                        "--data", "visit_at=2030-01-07T10:00", "--data", "mode=home"))
    assert line.startswith("l'acteur « system » est réservé aux traitements automatiques")
    with session_scope(get_engine()) as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_a_rehearsal_database_accepts_2099_and_the_system_actor(rehearsal: CliRunner) -> None:
    opened = open_breach(rehearsal, "--now", "2099-01-05T09:00")
    assert opened.exit_code == 0, opened.output
    swept = run(rehearsal, "sweep", "--sans-prefect", "--now", "2099-02-01T08:00", "--json")
    assert swept.exit_code == 0, swept.output
    # The system actor passes the identity rule; the engine then says what it may not do.
    refused = one_line(run(rehearsal, "case", "fire", "1", "schedule_visit", "--actor", "system",
                           "--now", "2099-02-02T09:00", "--data", "visit_at=2099-02-09T10:00",
                           "--data", "mode=home"))
    assert "réservé aux traitements automatiques" not in refused
    assert "le rôle « system »" in refused


def test_a_database_with_cases_cannot_become_a_rehearsal(production: CliRunner) -> None:
    assert open_breach(production).exit_code == 0
    line = one_line(run(production, "db", "upgrade", "--rehearsal"))
    assert line == ("cette base contient déjà des dossiers : seule une base neuve peut être "
                    "marquée comme base de répétition (--rehearsal)")
    with session_scope(get_engine()) as s:
        assert not is_rehearsal(s)


def test_reading_a_production_database_needs_to_know_who_reads(production: CliRunner) -> None:
    assert open_breach(production).exit_code == 0
    line = one_line(run(production, "case", "list"))
    assert line.startswith("--actor est obligatoire sur une base de production")
    assert one_line(run(production, "case", "show", "1")).startswith("--actor est obligatoire")
    assert one_line(run(production, "resident", "show", "r-0001")).startswith("--actor")
    assert one_line(run(production, "notifications", "list")).startswith("--actor")


def test_the_cli_reads_through_the_policy_a_hidden_case_is_a_missing_one(
    production: CliRunner,
) -> None:
    assert open_breach(production).exit_code == 0
    assert one_line(run(production, "case", "show", "1", "--actor", "gs-chartreux")) == (
        "dossier inconnu : C-1"
    )
    assert one_line(run(production, "case", "show", "2", "--actor", "gs-chartreux")) == (
        "dossier inconnu : C-2"
    )
    listed = run(production, "case", "list", "--actor", "gs-chartreux", "--json")
    assert json.loads(listed.stdout) == []
    mine = run(production, "case", "list", "--actor", "gs-viala", "--json")
    assert [c["reference"] for c in json.loads(mine.stdout)] == ["C-1"]
    assert one_line(run(production, "resident", "show", "r-0001", "--actor", "gs-chartreux")) == (
        "résident inconnu : « r-0001 »"
    )
    theirs = run(production, "notifications", "list", "--actor", "gs-chartreux", "--json")
    assert json.loads(theirs.stdout) == []


def test_a_residents_access_file_is_a_reading_under_the_policy(
    production: CliRunner, tmp_path: Path
) -> None:
    """`resident export` holds everything about a person: on a production database only
    someone who may see the resident writes it, and nothing is written for anyone else."""
    assert open_breach(production).exit_code == 0
    out = tmp_path / "r-0001.json"
    assert "--actor est obligatoire" in one_line(
        run(production, "resident", "export", "r-0001", "-o", str(out))
    )
    assert one_line(run(production, "resident", "export", "r-0001", "-o", str(out),
                        "--actor", "gs-chartreux")) == "résident inconnu : « r-0001 »"
    assert not out.exists()
    mine = run(production, "resident", "export", "r-0001", "-o", str(out), "--actor", "gs-viala")
    assert mine.exit_code == 0, mine.output
    assert json.loads(out.read_text())["resident"]["id"] == "r-0001"


def test_a_landlord_reads_its_case_without_the_free_text(production: CliRunner) -> None:
    assert open_breach(production).exit_code == 0
    shown = run(production, "case", "show", "1", "--actor", "bailleur-13h", "--json")
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.stdout)
    assert view["reference"] == "C-1"
    assert "Déchets" not in shown.stdout
    assert "observed_at" in view["history"][0]["payload"]
    staff_view = run(production, "case", "show", "1", "--actor", "gs-viala", "--json")
    assert "Déchets accumulés" in staff_view.stdout


def test_importing_the_directory_again_is_an_admin_act_recorded_with_who_did_it(
    production: CliRunner,
) -> None:
    line = one_line(run(production, "directory", "import", str(DIRECTORY)))
    assert line.startswith("--actor est obligatoire : l'import de l'annuaire est un acte")
    line = one_line(run(production, "directory", "import", str(DIRECTORY), "--actor", "gs-viala"))
    assert "seul un membre actif du personnel de rôle admin" in line
    done = run(production, "directory", "import", str(DIRECTORY), "--actor", "admin")
    assert done.exit_code == 0, done.output
    with session_scope(get_engine()) as s:
        acts = s.execute(select(AdminAct.actor_id, AdminAct.act).order_by(AdminAct.id)).all()
    assert [tuple(a) for a in acts] == [
        ("installation", "directory_import"), ("admin", "directory_import")
    ]


def test_someone_missing_from_the_file_stays_until_prune_then_can_no_longer_act(
    production: CliRunner, tmp_path: Path
) -> None:
    content = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    content["staff"] = [p for p in content["staff"] if p["id"] != "gs-viala"]
    without = tmp_path / "sans-sophie.yaml"
    without.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")

    kept = run(production, "directory", "import", str(without), "--actor", "admin")
    assert kept.exit_code == 0, kept.output
    assert "reste(nt) actif(s) : gs-viala" in " ".join(kept.stdout.split())
    assert "--prune" in kept.stdout
    pruned = run(production, "directory", "import", str(without), "--actor", "admin", "--prune",
                 "--json")
    assert json.loads(pruned.stdout)["deactivated"] == ["gs-viala"]
    with session_scope(get_engine()) as s:
        staff = s.get(Staff, "gs-viala")
        assert staff is not None and not staff.active
        with pytest.raises(NotFound, match="inconnu ou inactif"):
            wf.open_case(s, "hygiene", resident_id="r-0001", actor_id="gs-viala",
                         payload={"observed_at": at("2026-11-30 09:00").isoformat(),
                                  "description": "x"},
                         now=at("2026-11-30 10:00"))


def test_every_event_keeps_the_time_the_server_wrote_it_beside_the_time_it_claims(
    engine: Engine,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    assert sweep_due_clocks(engine, at("2026-11-30 09:00")).fired == 1
    after = datetime.now(UTC) + timedelta(seconds=5)
    with session_scope(engine) as s:
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                           .order_by(CaseEvent.seq)).all()
    assert [e.trigger for e in events] == ["open", "clock:plan_first_visit"]
    for event in events:
        assert event.at < datetime(2026, 12, 1, tzinfo=UTC)
        assert event.recorded_at is not None
        assert before <= event.recorded_at <= after
