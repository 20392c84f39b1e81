"""Retention (RGPD): a hygiene case closed in November 2026 stops naming anyone in January
2029, past the default two years; its dates, states and chain stay, so that `audit verify`,
the checkpoint signed before, and the landlord's November export all still verify."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import at
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner

from models import Base
from models.cases import Case
from models.db import session_scope
from models.directory import Organisation, Resident
from notifications.reports import render, resident_render
from processes import engine as wf
from processes.audit_export import make_export, period
from processes.audit_verify import verify_trail
from processes.checkpoints import write_checkpoint
from processes.export_verify import verify_against_database, verify_document
from processes.resident_access import resident_record
from processes.retention import ANONYMOUS_NAME, apply_retention
from processes.signing import Signer, load_public, new_private_pem, signer_from

MARKER = "MARQUEUR-rgpd-51"
NOVEMBER = period(date(2026, 11, 1), date(2026, 11, 30), now=at("2026-12-01 06:00"))


@pytest.fixture
def signer() -> Signer:
    return signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})


def closed_in_november(engine: Engine) -> tuple[int, int]:
    """Pierre Moreau's case, withdrawn on 20 November 2026; Jean Dupont's, still open."""
    with session_scope(engine) as s:
        closed = wf.open_case(
            s, "hygiene", resident_id="r-0003", actor_id="gs-chartreux",
            now=at("2026-11-02 09:00"),
            payload={"observed_at": "2026-11-02T08:30", "description": f"{MARKER} déchets"},
        ).id
        wf.fire(s, closed, "schedule_visit", actor_id="gs-chartreux", now=at("2026-11-03 09:00"),
                payload={"visit_at": "2026-11-09T10:00", "mode": "home"})
        wf.fire(s, closed, "record_visit", actor_id="gs-chartreux", now=at("2026-11-09 17:00"),
                payload={"held_at": "2026-11-09T10:00", "outcome": "unsatisfactory",
                         "obstacles": f"{MARKER} santé", "notes": f"{MARKER} voisins"})
        wf.fire(s, closed, "withdraw", actor_id="rgls-sud", now=at("2026-11-20 10:00"),
                payload={"reason": f"{MARKER} départ"})
        still_open = wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id="gs-viala", now=at("2026-11-05 09:00"),
            payload={"observed_at": "2026-11-05T08:00", "description": "odeurs"},
        ).id
    return closed, still_open


def everything_stored(engine: Engine) -> str:
    """Every row of every table, as text: where a name or a word could hide."""
    with engine.connect() as conn:
        return "\n".join(
            repr(row) for table in Base.metadata.sorted_tables
            for row in conn.execute(table.select())
        )


def test_a_case_closed_two_years_ago_keeps_its_dates_and_chain_but_no_name_or_word(
    engine: Engine, signer: Signer
) -> None:
    closed, still_open = closed_in_november(engine)
    with session_scope(engine) as s:
        export = make_export(s, "unicil", NOVEMBER, "json", now=at("2026-12-01 06:00"),
                             actor_id="dgls-1", signer=signer, render=render)
    assert MARKER in everything_stored(engine) and "Pierre Moreau" in everything_stored(engine)

    with session_scope(engine) as s:
        report = apply_retention(s, now=at("2029-01-15 03:00"))

    assert [c.case_id for c in report.cases] == [closed]
    stored = everything_stored(engine)
    assert MARKER not in stored
    assert "Pierre Moreau" not in stored
    with session_scope(engine) as s:
        case = s.get(Case, closed)
        assert case is not None
        assert (case.state, case.closed_at) == ("withdrawn", at("2026-11-20 10:00"))
        assert case.data["visits"][0]["held_at"] == "2026-11-09T09:00:00Z"
        resident = s.get(Resident, "r-0003")
        assert resident is not None and resident.name == ANONYMOUS_NAME
        assert s.get(Case, still_open) is not None

    with session_scope(engine, read_only=True) as s:
        trail = verify_trail(s, public_key=load_public(signer.public_pem))
        assert trail.ok, trail.as_dict()
        assert trail.checkpoint and trail.checkpoint["id"] == 1  # the one signed in 2026
        assert verify_against_database(s, export.export) == []
    assert verify_document(export.export, load_public(signer.public_pem)).ok

    with session_scope(engine) as s:
        again = make_export(s, "unicil", NOVEMBER, "json", now=at("2029-01-15 04:00"),
                            actor_id="dgls-1", signer=signer, render=render)
    assert again.export["manifest"]["content_sha256"] == export.export["manifest"]["content_sha256"]
    with session_scope(engine, read_only=True) as s:
        assert verify_against_database(s, again.export) == []
        assert verify_trail(s, public_key=load_public(signer.public_pem)).ok


def test_a_case_closed_within_the_period_and_a_dry_run_change_nothing(engine: Engine) -> None:
    closed, _ = closed_in_november(engine)
    before = everything_stored(engine)

    with session_scope(engine) as s:
        assert apply_retention(s, now=at("2028-11-19 12:00")).cases == []  # 23 months
        dry = apply_retention(s, now=at("2029-01-15 03:00"), dry_run=True)
    assert [c.case_id for c in dry.cases] == [closed]
    assert everything_stored(engine) == before


def test_an_organisation_keeping_six_months_anonymises_sooner(engine: Engine) -> None:
    closed, _ = closed_in_november(engine)
    with session_scope(engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {**(org.settings or {}), "retention": {"closed_case_months": 6}}

    with session_scope(engine) as s:
        assert [c.case_id for c in apply_retention(s, now=at("2027-05-21 03:00")).cases] == [
            closed
        ]


def test_a_resident_gets_everything_held_about_them_and_nobody_else(engine: Engine) -> None:
    closed, _ = closed_in_november(engine)

    with session_scope(engine, read_only=True) as s:
        record = resident_record(s, "r-0003", now=at("2026-12-01 10:00"))

    assert record["resident"]["name"] == "Pierre Moreau"
    assert [c["case"] for c in record["cases"]] == [f"C-{closed}"]
    words = json.dumps(record, ensure_ascii=False)
    assert f"{MARKER} santé" in words  # their own file, words included
    assert "Jean Dupont" not in words and "jean.dupont@example.org" not in words
    pdf = resident_render(record, "pdf")
    assert pdf.startswith(b"%PDF")


def test_retention_apply_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import DIRECTORY

    from models.db import get_engine
    from models.directory_io import import_directory, load_directory_file
    from models.migrate import upgrade
    from suivi.cli import build

    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    closed, _ = closed_in_november(engine)
    runner = CliRunner()

    dry = runner.invoke(build(), ["retention", "apply", "--dry-run", "--now", "2029-01-15T03:00"])
    assert dry.exit_code == 0, dry.output
    assert "seraient anonymisés : 1" in dry.stdout and f"C-{closed}" in dry.stdout
    done = runner.invoke(build(), ["retention", "apply", "--now", "2029-01-15T03:00", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["cases"][0]["resident_erased"] is True
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM residents WHERE id = 'r-0003'")).scalar() == (
            ANONYMOUS_NAME
        )
    out = tmp_path / "r-0001.json"
    exported = runner.invoke(build(), ["resident", "export", "r-0001", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["resident"]["email"] == "jean.dupont@example.org"


def test_checkpoint_signed_before_retention_is_the_one_compared(
    engine: Engine, signer: Signer
) -> None:
    closed_in_november(engine)
    with session_scope(engine) as s:
        write_checkpoint(s, signer, now=at("2029-01-14 02:00"))
    with session_scope(engine) as s:
        apply_retention(s, now=at("2029-01-15 03:00"))

    with session_scope(engine, read_only=True) as s:
        assert verify_trail(s, public_key=load_public(signer.public_pem)).ok
