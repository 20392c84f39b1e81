"""Leaving the CADA (asylum.md; CESEDA R552-13): 3 months for a protected household,
renewable once; 1 month after a final rejection; exit decisions are the head's. And the
9-month window to reopen a claim OFPRA closed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from test_asylum_walk import (
    HEAD,
    JURISTE,
    SOCIAL_WORKER,
    due,
    fire,
    open_claim,
    paris,
    pending,
    protected,
    rejected,
)

from processes.errors import Forbidden, Refusal


def test_a_protected_household_may_stay_3_months(session: Session) -> None:
    case = protected(session, notified="2027-05-31")
    assert case.state == "protected"
    assert due(case, "stay") == date(2027, 8, 31)
    assert "3 mois (CESEDA R552-13)" in case.data["stay_rule"]
    assert case.data["stay_rule"].endswith("[règles asylum-2026-07, stay_protected]")
    clocks = pending(session, case)
    # 30 days before is Sunday 1 August: the reminder comes on Friday 30 July.
    assert paris(clocks["stay_reminder_30"]) == "2027-07-30 08:00"
    assert paris(clocks["stay_reminder_7"]) == "2027-08-24 08:00"
    assert paris(clocks["stay_escalation"]) == "2027-09-01 08:00"
    assert clocks["stay_escalation"].recipients == ["cada_manager"]


def test_the_head_extends_the_stay_once_and_refuses_a_second_time(session: Session) -> None:
    case = protected(session, notified="2027-05-31")
    with pytest.raises(Forbidden, match="rôles permis : cada_manager"):
        fire(
            session,
            case,
            "extend_stay",
            JURISTE,
            "2027-08-20 10:00",
            granted_at="2027-08-20",
            ofii_agreed_at="2027-08-19",
        )
    fire(
        session,
        case,
        "extend_stay",
        HEAD,
        "2027-08-20 10:00",
        granted_at="2027-08-20",
        ofii_agreed_at="2027-08-19",
    )
    assert case.state == "protected"
    assert due(case, "stay") == date(2027, 11, 30)  # 31 August + 3 months
    assert "stay_protected_extension]" in case.data["stay_rule"]
    assert paris(pending(session, case)["stay_reminder_7"]) == "2027-11-23 08:00"
    with pytest.raises(Refusal) as refused:
        fire(
            session,
            case,
            "extend_stay",
            HEAD,
            "2027-11-20 10:00",
            granted_at="2027-11-20",
            ofii_agreed_at="2027-11-19",
        )
    message = str(refused.value)
    assert message.startswith(
        f"dossier C-{case.id} (état « Protection accordée (réfugié ou protection subsidiaire) »)"
        " : le maintien a déjà"
    )
    assert "une seule prolongation de 3 mois est possible (CESEDA R552-13)" in message
    assert message.endswith(
        "Déclencheurs permis ici : Prolonger le maintien (3 mois, une fois, accord de l'OFII) "
        "(extend_stay), Planifier la sortie (plan_exit), Enregistrer la fin de prise en charge "
        "(OFII) (record_end_of_care), Clôturer le dossier (withdraw)"
    )
    assert due(case, "stay") == date(2027, 11, 30)


def test_a_final_rejection_leaves_one_month(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    fire(
        session,
        case,
        "record_cnda_decision",
        SOCIAL_WORKER,
        "2028-01-31 18:00",
        notified_at="2028-01-31",
        outcome="rejection",
    )
    assert (case.state, case.data["final_reason"]) == ("rejected_final", "cnda_rejection")
    assert due(case, "stay") == date(2028, 2, 29)  # 31 January + 1 month, leap year
    clocks = pending(session, case)
    assert paris(clocks["stay_reminder_14"]) == "2028-02-15 08:00"
    # 3 days before is Saturday 26 February: the reminder comes on Friday 25.
    assert paris(clocks["stay_reminder_3"]) == "2028-02-25 08:00"
    assert paris(clocks["stay_escalation"]) == "2028-03-01 08:00"
    assert not [n for n in clocks if n.startswith("attestation")]
    with pytest.raises(Refusal, match=r"\(extend_stay\) n'est pas possible dans cet état"):
        fire(
            session,
            case,
            "extend_stay",
            HEAD,
            "2028-02-10 10:00",
            granted_at="2028-02-10",
            ofii_agreed_at="2028-02-09",
        )


def test_the_head_plans_the_exit_and_the_social_worker_records_it(session: Session) -> None:
    case = protected(session, notified="2027-05-31")
    with pytest.raises(Forbidden, match="rôles permis : cada_manager"):
        fire(
            session,
            case,
            "plan_exit",
            SOCIAL_WORKER,
            "2027-08-02 10:00",
            exit_at="2027-08-31",
            destination="SIAO",
        )
    fire(
        session,
        case,
        "plan_exit",
        HEAD,
        "2027-08-02 10:00",
        exit_at="2027-08-31",
        destination="résidence sociale",
        siao_requested_at="2027-06-10",
    )
    assert case.state == "exit_preparation"
    assert case.data["housing_search"] == {"siao_requested_on": "2027-06-10"}
    clocks = pending(session, case)
    assert paris(clocks["exit_reminder_7"]) == "2027-08-24 08:00"
    assert "stay_escalation" not in clocks
    fire(
        session,
        case,
        "plan_exit",
        HEAD,
        "2027-08-20 10:00",
        exit_at="2027-09-15",
        destination="logement social",
    )
    assert paris(pending(session, case)["exit_escalation"]) == "2027-09-16 08:00"
    fire(session, case, "record_exit", SOCIAL_WORKER, "2027-09-15 17:00", exited_at="2027-09-15")
    assert case.state == "exited" and pending(session, case) == {}


def test_a_closed_claim_may_be_reopened_within_9_months(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    fire(
        session,
        case,
        "record_closure",
        JURISTE,
        "2027-05-31 18:00",
        closed_at="2027-05-31",
        reason="missed_interview",
    )
    assert case.state == "ofpra_closed"
    # L531-40, « délai inférieur à neuf mois »: 31 May + 9 months is 29 February, so the last
    # day is Monday 28 February.
    assert due(case, "reopening") == date(2028, 2, 28)
    assert "9 mois (CESEDA L531-40)" in case.data["reopening_rule"]
    clocks = pending(session, case)
    # 30 days before is Saturday 29 January: the reminder comes on Friday 28 January.
    assert paris(clocks["reopening_reminder_30"]) == "2028-01-28 08:00"
    assert paris(clocks["reopening_reminder_7"]) == "2028-02-21 08:00"
    assert clocks["reopening_escalation"].recipients == ["cada_manager"]
    fire(session, case, "request_reopening", JURISTE, "2028-02-28 10:00", requested_at="2028-02-28")
    assert case.state == "ofpra_pending"
    assert due(case, "ofpra_decision") == date(2028, 8, 28)


def test_a_reopening_after_9_months_is_refused(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(
        session,
        case,
        "record_closure",
        JURISTE,
        "2027-05-31 18:00",
        closed_at="2027-05-31",
        reason="late_file",
    )
    with pytest.raises(Refusal) as refused:
        fire(
            session,
            case,
            "request_reopening",
            JURISTE,
            "2028-03-01 10:00",
            requested_at="2028-03-01",
        )
    message = str(refused.value)
    assert "hors du délai inférieur à 9 mois (CESEDA L531-40)" in message
    assert "dernier jour était le 28/02/2028" in message
    assert "seule une demande de réexamen est encore possible" in message
    assert "(état « Clôture OFPRA (réouverture possible 9 mois) »)" in message
    assert case.state == "ofpra_closed"
