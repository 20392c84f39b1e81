"""Every transition of the hygiene process (shared/processes/hygiene.md), on both databases:
the stored state, the history line (seq, trigger, from, to, actor, role) and the case data."""

from __future__ import annotations

import pytest
from conftest import at
from helpers import (
    DGLS,
    GS,
    REPORTED,
    RGLS,
    VISIT_DAYS,
    evaluate,
    history,
    record,
    report,
    schedule,
    walk_to,
)
from sqlalchemy.orm import Session

from processes import engine as wf
from processes.audit import iter_breaks
from processes.calendar import parse_moment
from processes.hygiene import OPEN_STATES


@pytest.mark.parametrize(
    ("actor", "role"), [("agent-viala", "agent"), ("gs-viala", "gs"), ("rgls-sud", "rgls")]
)
def test_an_agent_a_site_manager_or_the_rgls_reports_a_breach_on_monday_2_november(
    session: Session, actor: str, role: str
) -> None:
    case = report(session, REPORTED, actor=actor)

    assert (case.process, case.process_version, case.state) == ("hygiene", 1, "reported")
    assert (case.site_id, case.dwelling_id, case.resident_id) == ("viala", "viala-214", "r-0001")
    assert case.opened_at == case.state_entered_at == at("2026-11-02 09:00")
    assert case.closed_at is None
    assert case.data == {"observed_at": "2026-11-02T08:00:00+00:00", "visits": []}
    assert history(session, case.id) == [(1, "open", None, "reported", actor, role)]


def test_planning_the_first_visit_for_monday_9_november_moves_the_case_to_visit_1(
    session: Session,
) -> None:
    case = report(session, REPORTED)
    case = schedule(session, case.id, "2026-11-04 14:00", "2026-11-09 10:00", mode="office")

    assert case.state == "visit_1"
    assert case.state_entered_at == at("2026-11-04 14:00")
    assert case.data["visit_number"] == 1
    assert case.data["visit_at"] == "2026-11-09T09:00:00+00:00"
    assert case.data["visit_mode"] == "office"
    assert case.data["visit_planned_by"] == GS
    assert case.data["visit_planned_at"] == "2026-11-04T13:00:00+00:00"
    assert history(session, case.id)[-1] == (2, "schedule_visit", "reported", "visit_1", GS, "gs")


@pytest.mark.parametrize("visit", ["visit_1", "visit_2", "visit_3"])
def test_a_no_show_re_plans_the_current_visit_and_keeps_the_history(
    session: Session, visit: str
) -> None:
    case = walk_to(session, visit)
    day = VISIT_DAYS[int(visit[-1]) - 1]
    entered = case.state_entered_at
    before = history(session, case.id)

    # The resident did not open the door at 10:00: the rgls re-plans for two days later.
    case = schedule(session, case.id, f"{day} 11:00", "2026-12-01 14:00", actor=RGLS)

    assert case.state == visit
    assert case.state_entered_at == entered, "re-planning does not re-enter the state"
    assert case.data["visit_at"] == "2026-12-01T13:00:00+00:00"
    assert case.data["visit_planned_by"] == RGLS
    assert case.data["visit_number"] == int(visit[-1])
    assert len(case.data["visits"]) == int(visit[-1]) - 1
    after = history(session, case.id)
    assert after[:-1] == before
    assert after[-1] == (len(before) + 1, "schedule_visit", visit, visit, RGLS, "rgls")


@pytest.mark.parametrize(
    ("visit", "following"),
    [("visit_1", "visit_2"), ("visit_2", "visit_3"), ("visit_3", "warning_1")],
)
def test_an_unsatisfactory_visit_leads_to_the_next_step(
    session: Session, visit: str, following: str
) -> None:
    case = walk_to(session, visit)
    number = int(visit[-1])
    day = VISIT_DAYS[number - 1]

    case = record(session, case.id, f"{day} 17:00", f"{day} 10:00", actor=RGLS)

    assert case.state == following
    assert case.state_entered_at == at(f"{day} 17:00")
    assert case.closed_at is None
    held = case.data["visits"][-1]
    assert held["number"] == number
    assert held["outcome"] == "unsatisfactory"
    assert parse_moment(held["held_at"]) == at(f"{day} 10:00")
    assert parse_moment(held["planned_for"]) == at(f"{day} 10:00")
    assert held["recorded_by"] == RGLS
    assert held["obstacles"] == "Isolement"
    assert len(case.data["visits"]) == number
    assert "visit_at" not in case.data and "visit_planned_by" not in case.data
    seq, *rest = history(session, case.id)[-1]
    assert rest == ["record_visit", visit, following, RGLS, "rgls"]


@pytest.mark.parametrize("visit", ["visit_1", "visit_2", "visit_3"])
def test_a_satisfactory_visit_closes_the_case_as_good_upkeep(session: Session, visit: str) -> None:
    case = walk_to(session, visit)
    day = VISIT_DAYS[int(visit[-1]) - 1]

    case = record(session, case.id, f"{day} 12:00", f"{day} 10:00", "satisfactory")

    assert case.state == "good_upkeep"
    assert case.closed_at == at(f"{day} 12:00")
    assert case.data["visits"][-1]["outcome"] == "satisfactory"
    assert history(session, case.id)[-1][1:] == ("record_visit", visit, "good_upkeep", GS, "gs")


