"""Moving running hygiene cases to version 2 (evaluations after 21 days instead of 30)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer
from conftest import at
from hygiene_walk import evaluate, hold_visit, report_breach, to_first_warning
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from models.cases import Case, Clock
from models.db import session_scope
from models.views import events_of
from notifications.letters import letter_for
from processes import engine as suivi_engine
from processes import hygiene, registry
from processes.audit import iter_breaks
from processes.errors import Forbidden
from processes.migration import MigrationRefused, migrate_cases
from suivi.commands import migrate as migrate_commands
from suivi.commands import process as process_commands


@pytest.fixture
def hygiene_v2() -> Iterator[None]:
    registry.register(hygiene.definition(version=2, evaluation_days=21))
    yield
    registry.unregister("hygiene", 2)


def pending(session: Session, case_id: int) -> dict[str, object]:
    clocks = session.scalars(
        select(Clock).where(Clock.case_id == case_id, Clock.status == "pending")
    ).all()
    return {c.name: c.due_at for c in clocks}


def two_warned_cases(session: Session) -> tuple[int, int]:
    """Jean Dupont: 1st warning on Monday 28 September 2026, 17:00.
    Fatima Benali: 1st warning on 21 September, 2nd warning on Friday 2 October, 15:00."""
    first = to_first_warning(session, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"],
                             version=1)
    second = to_first_warning(session, "r-0002", ["2026-09-07", "2026-09-14", "2026-09-21"],
                              version=1)
    second = evaluate(session, second, "2026-10-02 15:00")
    assert second.state == "warning_2"
    return first.id, second.id


def test_migration_recomputes_evaluation_dates_from_the_day_the_warning_began(
    engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(engine) as s:
        first, second = two_warned_cases(s)
        assert pending(s, first) == {
            "evaluation_due": at("2026-10-28 17:00"),
            "evaluation_escalation": at("2026-11-04 17:00"),
        }

    with session_scope(engine) as s:
        report = migrate_cases(s, "hygiene", 1, 2, {}, actor_id="dgls-1",
                               now=at("2026-10-06 09:00"))
        assert [(c.case_id, c.from_state, c.to_state) for c in report.cases] == [
            (first, "warning_1", "warning_1"), (second, "warning_2", "warning_2")]

    with session_scope(engine) as s:
        # 21 and 28 days after entering the state, Paris wall time kept across the DST change.
        assert pending(s, first) == {
            "evaluation_due": at("2026-10-19 17:00"),
            "evaluation_escalation": at("2026-10-26 17:00"),
        }
        assert pending(s, second) == {
            "evaluation_due": at("2026-10-23 15:00"),
            "evaluation_escalation": at("2026-10-30 15:00"),
        }
        for case_id in (first, second):
            case = s.get(Case, case_id)
            assert case is not None and case.process_version == 2
            last = events_of(s, case_id)[-1]
            assert (last.trigger, last.actor_id, last.role) == ("migrate", "dgls-1", "dgls")
            assert last.at == at("2026-10-06 09:00")
            assert last.payload["from_version"] == 1 and last.payload["to_version"] == 2
            assert last.payload["mapping"] == {}
        assert list(iter_breaks(s)) == []


def test_new_cases_open_on_v2_while_closed_v1_cases_keep_v1(
    engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(engine) as s:
        closed = report_breach(s, "r-0003", "2026-09-07", version=1)
        closed = hold_visit(s, closed, "2026-09-07", outcome="satisfactory")
        assert closed.state == "good_upkeep"
        to_first_warning(s, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"], version=1)
    with session_scope(engine) as s:
        report = migrate_cases(s, "hygiene", 1, 2, {}, actor_id="admin",
                               now=at("2026-10-06 09:00"))
        assert len(report.cases) == 1
    with session_scope(engine) as s:
        fresh = report_breach(s, "r-0002", "2026-10-07")
        assert fresh.process_version == 2
        kept = s.get(Case, closed.id)
        assert kept is not None and kept.process_version == 1
        assert events_of(s, closed.id)[-1].trigger == "record_visit"


def test_a_migrated_case_goes_on_under_the_new_rule(engine: Engine, hygiene_v2: None) -> None:
    with session_scope(engine) as s:
        first, _ = two_warned_cases(s)
        migrate_cases(s, "hygiene", 1, 2, {}, actor_id="dgls-1", now=at("2026-10-06 09:00"))
    with session_scope(engine) as s:
        case = s.get(Case, first)
        assert case is not None
        case = evaluate(s, case, "2026-10-16 11:00")
        assert (case.state, case.process_version) == ("warning_2", 2)
        assert pending(s, first)["evaluation_due"] == at("2026-11-06 11:00")


def test_mapping_to_a_state_that_does_not_exist_is_refused_listing_the_cases(
    engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(engine) as s:
        first, second = two_warned_cases(s)
    with session_scope(engine) as s, pytest.raises(MigrationRefused) as refused:
        migrate_cases(s, "hygiene", 1, 2, {"warning_1": "first_warning"}, actor_id="dgls-1",
                      now=at("2026-10-06 09:00"))
    assert [c.case_id for c in refused.value.report.refused] == [first]
    assert f"C-{first}" in refused.value.message
    assert "first_warning" in refused.value.message
    assert f"C-{second}" not in refused.value.message
    with session_scope(engine) as s:
        # Nothing moved, not even the case that could have.
        for case_id in (first, second):
            case = s.get(Case, case_id)
            assert case is not None and case.process_version == 1
            assert events_of(s, case_id)[-1].trigger != "migrate"
        assert pending(s, first)["evaluation_due"] == at("2026-10-28 17:00")


def test_dry_run_reports_the_new_dates_and_writes_nothing(
    engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(engine) as s:
        first, _ = two_warned_cases(s)
    with session_scope(engine) as s:
        report = migrate_cases(s, "hygiene", 1, 2, {}, actor_id="dgls-1",
                               now=at("2026-10-06 09:00"), dry_run=True)
        planned = {c.name: c.due_at for c in report.cases[0].created}
        assert planned == {"evaluation_due": at("2026-10-19 17:00"),
                           "evaluation_escalation": at("2026-10-26 17:00")}
    with session_scope(engine) as s:
        case = s.get(Case, first)
        assert case is not None and case.process_version == 1
        assert pending(s, first)["evaluation_due"] == at("2026-10-28 17:00")


def test_losing_an_escalation_must_be_said(engine: Engine) -> None:
    # Version 3 drops the escalation of the first warning's evaluation.
    v1 = hygiene.definition(version=3)
    states = tuple(
        st.model_copy(update={"clocks": tuple(c for c in st.clocks
                                              if c.name != "evaluation_escalation")})
        if st.id == "warning_1" else st
        for st in v1.states
    )
    registry.register(v1.model_copy(update={"states": states}))
    try:
        with session_scope(engine) as s:
            first, second = two_warned_cases(s)
        with session_scope(engine) as s, pytest.raises(MigrationRefused) as refused:
            migrate_cases(s, "hygiene", 1, 3, {}, actor_id="dgls-1", now=at("2026-10-06 09:00"))
        assert [c.case_id for c in refused.value.report.refused] == [first]
        assert "evaluation_escalation" in refused.value.message
        with session_scope(engine) as s:
            migrate_cases(s, "hygiene", 1, 3, {}, actor_id="dgls-1", now=at("2026-10-06 09:00"),
                          drop_clocks=["evaluation_escalation"])
        with session_scope(engine) as s:
            assert pending(s, first) == {"evaluation_due": at("2026-10-28 17:00")}
            assert events_of(s, first)[-1].payload["dropped"] == ["evaluation_escalation"]
            assert events_of(s, second)[-1].payload["dropped"] == []
    finally:
        registry.unregister("hygiene", 3)


def test_only_the_direction_or_an_admin_migrates(engine: Engine, hygiene_v2: None) -> None:
    with session_scope(engine) as s, pytest.raises(Forbidden):
        migrate_cases(s, "hygiene", 1, 2, {}, actor_id="rgls-sud", now=at("2026-10-06 09:00"))


def test_a_clock_already_fired_in_the_state_does_not_fire_again(
    engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(engine) as s:
        first, _ = two_warned_cases(s)
    # The sweep sent the v1 evaluation reminder on 28 October; the rule changes after that.
    with session_scope(engine) as s:
        due = s.scalars(select(Clock).where(
            Clock.case_id == first, Clock.name == "evaluation_due", Clock.status == "pending"
        )).one()
        suivi_engine.fire_clock(s, due, at("2026-10-28 17:00"))
    with session_scope(engine) as s:
        report = migrate_cases(s, "hygiene", 1, 2, {}, actor_id="dgls-1",
                               now=at("2026-10-29 09:00"))
        assert [c.name for c in report.cases[0].created] == ["evaluation_escalation"]
    with session_scope(engine) as s:
        # 28 days after 28 September is already past: the escalation is due at once.
        assert pending(s, first) == {"evaluation_escalation": at("2026-10-26 17:00")}


def command_line() -> typer.Typer:
    app = typer.Typer()
    for module in (process_commands, migrate_commands):
        module.register(app)
    return app


def test_command_line_dry_run_then_migration_then_a_refused_mapping(
    sqlite_engine: Engine, hygiene_v2: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    with session_scope(sqlite_engine) as s:
        first, second = two_warned_cases(s)
    app, runner = command_line(), CliRunner()
    base = ["process", "migrate", "hygiene", "--from", "1", "--to", "2", "--actor", "dgls-1",
            "--now", "2026-10-06T09:00"]

    bad = runner.invoke(app, [*base, "--map", "warning_1=first_warning", "--json"])
    assert bad.exit_code == 2
    refusal = json.loads(bad.stdout)
    assert [c["case"] for c in refusal["cases"]] == [first]
    assert "first_warning" in refusal["message"]

    dry = runner.invoke(app, [*base, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and planned["migrated"] == 0
    assert planned["cases"][0]["created"][0]["due_at"] == at("2026-10-19 17:00").isoformat()

    done = runner.invoke(app, base)
    assert done.exit_code == 0, done.output
    assert "2 dossier(s) en cours migré(s)" in done.stdout
    with session_scope(sqlite_engine) as s:
        assert {s.get(Case, i).process_version for i in (first, second)} == {2}  # type: ignore[union-attr]


def test_a_warning_letter_after_migration_gives_the_new_evaluation_date(
    sqlite_engine: Engine, hygiene_v2: None
) -> None:
    with session_scope(sqlite_engine) as s:
        first, _ = two_warned_cases(s)
        migrate_cases(s, "hygiene", 1, 2, {}, actor_id="dgls-1", now=at("2026-10-06 09:00"))
    with session_scope(sqlite_engine) as s:
        html = letter_for(s, first, "hygiene_warning_1", now=at("2026-10-06 10:00")).html
    words = " ".join(html.split())
    assert "à compter du 28 septembre 2026" in words
    assert "au plus tard le 19 octobre 2026" in words
