"""A resident's page: every case, open and closed, with what is due next on each."""

from __future__ import annotations

import json

import pytest
import typer
from conftest import at
from hygiene_walk import hold_visit, report_breach, to_first_warning
from sqlalchemy import Engine
from stand_in_processes import VERSION, stand_in_versions
from typer.testing import CliRunner

from models.db import session_scope
from models.residents_view import resident_view
from processes import engine as suivi_engine
from suivi.commands import resident as resident_commands


def jean_dupont_history(session_engine: Engine) -> tuple[int, int]:
    """March 2026: a breach, settled at the first visit. September: a new one, first warning
    on Monday 28 September 2026 at 17:00."""
    with session_scope(session_engine) as s:
        settled = report_breach(s, "r-0001", "2026-03-02")
        settled = hold_visit(s, settled, "2026-03-09", outcome="satisfactory")
        assert settled.state == "good_upkeep"
        warned = to_first_warning(s, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"])
        report_breach(s, "r-0003", "2026-09-14")  # someone else's case
        return settled.id, warned.id


def test_resident_page_lists_open_then_closed_cases_with_their_next_deadline(
    engine: Engine,
) -> None:
    settled, warned = jean_dupont_history(engine)
    with session_scope(engine) as s:
        view = resident_view(s, "r-0001", resident_commands.labels)
    assert view is not None
    assert (view.name, view.dwelling_label, view.site) == ("Jean Dupont", "Logement 214", "viala")
    assert [c.id for c in view.cases] == [warned, settled]

    current, old = view.cases
    assert (current.process, current.state, current.state_label) == (
        "hygiene", "warning_1", "1er avertissement")
    assert current.process_label == "Amélioration de l'entretien du logement"
    assert not current.closed and current.closed_at is None
    assert current.opened_at == at("2026-09-14 09:00")
    assert current.next_clock is not None
    assert (current.next_clock.name, current.next_clock.due_at) == (
        "evaluation_due", at("2026-10-28 17:00"))

    assert (old.state_label, old.closed) == ("Bonne tenue du logement", True)
    assert old.opened_at == at("2026-03-02 09:00")
    assert old.closed_at == at("2026-03-09 17:00")
    assert old.next_clock is None


def test_a_resident_without_cases_and_an_unknown_one(engine: Engine) -> None:
    with session_scope(engine) as s:
        view = resident_view(s, "r-0002", resident_commands.labels)
        assert view is not None and view.cases == []
        assert resident_view(s, "r-9999", resident_commands.labels) is None


def test_command_line_shows_the_resident_as_json_and_refuses_an_unknown_one(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    settled, warned = jean_dupont_history(sqlite_engine)
    app = typer.Typer()
    resident_commands.register(app)
    runner = CliRunner()

    shown = runner.invoke(app, ["resident", "show", "r-0001", "--json"])
    assert shown.exit_code == 0, shown.output
    page = json.loads(shown.stdout)
    assert [(c["reference"], c["state_label"], c["closed"]) for c in page["cases"]] == [
        (f"C-{warned}", "1er avertissement", False),
        (f"C-{settled}", "Bonne tenue du logement", True),
    ]
    assert page["cases"][0]["next_clock"]["due_at"].startswith("2026-10-28T16:00")

    table = runner.invoke(app, ["resident", "show", "r-0001"])
    assert table.exit_code == 0 and "Jean Dupont" in table.stdout

    unknown = runner.invoke(app, ["resident", "show", "r-9999"])
    assert unknown.exit_code == 2 and "résident inconnu" in unknown.stderr


def test_cases_of_every_process_side_by_side(sqlite_engine: Engine) -> None:
    """Pierre Moreau: a hygiene report, unpaid rent and an expired insurance certificate at
    once (stand-in arrears and insurance versions until the real processes land)."""
    with stand_in_versions(), session_scope(sqlite_engine) as s:
        hygiene = report_breach(s, "r-0003", "2026-10-05")
        arrears = suivi_engine.open_case(
            s, "arrears", resident_id="r-0003", actor_id="gs-chartreux",
            payload={"balance": "820"}, now=at("2026-10-01 09:00"), version=VERSION)
        suivi_engine.fire(s, arrears.id, "send_formal_notice", payload={}, actor_id="rgls-sud",
                          now=at("2026-10-15 09:00"))
        insurance = suivi_engine.open_case(
            s, "insurance", resident_id="r-0003", actor_id="gs-chartreux",
            payload={}, now=at("2026-09-01 09:00"), version=VERSION)
        view = resident_view(s, "r-0003", resident_commands.labels)
    assert view is not None
    assert [(c.id, c.process, c.state_label) for c in view.cases] == [
        (insurance.id, "insurance", "Constaté"),
        (arrears.id, "arrears", "Mise en demeure"),
        (hygiene.id, "hygiene", "Manquement à l'hygiène constaté"),
    ]
    due = {c.process: c.next_clock.due_at if c.next_clock else None for c in view.cases}
    assert due == {
        "insurance": None,
        "arrears": at("2026-11-15 09:00"),
        # 5 working days after Monday 5 October 2026, 09:00.
        "hygiene": at("2026-10-12 09:00"),
    }


def test_real_arrears_and_insurance_cases_on_the_resident_page(sqlite_engine: Engine) -> None:
    pytest.importorskip("processes.arrears")
    pytest.importorskip("processes.insurance")
    with session_scope(sqlite_engine) as s:
        report_breach(s, "r-0001", "2026-10-05")
        suivi_engine.open_case(
            s, "arrears", resident_id="r-0001", actor_id="gs-viala",
            payload={"monthly_amount": "410", "unpaid_months": ["2026-09"]},
            now=at("2026-10-01 09:00"))
        suivi_engine.open_case(
            s, "insurance", resident_id="r-0001", actor_id="gs-viala",
            payload={"valid_until": "2026-10-31"}, now=at("2026-10-02 09:00"))
        view = resident_view(s, "r-0001", resident_commands.labels)
    assert view is not None
    assert [(c.process, c.state, c.closed) for c in view.cases] == [
        ("arrears", "detected", False), ("insurance", "expiring", False),
        ("hygiene", "reported", False),
    ]
    assert all(c.state_label and c.process_label for c in view.cases)
    assert all(c.next_clock is not None for c in view.cases)
