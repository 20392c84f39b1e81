"""The appeal window (asylum.md): legal aid suspends it and keeps the days left (loi 91-647,
art. 9-4); a request after day 15 suspends nothing; the window ends in a final rejection; a
late appeal is recorded only with an override reason, which the audit trail keeps."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import at
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_asylum_walk import HEAD, JURISTE, SOCIAL_WORKER, due, events, fire, pending, rejected

from models.cases import Case, Notification
from models.db import session_scope
from processes.errors import Forbidden, Refusal
from processes.sweep import sweep_due_clocks


def test_legal_aid_keeps_the_21_days_left_of_the_appeal_window(session: Session) -> None:
    # Rejection notified Tuesday 2 March 2027: appeal due Friday 2 April (31 days of March).
    case = rejected(session, notified="2027-03-02")
    assert due(case, "appeal") == date(2027, 4, 2)
    fire(session, case, "request_legal_aid", JURISTE, "2027-03-12 10:00", requested_at="2027-03-12")
    assert case.state == "appeal_suspended"
    assert (case.data["appeal_days_used"], case.data["appeal_days_left"]) == (10, 21)
    # Suspended: no appeal clock runs, nobody is told of a date that no longer holds.
    assert not [name for name in pending(session, case) if name.startswith("appeal")]
    fire(
        session,
        case,
        "legal_aid_decided",
        SOCIAL_WORKER,
        "2027-04-01 16:00",
        notified_at="2027-04-01",
        granted=True,
    )
    assert case.state == "appeal_window"
    assert due(case, "appeal") == date(2027, 4, 22)
    assert date(2027, 4, 22).strftime("%A") == "Thursday"
    assert case.data["appeal_rule"].startswith(
        "Recours devant la CNDA : délai suspendu par la demande d'aide juridictionnelle "
        "(10 jours écoulés), repris le 01/04/2027 pour les 21 jours restants (loi 91-647, "
        "art. 9-4), échéance le 22/04/2027"
    )
    clocks = pending(session, case)
    # Délai franc: Friday 23 April is still in time, the window closes after it.
    assert clocks["appeal_passed"].due_at == at("2027-04-24 00:00")
    assert "repris le 01/04/2027" in clocks["appeal_reminder_10"].rule
    assert not [name for name in clocks if name.startswith("legal_aid")]


def test_a_refused_legal_aid_restarts_the_window_too(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "request_legal_aid", JURISTE, "2027-03-12 10:00", requested_at="2027-03-12")
    fire(
        session,
        case,
        "legal_aid_decided",
        SOCIAL_WORKER,
        "2027-04-01 16:00",
        notified_at="2027-04-01",
        granted=False,
    )
    assert due(case, "appeal") == date(2027, 4, 22)
    assert case.data["legal_aid_granted"] is False


def test_legal_aid_on_day_15_moved_past_easter_monday_still_suspends(session: Session) -> None:
    # Notified Friday 12 March 2027: day 15 is Saturday 27 March, then Easter Monday 29 March.
    case = rejected(session, notified="2027-03-12")
    assert due(case, "legal_aid") == date(2027, 3, 30)
    fire(session, case, "request_legal_aid", JURISTE, "2027-03-30 10:00", requested_at="2027-03-30")
    assert case.state == "appeal_suspended"
    assert case.data["appeal_days_left"] == (date(2027, 4, 12) - date(2027, 3, 30)).days


def test_legal_aid_asked_after_day_15_leaves_the_deadline_and_tells_the_juriste(
    session: Session,
) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "request_legal_aid", JURISTE, "2027-03-19 10:00", requested_at="2027-03-18")
    assert case.state == "appeal_window"
    assert case.data["legal_aid_late"] is True
    assert due(case, "appeal") == date(2027, 4, 2)
    told = session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.kind == "asylum_appeal_unchanged"
        )
    ).all()
    assert [n.recipient_staff_id for n in told] == [JURISTE]
    assert "02/04/2027" in told[0].body
    with pytest.raises(Refusal, match="déjà été demandée le 18/03/2027"):
        fire(
            session,
            case,
            "request_legal_aid",
            JURISTE,
            "2027-03-19 11:00",
            requested_at="2027-03-19",
        )


def test_the_window_ends_in_a_final_rejection_with_a_month_to_stay(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = rejected(s, notified="2027-03-02").id
    # Due Friday 2 April; the délai franc keeps it open on the next working day, Monday 5.
    sweep_due_clocks(engine, at("2027-04-05 23:59"))
    with session_scope(engine) as s:
        assert s.get(Case, case_id).state == "appeal_window"  # type: ignore[union-attr]
    sweep_due_clocks(engine, at("2027-04-06 00:00"))
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.state == "rejected_final"
        assert (case.data["final_on"], case.data["final_reason"]) == ("2027-04-05", "no_appeal")
        # R552-13: one month from the end of care, provisionally the end of April (the month
        # the right to stay ended): 30 May, a Sunday that does not move (not a time limit).
        assert case.data["care_ends_on"] == "2027-04-30"
        assert due(case, "stay") == date(2027, 5, 30)
        assert "[règles asylum-2026-07, stay_rejected]" in case.data["stay_rule"]
        last = events(s, case)[-1]
        assert (last.trigger, last.actor_id) == ("appeal_deadline_passed", "system")
        escalated = s.scalars(
            select(Notification).where(
                Notification.case_id == case_id, Notification.kind == "asylum_appeal"
            )
        ).all()
        assert HEAD in {n.recipient_staff_id for n in escalated}


def test_only_the_sweep_closes_the_appeal_window(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    with pytest.raises(Forbidden, match="rôles permis : system"):
        fire(session, case, "appeal_deadline_passed", JURISTE, "2027-04-05 10:00")


def test_a_late_appeal_is_refused_without_an_override_reason(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    with pytest.raises(Refusal) as refused:
        fire(session, case, "lodge_appeal", JURISTE, "2027-04-06 10:00", lodged_at="2027-04-06")
    message = str(refused.value)
    assert message.startswith(
        f"dossier C-{case.id} (état « Décision de rejet OFPRA notifiée ») : recours formé le "
    )
    assert "après l'échéance du 02/04/2027" in message and "override_reason" in message
    assert "Déclencheurs permis ici : " in message and "lodge_appeal" in message
    assert case.state == "appeal_window"


def test_a_late_appeal_with_an_override_is_recorded_and_audited(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = rejected(s, notified="2027-03-02").id
    sweep_due_clocks(engine, at("2027-04-06 00:00"))
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.state == "rejected_final"
        with pytest.raises(Refusal, match="hors délai ne s'enregistre qu'avec override_reason"):
            fire(s, case, "lodge_appeal", JURISTE, "2027-04-07 10:00", lodged_at="2027-04-06")
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        reason = "hospitalisation du demandeur du 20/03 au 05/04, certificat joint"
        fire(
            s,
            case,
            "lodge_appeal",
            JURISTE,
            "2027-04-07 10:00",
            lodged_at="2027-04-06",
            override_reason=reason,
        )
        assert case.state == "cnda_pending"
        assert case.data["late_appeal"] == {
            "lodged_on": "2027-04-06",
            "due": "2027-04-02",
            "override_reason": reason,
            "by": JURISTE,
        }
        audited = events(s, case)[-1]
        assert audited.trigger == "lodge_appeal" and audited.actor_id == JURISTE
        assert audited.payload == {"lodged_at": "2027-04-06", "override_reason": reason}
        assert "stay_due" not in case.data and "final_reason" not in case.data
        head = s.scalars(
            select(Notification).where(
                Notification.case_id == case_id, Notification.kind == "asylum_late_appeal"
            )
        ).all()
        assert [n.recipient_staff_id for n in head] == [HEAD]


def test_an_appeal_lodged_in_time_but_recorded_after_the_sweep_needs_no_override(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        case_id = rejected(s, notified="2027-03-02").id
    sweep_due_clocks(engine, at("2027-04-03 00:00"))
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        fire(s, case, "lodge_appeal", JURISTE, "2027-04-05 09:00", lodged_at="2027-04-02")
        assert case.state == "cnda_pending" and "late_appeal" not in case.data


def test_no_second_appeal_after_the_cnda_rejected(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    fire(
        session,
        case,
        "record_cnda_decision",
        SOCIAL_WORKER,
        "2027-07-30 10:00",
        notified_at="2027-07-30",
        outcome="rejection",
    )
    assert case.state == "rejected_final"
    with pytest.raises(Refusal, match="la CNDA a déjà statué"):
        fire(
            session,
            case,
            "lodge_appeal",
            JURISTE,
            "2027-08-02 10:00",
            lodged_at="2027-08-02",
            override_reason="nouvel élément",
        )
