"""Asylum deadlines (asylum.md, "Counting deadlines"): each one pinned to the rule it comes
from, on dates that cross month ends, weekends and French public holidays."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import at
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_asylum_walk import (
    JURISTE,
    SOCIAL_WORKER,
    due,
    fire,
    open_claim,
    paris,
    pending,
    rejected,
)

from models.cases import Notification
from processes import asylum_rules as law
from processes.asylum_rules import PACT_2026
from processes.errors import Refusal


def test_the_ofpra_file_is_due_21_days_after_the_attestation_moved_past_14_july(
    session: Session,
) -> None:
    case = open_claim(session, "2027-06-23 10:00")  # 23 June + 21 days = Wednesday 14 July
    assert due(case, "ofpra") == date(2027, 7, 15)
    assert "[règles asylum-2026-07, ofpra_filing]" in case.data["ofpra_rule"]
    assert "le 14/07/2027 n'étant pas un jour ouvré" in case.data["ofpra_rule"]
    clocks = pending(session, case)
    assert paris(clocks["ofpra_reminder_7"]) == "2027-07-08 08:00"
    assert paris(clocks["ofpra_reminder_2"]) == "2027-07-13 08:00"
    assert paris(clocks["ofpra_escalation"]) == "2027-07-16 08:00"
    assert clocks["ofpra_escalation"].recipients == ["cada_manager"]
    assert clocks["ofpra_reminder_7"].recipients == ["juriste", "social_worker"]
    # The clock keeps the rule of law beside its own offset, for whoever reads it later.
    assert "21 jours (CESEDA R531-2)" in clocks["ofpra_reminder_2"].rule


@pytest.mark.parametrize(
    ("procedure", "filed", "expected"),
    [
        ("normal", "2027-08-31", date(2028, 2, 29)),  # 6 months from 31 August: leap February
        ("accelerated", "2027-01-20", date(2027, 2, 4)),  # 15 days
    ],
)
def test_the_ofpra_decision_is_expected_after_6_months_or_15_days(
    session: Session, procedure: str, filed: str, expected: date
) -> None:
    case = open_claim(session, f"{filed} 09:00", procedure=procedure)
    fire(session, case, "lodge_ofpra", JURISTE, f"{filed} 10:00", filed_at=filed)
    assert case.state == "ofpra_pending"
    assert due(case, "ofpra_decision") == expected
    rule = f"ofpra_decision_{procedure}"
    assert f"[règles asylum-2026-07, {rule}]" in case.data["ofpra_decision_rule"]
    overdue = pending(session, case)["ofpra_decision_overdue"]
    assert overdue.recipients == ["juriste"] and overdue.kind == "reminder"


def test_missing_documents_are_due_8_days_later_moved_past_8_may_and_a_sunday(
    session: Session,
) -> None:
    case = open_claim(session, "2027-04-01 09:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-04-02 10:00", filed_at="2027-04-02")
    # Friday 30 April + 8 days = Saturday 8 May (Victoire 1945), then Sunday 9 May.
    fire(session, case, "request_documents", JURISTE, "2027-04-30 11:00", requested_at="2027-04-30")
    assert due(case, "documents") == date(2027, 5, 10)
    # Its reminder 2 days before falls on Saturday 8 May: it comes on Friday 7 May instead.
    assert paris(pending(session, case)["documents_reminder_2"]) == "2027-05-07 08:00"


def test_an_appeal_notified_on_31_january_is_due_on_monday_1_march(session: Session) -> None:
    case = rejected(session, notified="2027-01-31")
    assert case.state == "appeal_window"
    # 31 January + 1 month = 28 February 2027, a Sunday.
    assert due(case, "appeal") == date(2027, 3, 1)
    assert case.data["appeal_rule"] == (
        "Recours devant la CNDA : 1 mois (CESEDA L532-1) à compter du 31/01/2027 (notification "
        "du rejet, première consultation), échéance le 01/03/2027 (le 28/02/2027 n'étant pas un "
        "jour ouvré) ; délai franc : un acte du 01/03/2027 est encore dans les temps, mais la "
        "date à retenir reste l'échéance [règles asylum-2026-07, cnda_appeal]"
    )
    assert due(case, "legal_aid") == date(2027, 2, 15)


def test_an_appeal_due_on_11_november_moves_to_the_next_day(session: Session) -> None:
    case = rejected(session, notified="2027-10-11")
    assert due(case, "appeal") == date(2027, 11, 12)


def test_the_appeal_reminders_and_the_heads_alert(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    assert due(case, "appeal") == date(2027, 4, 2)
    assert (date(2027, 4, 2) - date(2027, 3, 2)).days == 31  # one month of March
    clocks = pending(session, case)
    assert paris(clocks["appeal_reminder_10"]) == "2027-03-23 08:00"
    # 5 days before is Sunday 28 March: the reminder comes on Friday 26 March.
    assert paris(clocks["appeal_reminder_5"]) == "2027-03-26 08:00"
    assert paris(clocks["appeal_reminder_2"]) == "2027-03-31 08:00"
    assert paris(clocks["appeal_escalation"]) == "2027-03-31 08:00"
    assert clocks["appeal_escalation"].recipients == ["cada_manager"]
    # Délai franc: an appeal on the day after Friday 2 April (Saturday 3, so Monday 5 April)
    # is still in time; the window closes after it.
    assert paris(clocks["appeal_passed"]) == "2027-04-06 00:00"
    assert clocks["appeal_passed"].action == "fire:appeal_deadline_passed"
    assert due(case, "legal_aid") == date(2027, 3, 17)
    # 10 days before is Sunday 7 March: the reminder comes on Friday 5 March.
    assert paris(clocks["legal_aid_reminder_10"]) == "2027-03-05 08:00"
    assert paris(clocks["legal_aid_reminder_5"]) == "2027-03-12 08:00"


def test_a_decision_never_opened_counts_as_notified_15_days_after_posting(
    session: Session,
) -> None:
    case = rejected(session, notified="", posted="2027-03-01")
    decision = case.data["decisions"][-1]
    assert decision["posted_on"] == "2027-03-01" and decision["consulted_on"] is None
    assert decision["notified_on"] == "2027-03-16"
    assert due(case, "appeal") == date(2027, 4, 16)
    assert (
        "réputée notifiée 15 jours après la mise en ligne du 01/03/2027"
        in (case.data["appeal_rule"])
    )


def test_a_first_consultation_before_the_15_days_is_the_notification(session: Session) -> None:
    case = rejected(session, notified="2027-03-05", posted="2027-03-01")
    decision = case.data["decisions"][-1]
    assert (decision["consulted_on"], decision["posted_on"]) == ("2027-03-05", "2027-03-01")
    assert decision["notified_on"] == "2027-03-05"
    assert due(case, "appeal") == date(2027, 4, 5)


@pytest.mark.parametrize(
    ("procedure", "inadmissible", "expected", "rule"),
    [
        ("normal", False, date(2027, 8, 31), "cnda_decision_normal"),
        ("accelerated", False, date(2027, 5, 5), "cnda_decision_accelerated"),
        ("normal", True, date(2027, 5, 5), "cnda_decision_accelerated"),
    ],
)
def test_the_cnda_decides_in_5_months_or_5_weeks(
    session: Session, procedure: str, inadmissible: bool, expected: date, rule: str
) -> None:
    case = open_claim(session, "2027-01-04 10:00", procedure=procedure)
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-06 10:00", filed_at="2027-01-06")
    fire(
        session,
        case,
        "record_decision",
        SOCIAL_WORKER,
        "2027-03-15 10:00",
        notified_at="2027-03-15",
        outcome="rejection",
        inadmissible=inadmissible,
    )
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-31 10:00", lodged_at="2027-03-31")
    assert case.state == "cnda_pending"
    assert due(case, "cnda_decision") == expected
    assert f"{rule}]" in case.data["cnda_decision_rule"]
    fire(
        session,
        case,
        "schedule_hearing",
        SOCIAL_WORKER,
        "2027-04-06 10:00",
        hearing_at="2027-04-29T14:00",
    )
    clocks = pending(session, case)
    assert paris(clocks["hearing_reminder_7"]) == "2027-04-22 08:00"
    assert paris(clocks["hearing_reminder_1"]) == "2027-04-28 08:00"


def test_rule_sets_by_opening_and_registration_date() -> None:
    assert law.rule_set_for(date(2026, 6, 20), date(2026, 6, 15)).id == "asylum-2024-08"
    assert law.rule_set_for(date(2026, 7, 2), date(2026, 6, 15)).id == "asylum-2024-08"
    assert law.rule_set_for(date(2026, 7, 2), date(2026, 7, 1)).id == "asylum-2026-07"
    with pytest.raises(LookupError, match="aucune règle d'asile en vigueur le 31/07/2024"):
        law.rule_set_for(date(2024, 7, 31), date(2024, 7, 30))
    # The pact changes only the Dublin rules: everything else is the 2024 set's.
    changed = {
        name for name, rule in PACT_2026.rules.items() if rule != law.ASYLUM_2024.rules[name]
    }
    assert changed == {"dublin_transfer", "dublin_transfer_imprisoned", "dublin_transfer_absconded"}


def test_a_case_keeps_the_rule_set_it_was_opened_under(session: Session) -> None:
    case = open_claim(session, "2026-06-20 10:00", registered="2026-06-15")
    assert case.data["rule_set"] == "asylum-2024-08"
    later = open_claim(session, "2026-07-02 10:00", registered="2026-07-01")
    assert later.data["rule_set"] == "asylum-2026-07"


@pytest.mark.parametrize(
    ("panel", "hearing", "short"),
    [
        (False, "2027-04-21T14:00", False),  # 15 days' notice: enough for a single judge
        (False, "2027-04-20T14:00", True),
        (True, "2027-05-05T14:00", True),  # 29 days: a panel needs 30
        (True, "2027-05-06T14:00", False),
    ],
)
def test_a_hearing_notice_shorter_than_the_minimum_is_flagged_to_the_juriste(
    session: Session, panel: bool, hearing: str, short: bool
) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    fire(
        session,
        case,
        "schedule_hearing",
        SOCIAL_WORKER,
        "2027-04-06 10:00",
        hearing_at=hearing,
        panel=panel,
    )
    rule = "cnda_hearing_notice_panel" if panel else "cnda_hearing_notice"
    assert case.data.get("hearing_notice_short") == (rule if short else None)
    told = session.scalars(
        select(Notification.recipient_staff_id).where(
            Notification.case_id == case.id, Notification.kind == "asylum_hearing"
        )
    ).all()
    assert told == ([JURISTE] if short else [])


def test_an_interview_cannot_be_scheduled_in_the_past(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    with pytest.raises(Refusal, match="l'entretien ne peut pas être convoqué.e. dans le passé"):
        fire(
            session,
            case,
            "schedule_interview",
            SOCIAL_WORKER,
            "2027-03-01 10:00",
            interview_at="2027-02-26T09:30",
        )


def test_a_posted_decision_opened_early_counts_from_its_first_consultation(
    session: Session,
) -> None:
    case = rejected(session, notified="", posted="2027-03-01")
    assert due(case, "appeal") == date(2027, 4, 16)
    fire(
        session,
        case,
        "record_consultation",
        SOCIAL_WORKER,
        "2027-03-05 10:00",
        consulted_at="2027-03-04",
    )
    assert case.data["decisions"][-1]["notified_on"] == "2027-03-04"
    # 4 April 2027 is a Sunday.
    assert due(case, "appeal") == date(2027, 4, 5)
    assert due(case, "legal_aid") == date(2027, 3, 19)
    assert pending(session, case)["appeal_passed"].due_at == at("2027-04-06 00:00")
    with pytest.raises(Refusal, match="déjà notifiée le 04/03/2027 .première consultation."):
        fire(
            session,
            case,
            "record_consultation",
            SOCIAL_WORKER,
            "2027-03-06 10:00",
            consulted_at="2027-03-05",
        )


def test_a_consultation_after_the_15_days_changes_nothing(session: Session) -> None:
    case = rejected(session, notified="", posted="2027-03-01")
    with pytest.raises(Refusal, match="réputée notifiée 15 jours après la mise en ligne"):
        fire(
            session,
            case,
            "record_consultation",
            SOCIAL_WORKER,
            "2027-03-20 10:00",
            consulted_at="2027-03-17",
        )
    assert due(case, "appeal") == date(2027, 4, 16)