@pytest.mark.parametrize(
    ("warning", "outcome", "following"),
    [
        ("warning_1", "satisfactory", "good_upkeep"),
        ("warning_1", "unsatisfactory", "warning_2"),
        ("warning_2", "satisfactory", "good_upkeep"),
        ("warning_2", "unsatisfactory", "termination_review"),
    ],
)
def test_the_rgls_evaluation_after_a_warning_closes_or_escalates(
    session: Session, warning: str, outcome: str, following: str
) -> None:
    case = walk_to(session, warning)
    before = len(history(session, case.id))

    case = evaluate(session, case.id, "2027-02-15 11:00", outcome)

    assert case.state == following
    assert (case.closed_at is not None) == (following == "good_upkeep")
    evaluation = case.data["evaluations"][-1]
    assert evaluation["warning"] == warning
    assert evaluation["outcome"] == outcome
    assert evaluation["recorded_by"] == RGLS
    assert parse_moment(evaluation["held_at"]) == at("2027-02-15 11:00")
    assert history(session, case.id)[-1] == (
        before + 1, "record_evaluation", warning, following, RGLS, "rgls"
    )


def test_the_direction_decides_termination_on_monday_1_february_2027(session: Session) -> None:
    case = walk_to(session, "termination_review")

    case = wf.fire(
        session, case.id, "decide_termination", actor_id=DGLS, now=at("2027-02-01 15:00"),
        payload={"decided_at": "2027-02-01T14:30", "grounds": "Aucune amélioration"},
    )

    assert case.state == "terminated"
    assert case.closed_at == at("2027-02-01 15:00")
    decision = case.data["decisions"][-1]
    assert decision["trigger"] == "decide_termination"
    assert decision["by"] == DGLS
    assert decision["grounds"] == "Aucune amélioration"
    assert history(session, case.id)[-1][1:] == (
        "decide_termination", "termination_review", "terminated", DGLS, "dgls"
    )


def test_the_direction_maintains_the_resident_and_a_new_evaluation_follows(
    session: Session,
) -> None:
    case = walk_to(session, "termination_review")

    case = wf.fire(
        session, case.id, "maintain", actor_id="dgls-2", now=at("2027-02-01 15:00"),
        payload={"decided_at": "2027-02-01T14:30", "reason": "Suivi CCAS engagé"},
    )

    assert case.state == "warning_2"
    assert case.state_entered_at == at("2027-02-01 15:00")
    assert case.closed_at is None
    assert case.data["decisions"][-1]["reason"] == "Suivi CCAS engagé"
    assert history(session, case.id)[-1][1:] == (
        "maintain", "termination_review", "warning_2", "dgls-2", "dgls"
    )
    # The case can be evaluated again, and the second chance can succeed.
    case = evaluate(session, case.id, "2027-03-01 10:00", "satisfactory")
    assert case.state == "good_upkeep"


@pytest.mark.parametrize("state", ["visit_2", "visit_3", "warning_1", "warning_2"])
def test_a_referral_to_a_partner_keeps_the_case_where_it_is(session: Session, state: str) -> None:
    case = walk_to(session, state)
    entered = case.state_entered_at
    before = len(history(session, case.id))

    case = wf.fire(
        session, case.id, "refer_partner", actor_id=GS, now=at("2027-01-05 10:00"),
        payload={"partner": "ccas", "reason": "Aide ménagère"},
    )

    assert case.state == state
    assert case.state_entered_at == entered
    assert case.data["referrals"] == [
        {"partner": "ccas", "reason": "Aide ménagère", "at": at("2027-01-05 10:00").isoformat(),
         "by": GS}
    ]
    assert history(session, case.id)[-1] == (before + 1, "refer_partner", state, state, GS, "gs")


@pytest.mark.parametrize(
    ("state", "actor"),
    # The rgls and the direction take turns: each may withdraw from every open state.
    [(state, (RGLS, DGLS)[i % 2]) for i, state in enumerate(OPEN_STATES)]
    + [("reported", DGLS), ("termination_review", DGLS)],
)
def test_a_case_is_withdrawn_from_any_open_state(session: Session, state: str, actor: str) -> None:
    case = walk_to(session, state)

    case = wf.fire(
        session, case.id, "withdraw", actor_id=actor, now=at("2027-02-10 09:00"),
        payload={"reason": "Le résident a quitté le logement"},
    )

    assert case.state == "withdrawn"
    assert case.closed_at == at("2027-02-10 09:00")
    assert history(session, case.id)[-1][1:] == (
        "withdraw", state, "withdrawn", actor, actor.split("-")[0]
    )


def test_the_whole_path_to_termination_reads_as_the_paper_diagram(session: Session) -> None:
    case = walk_to(session, "termination_review")
    wf.fire(
        session, case.id, "decide_termination", actor_id=DGLS, now=at("2027-02-01 15:00"),
        payload={"decided_at": "2027-02-01T15:00", "grounds": "Aucune amélioration"},
    )

    assert history(session, case.id) == [
        (1, "open", None, "reported", GS, "gs"),
        (2, "schedule_visit", "reported", "visit_1", GS, "gs"),
        (3, "record_visit", "visit_1", "visit_2", GS, "gs"),
        (4, "schedule_visit", "visit_2", "visit_2", GS, "gs"),
        (5, "record_visit", "visit_2", "visit_3", GS, "gs"),
        (6, "schedule_visit", "visit_3", "visit_3", GS, "gs"),
        (7, "record_visit", "visit_3", "warning_1", GS, "gs"),
        (8, "record_evaluation", "warning_1", "warning_2", RGLS, "rgls"),
        (9, "record_evaluation", "warning_2", "termination_review", RGLS, "rgls"),
        (10, "decide_termination", "termination_review", "terminated", DGLS, "dgls"),
    ]
    assert [v["number"] for v in case.data["visits"]] == [1, 2, 3]
    assert [e["warning"] for e in case.data["evaluations"]] == ["warning_1", "warning_2"]
    assert case.state_entered_at == at("2027-02-01 15:00")
    assert list(iter_breaks(session, case.id)) == []
