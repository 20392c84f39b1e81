"""Every way the hygiene process says no: the message names the case, its state and what is
allowed there, and the database is left exactly as it was (case version, events, clocks,
notifications)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import at
from helpers import DGLS, GS, REPORTED, RGLS, report, schedule, walk_to, writes_nothing
from sqlalchemy import Engine

from models.db import session_scope
from processes import engine as wf
from processes.errors import Conflict, Forbidden, InvalidPayload, NotFound, Refusal


def case_in(engine: Engine, state: str, resident: str = "r-0001") -> int:
    with session_scope(engine) as s:
        return walk_to(s, state, resident=resident).id


def refused(
    engine: Engine,
    case_id: int,
    trigger: str,
    *,
    actor: str,
    now: str,
    payload: dict[str, Any] | None = None,
    expected: type[Refusal] = Refusal,
    expected_version: int | None = None,
) -> Refusal:
    """Fire in a unit of work of its own; assert it is refused and changed nothing."""
    with (
        writes_nothing(engine, case_id),
        pytest.raises(expected) as info,
        session_scope(engine) as s,
    ):
        wf.fire(
            s, case_id, trigger, actor_id=actor, now=at(now), payload=payload or {},
            expected_version=expected_version,
        )
    return info.value


# --- Wrong state -----------------------------------------------------------------------------


def test_recording_a_visit_on_a_case_just_reported_names_the_state_and_what_is_allowed(
    engine: Engine,
) -> None:
    case_id = case_in(engine, "reported")

    error = refused(
        engine, case_id, "record_visit", actor=GS, now="2026-11-03 10:00",
        payload={"held_at": "2026-11-03T09:00", "outcome": "satisfactory"},
    )

    assert type(error) is Refusal
    assert (error.case_id, error.state, error.allowed) == (case_id, "reported", ["schedule_visit"])
    assert str(error) == (
        f"dossier C-{case_id} (état « Manquement à l'hygiène constaté ») : « Enregistrer la "
        "visite » (record_visit) n'est pas possible dans cet état. Déclencheurs permis ici : "
        "Planifier la visite (schedule_visit)"
    )


def test_the_rgls_is_told_every_trigger_it_may_use_in_the_state(engine: Engine) -> None:
    case_id = case_in(engine, "warning_1")

    error = refused(
        engine, case_id, "schedule_visit", actor=RGLS, now="2026-11-24 10:00",
        payload={"visit_at": "2026-11-30T10:00"},
    )

    # A warning state cannot be left without an evaluation.
    assert error.state == "warning_1"
    assert error.allowed == ["record_evaluation", "refer_partner", "withdraw"]
    assert (
        "Enregistrer l'évaluation (record_evaluation), Orienter vers un partenaire "
        "(refer_partner), Clôturer sans suite (withdraw)"
    ) in str(error)


def test_a_termination_decided_before_the_review_is_refused(engine: Engine) -> None:
    case_id = case_in(engine, "warning_2")

    error = refused(
        engine, case_id, "decide_termination", actor=DGLS, now="2026-12-24 10:00",
        payload={"decided_at": "2026-12-24T10:00", "grounds": "Trop tôt"},
    )

    assert error.state == "warning_2"
    assert error.allowed == ["withdraw"]


def test_an_unknown_trigger_is_refused_by_name(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")

    error = refused(engine, case_id, "evict", actor=RGLS, now="2026-11-09 12:00")

    assert "déclencheur inconnu « evict »" in str(error)
    assert error.allowed == ["record_visit", "schedule_visit", "withdraw"]


# --- Wrong role, wrong site --------------------------------------------------------------------


@pytest.mark.parametrize("actor", [GS, RGLS, "admin"])
def test_only_the_direction_terminates(engine: Engine, actor: str) -> None:
    case_id = case_in(engine, "termination_review")

    error = refused(
        engine, case_id, "decide_termination", actor=actor, now="2027-01-25 10:00",
        payload={"decided_at": "2027-01-25T10:00", "grounds": "Aucune amélioration"},
        expected=Forbidden,
    )

    role = actor.split("-")[0]  # gs-viala → gs; admin → admin
    assert f"le rôle « {role} » ({actor}) ne peut pas déclencher « decide_termination »" in str(
        error
    )
    assert "rôles permis : dgls" in str(error)
    assert error.state == "termination_review"


def test_a_site_manager_cannot_record_an_evaluation(engine: Engine) -> None:
    case_id = case_in(engine, "warning_1")

    error = refused(
        engine, case_id, "record_evaluation", actor=GS, now="2026-12-01 10:00",
        payload={"held_at": "2026-12-01T10:00", "outcome": "satisfactory"}, expected=Forbidden,
    )

    assert error.allowed == ["refer_partner"]
    assert "rôles permis : rgls" in str(error)


def test_a_maintenance_agent_reports_but_does_not_plan_visits(engine: Engine) -> None:
    case_id = case_in(engine, "reported")

    refused(
        engine, case_id, "schedule_visit", actor="agent-viala", now="2026-11-03 10:00",
        payload={"visit_at": "2026-11-09T10:00"}, expected=Forbidden,
    )


def test_a_site_manager_of_another_residence_cannot_act_on_the_case(engine: Engine) -> None:
    case_id = case_in(engine, "reported")

    error = refused(
        engine, case_id, "schedule_visit", actor="gs-chartreux", now="2026-11-03 10:00",
        payload={"visit_at": "2026-11-09T10:00"}, expected=Forbidden,
    )

    assert f"dossier C-{case_id}" in str(error)
    assert "gs-chartreux n'intervient pas sur le site « viala »" in str(error)


def test_a_site_manager_cannot_report_a_breach_in_another_residence(engine: Engine) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(Forbidden, match="« viala »"),
        session_scope(engine) as s,
    ):
        report(s, REPORTED, actor="gs-chartreux")


@pytest.mark.parametrize("actor", ["bailleur-13h", "juriste-cada"])
def test_people_outside_the_process_cannot_report_a_breach(engine: Engine, actor: str) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(Forbidden, match="rôles permis"),
        session_scope(engine) as s,
    ):
        report(s, REPORTED, actor=actor)


def test_an_unknown_person_is_refused(engine: Engine) -> None:
    case_id = case_in(engine, "reported")

    error = refused(
        engine, case_id, "schedule_visit", actor="gs-inconnu", now="2026-11-03 10:00",
        payload={"visit_at": "2026-11-09T10:00"}, expected=NotFound,
    )

    assert "« gs-inconnu »" in str(error)


# --- Bad payloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"mode": "home"}, "visit_at : champ obligatoire manquant"),
        ({"visit_at": "lundi prochain"}, "visit_at : date-heure invalide"),
        ({"visit_at": "2026-11-09T10:00", "mode": "phone"}, "valeur non permise « phone »"),
        ({"visit_at": "2026-11-09T10:00", "colour": "blue"}, "colour : champ inconnu"),
    ],
)
def test_a_visit_planned_with_bad_data_is_refused_with_the_field_named(
    engine: Engine, payload: dict[str, Any], says: str
) -> None:
    case_id = case_in(engine, "reported")

    error = refused(
        engine, case_id, "schedule_visit", actor=GS, now="2026-11-03 10:00", payload=payload,
        expected=InvalidPayload,
    )

    assert says in str(error)
    assert "données invalides pour « schedule_visit »" in str(error)
    assert (error.case_id, error.state) == (case_id, "reported")


def test_a_visit_outcome_must_be_satisfactory_or_unsatisfactory(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")

    error = refused(
        engine, case_id, "record_visit", actor=GS, now="2026-11-09 17:00",
        payload={"held_at": "2026-11-09T10:00", "outcome": "moyen"}, expected=InvalidPayload,
    )

    assert "outcome : valeur non permise « moyen »" in str(error)


def test_a_report_without_description_is_refused(engine: Engine) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(InvalidPayload, match="description"),
        session_scope(engine) as s,
    ):
        wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id=GS,
            payload={"observed_at": "2026-11-02T08:30"}, now=at(REPORTED),
        )


def test_a_breach_cannot_be_observed_in_the_future(engine: Engine) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(Refusal, match="le constat ne peut pas"),
        session_scope(engine) as s,
    ):
        wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id=GS,
            payload={"observed_at": "2026-11-02T10:00", "description": "Odeurs"},
            now=at("2026-11-02 09:00"),
        )


def test_a_breach_for_an_unknown_resident_is_refused(engine: Engine) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(NotFound, match="r-9999"),
        session_scope(engine) as s,
    ):
        report(s, REPORTED, resident="r-9999")


@pytest.mark.parametrize(
    ("dwelling", "message"),
    [
        ("chartreux-12", "le logement « chartreux-12 » n'est pas celui du résident r-0001"),
        ("ghost", "logement inconnu : « ghost »"),
    ],
)
def test_a_breach_on_another_or_an_unknown_dwelling_is_refused(
    engine: Engine, dwelling: str, message: str
) -> None:
    with (
        writes_nothing(engine, None),
        pytest.raises(InvalidPayload, match=message),
        session_scope(engine) as s,
    ):
        wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id=RGLS, now=at(REPORTED),
            payload={"observed_at": "2026-11-02T08:30", "description": "Déchets",
                     "dwelling": dwelling},
        )


# --- Dates of visits ------------------------------------------------------------------------------


def test_a_visit_cannot_be_planned_in_the_past(engine: Engine) -> None:
    case_id = case_in(engine, "reported")

    error = refused(
        engine, case_id, "schedule_visit", actor=GS, now="2026-11-04 14:00",
        payload={"visit_at": "2026-11-04T10:00"},
    )

    assert "la visite ne peut pas être planifiée dans le passé (04/11/2026 10:00)" in str(error)


def test_a_visit_cannot_have_been_held_before_it_was_planned(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = report(s, REPORTED).id
        # Planned on Wednesday 4 November at 14:00 for Monday 9 November.
        schedule(s, case_id, "2026-11-04 14:00", "2026-11-09 10:00")

    error = refused(
        engine, case_id, "record_visit", actor=GS, now="2026-11-09 17:00",
        payload={"held_at": "2026-11-04T11:00", "outcome": "unsatisfactory"},
    )

    assert "avant d'avoir été planifiée (04/11/2026 14:00)" in str(error)
    assert error.state == "visit_1"


def test_a_visit_cannot_be_recorded_as_held_in_the_future(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")

    error = refused(
        engine, case_id, "record_visit", actor=GS, now="2026-11-09 09:00",
        payload={"held_at": "2026-11-09T10:00", "outcome": "satisfactory"},
    )

    assert "ne peut pas être enregistrée dans le futur (09/11/2026 10:00)" in str(error)


def test_recording_a_second_visit_that_was_never_planned_is_refused(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = walk_to(s, "visit_1")
        case = wf.fire(
            s, case.id, "record_visit", actor_id=GS, now=at("2026-11-09 17:00"),
            payload={"held_at": "2026-11-09T10:00", "outcome": "unsatisfactory"},
        )
        assert case.state == "visit_2"
        case_id = case.id

    error = refused(
        engine, case_id, "record_visit", actor=GS, now="2026-11-16 17:00",
        payload={"held_at": "2026-11-16T10:00", "outcome": "satisfactory"},
    )

    assert "aucune visite n'est planifiée : planifiez-la d'abord (schedule_visit)" in str(error)
    assert error.state == "visit_2"


def test_a_decision_cannot_be_dated_in_the_future(engine: Engine) -> None:
    case_id = case_in(engine, "termination_review")

    error = refused(
        engine, case_id, "decide_termination", actor=DGLS, now="2027-01-25 10:00",
        payload={"decided_at": "2027-01-26T10:00", "grounds": "Aucune amélioration"},
    )

    assert "la décision ne peut pas être dans le futur" in str(error)


# --- Closed, unknown, stale --------------------------------------------------------------------


def test_nothing_can_be_fired_on_a_closed_case(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")
    with session_scope(engine) as s:
        wf.fire(
            s, case_id, "withdraw", actor_id=RGLS, now=at("2026-11-09 09:00"),
            payload={"reason": "Départ du résident"},
        )

    error = refused(
        engine, case_id, "schedule_visit", actor=RGLS, now="2026-11-10 09:00",
        payload={"visit_at": "2026-11-12T10:00"},
    )

    assert str(error) == (
        f"dossier C-{case_id} (état « Clôturé sans suite ») : le dossier est clos. "
        "Déclencheurs permis ici : aucun"
    )


def test_an_unknown_case_is_refused(engine: Engine) -> None:
    case_in(engine, "reported")

    error = refused(
        engine, 999_999, "withdraw", actor=RGLS, now="2026-11-10 09:00",
        payload={"reason": "?"}, expected=NotFound,
    )

    assert str(error) == "dossier inconnu : C-999999"


def test_a_stale_version_is_a_conflict_that_writes_nothing(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = walk_to(s, "reported")
        case_id, stale = case.id, case.version
        schedule(s, case_id, "2026-11-03 10:00", "2026-11-09 10:00")

    error = refused(
        engine, case_id, "withdraw", actor=RGLS, now="2026-11-04 10:00",
        payload={"reason": "Doublon"}, expected=Conflict, expected_version=stale,
    )

    assert f"version {stale} attendue" in str(error)
    assert error.case_id == case_id


def test_nothing_is_recorded_before_the_last_event_of_the_case(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")  # reported 2 November, visit planned since

    error = refused(
        engine, case_id, "schedule_visit", actor=GS, now="2026-10-01 10:00",
        payload={"visit_at": "2026-10-05T10:00", "mode": "home"},
    )

    assert "précède le dernier événement du dossier" in str(error)
    assert error.state == "visit_1"
    assert "schedule_visit" in error.allowed


def test_a_stale_version_names_what_is_allowed_in_the_state(engine: Engine) -> None:
    case_id = case_in(engine, "visit_1")

    error = refused(
        engine, case_id, "schedule_visit", actor=GS, now="2026-11-30 10:00",
        payload={"visit_at": "2026-12-03T10:00", "mode": "home"},
        expected=Conflict, expected_version=99,
    )

    assert "record_visit" in error.allowed
