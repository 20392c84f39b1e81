"""The asylum rules checked against the texts in December 2026 (issue 13): each test names the
article it pins. Exit stays from OFII's end of care (R552-13), the right to stay ending at the
CNDA's public reading (L542-1), one reopening (L531-40), the délai franc of the CNDA appeal
(L532-1), 48 hours to appeal a transfer in detention (L921-2), OFPRA's warning (R531-7)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
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

from models.cases import Case, Notification
from processes import asylum_rules as law
from processes.errors import Forbidden, Refusal


def told(s: Session, case: Case, kind: str) -> list[str | None]:
    rows = s.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.kind == kind)
    )
    return [n.recipient_staff_id for n in rows]


def cnda_rejected(s: Session, *, read: str | None, notified: str) -> Case:
    case = rejected(s, notified="2027-03-02")
    fire(s, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    decision: dict[str, object] = {"notified_at": notified, "outcome": "rejection"}
    if read:
        decision["read_at"] = read
    return fire(s, case, "record_cnda_decision", SOCIAL_WORKER, f"{notified} 18:00", **decision)


# --- R552-13: the exit stay counts from the end of care ----------------------------------------


def test_r552_13_protected_stay_counts_three_months_from_end_of_care(session: Session) -> None:
    # Protection notified Wednesday 12 May 2027. Until OFII's date is recorded, the end of care
    # is provisionally the end of May (the month the right to stay ended) and says so.
    case = protected(session, notified="2027-05-12")
    assert case.data["care_ends_on"] == "2027-05-31" and not case.data["care_end_recorded"]
    assert due(case, "stay") == date(2027, 8, 31)
    assert "PROVISOIRE" in case.data["stay_rule"]
    assert "3 mois (CESEDA R552-13)" in case.data["stay_rule"]
    assert "CESEDA L542-1" in case.data["care_end_rule"]
    # The social worker is asked at once, then reminded, to record OFII's date.
    assert told(session, case, "asylum_care_end") == [SOCIAL_WORKER]
    clocks = pending(session, case)
    # 14 days before is Whit Monday 17 May: the reminder comes on Friday 14 May.
    assert paris(clocks["care_end_reminder_14"]) == "2027-05-14 08:00"
    assert paris(clocks["care_end_reminder_0"]) == "2027-05-31 08:00"
    assert clocks["care_end_reminder_0"].recipients == ["social_worker"]

    with pytest.raises(Forbidden, match="rôles permis : social_worker, cada_manager"):
        fire(session, case, "record_end_of_care", JURISTE, "2027-06-01 10:00",
             care_ends_on="2027-06-15")
    # OFII ends the care on Tuesday 15 June: the stay runs to Wednesday 15 September.
    fire(session, case, "record_end_of_care", SOCIAL_WORKER, "2027-06-01 10:00",
         care_ends_on="2027-06-15")
    assert case.state == "protected"
    assert due(case, "stay") == date(2027, 9, 15)
    assert "fin de prise en charge fixée par l'OFII" in case.data["stay_rule"]
    assert "PROVISOIRE" not in case.data["stay_rule"]
    clocks = pending(session, case)
    assert not [name for name in clocks if name.startswith("care_end")]
    assert paris(clocks["stay_reminder_30"]) == "2027-08-16 08:00"
    assert paris(clocks["stay_reminder_7"]) == "2027-09-08 08:00"
    assert paris(clocks["stay_escalation"]) == "2027-09-16 08:00"


def test_r552_13_the_once_only_extension_follows_the_end_of_care_with_ofii_agreement(
    session: Session,
) -> None:
    case = protected(session, notified="2027-05-12")
    with pytest.raises(Refusal, match="ne peut pas précéder l'accord de l'OFII"):
        fire(session, case, "extend_stay", HEAD, "2027-08-02 10:00",
             granted_at="2027-08-02", ofii_agreed_at="2027-08-03")
    fire(session, case, "extend_stay", HEAD, "2027-08-02 10:00",
         granted_at="2027-08-02", ofii_agreed_at="2027-07-30")
    # 31 August (provisional first stay) + 3 months.
    assert due(case, "stay") == date(2027, 11, 30)
    assert "accord de l'OFII du 30/07/2027" in case.data["stay_rule"]
    # OFII's own end of care arrives later: both stays move with it.
    fire(session, case, "record_end_of_care", SOCIAL_WORKER, "2027-08-05 10:00",
         care_ends_on="2027-06-15")
    assert due(case, "stay") == date(2027, 12, 15)  # 15 June + 3 months + 3 months
    assert case.data["ofii_agreed_on"] == "2027-07-30"


def test_r552_13_rejected_final_stay_counts_one_month_from_end_of_care(
    session: Session,
) -> None:
    case = cnda_rejected(session, read="2028-01-20", notified="2028-02-03")
    assert case.state == "rejected_final"
    assert case.data["care_ends_on"] == "2028-01-31"
    assert due(case, "stay") == date(2028, 2, 29)
    assert told(session, case, "asylum_care_end") == [SOCIAL_WORKER]
    fire(session, case, "record_end_of_care", HEAD, "2028-02-10 10:00",
         care_ends_on="2028-02-15")
    assert due(case, "stay") == date(2028, 3, 15)
    with pytest.raises(Refusal, match="ne peut pas précéder la fin du droit au maintien"):
        fire(session, case, "record_end_of_care", HEAD, "2028-02-11 10:00",
             care_ends_on="2028-01-10")


def test_l542_1_the_right_to_stay_ends_at_the_cnda_public_reading_not_its_notification(
    session: Session,
) -> None:
    # Read in public on Monday 28 June 2027, notified on Monday 5 July: the right to stay ended
    # in June, so the provisional end of care is 30 June, not 31 July.
    case = cnda_rejected(session, read="2027-06-28", notified="2027-07-05")
    assert case.data["right_to_stay_ended_on"] == "2027-06-28"
    assert case.data["care_ends_on"] == "2027-06-30"
    assert due(case, "stay") == date(2027, 7, 30)
    assert "lecture publique de la décision de la CNDA" in case.data["care_end_rule"]
    # An order (ordonnance) has no public reading: its notification counts.
    other = cnda_rejected(session, read=None, notified="2027-07-05")
    assert other.data["care_ends_on"] == "2027-07-31"


def test_l542_1_a_public_reading_after_the_notification_is_refused(session: Session) -> None:
    case = rejected(session, notified="2027-03-02")
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    with pytest.raises(Refusal, match="la lecture publique .06/07/2027. ne peut pas suivre"):
        fire(session, case, "record_cnda_decision", SOCIAL_WORKER, "2027-07-06 18:00",
             notified_at="2027-07-05", read_at="2027-07-06", outcome="rejection")
    assert case.state == "cnda_pending"


# --- L531-40: one reopening, within less than nine months --------------------------------------


def test_l531_40_a_second_reopening_is_refused_naming_the_article(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    fire(session, case, "record_closure", JURISTE, "2027-03-01 18:00",
         closed_at="2027-03-01", reason="missed_interview")
    fire(session, case, "request_reopening", JURISTE, "2027-03-15 10:00",
         requested_at="2027-03-15")
    assert case.state == "ofpra_pending"
    fire(session, case, "record_closure", JURISTE, "2027-06-01 18:00",
         closed_at="2027-06-01", reason="late_file")
    with pytest.raises(Refusal) as refused:
        fire(session, case, "request_reopening", JURISTE, "2027-06-10 10:00",
             requested_at="2027-06-10")
    message = str(refused.value)
    assert "déjà été rouvert (demande du 15/03/2027)" in message
    assert "une seule réouverture est possible (CESEDA L531-40)" in message
    assert case.state == "ofpra_closed"


# --- L532-1: the délai franc -------------------------------------------------------------------


def test_l532_1_an_appeal_on_the_franc_day_is_accepted_without_override(
    session: Session,
) -> None:
    # Notified Tuesday 2 March 2027: the month ends on Friday 2 April, the date staff are shown
    # and reminded; the franc day is Saturday 3, so Monday 5 April is still in time.
    case = rejected(session, notified="2027-03-02")
    assert due(case, "appeal") == date(2027, 4, 2)
    assert case.data["appeal_franc_due"] == "2027-04-05"
    clocks = pending(session, case)
    assert paris(clocks["appeal_escalation"]) == "2027-03-31 08:00"
    assert paris(clocks["appeal_reminder_2"]) == "2027-03-31 08:00"
    fire(session, case, "lodge_appeal", JURISTE, "2027-04-05 10:00", lodged_at="2027-04-05")
    assert case.state == "cnda_pending" and "late_appeal" not in case.data


def test_l532_1_an_appeal_the_day_after_the_franc_day_still_needs_an_override(
    session: Session,
) -> None:
    case = rejected(session, notified="2027-03-02")
    with pytest.raises(Refusal) as refused:
        fire(session, case, "lodge_appeal", JURISTE, "2027-04-06 10:00", lodged_at="2027-04-06")
    assert "le jour franc du 05/04/2027" in str(refused.value)


# --- L572-4 with L921-1 and L921-2: the transfer appeal --------------------------------------


def test_l921_2_a_detained_person_has_48_hours_to_appeal_the_transfer(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00", procedure="dublin")
    # Notified on Friday 5 February 2027 in detention: 48 hours run through the weekend.
    fire(session, case, "start_dublin", JURISTE, "2027-02-05 16:00", accepted_at="2027-02-03",
         member_state="Italie", transfer_decision_notified_at="2027-02-05", detained=True)
    assert due(case, "dublin_appeal") == date(2027, 2, 7)
    assert "48 heures (CESEDA L572-4 et L921-2 (rétention administrative))" in (
        case.data["dublin_appeal_rule"]
    )
    assert case.data["detained"] is True
    assert told(session, case, "asylum_dublin_appeal") == [JURISTE]


def test_l921_1_a_person_at_liberty_has_7_days_to_appeal_the_transfer(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00", procedure="dublin")
    fire(session, case, "start_dublin", JURISTE, "2027-02-05 16:00", accepted_at="2027-02-03",
         member_state="Italie", transfer_decision_notified_at="2027-02-05")
    assert due(case, "dublin_appeal") == date(2027, 2, 12)
    assert "CESEDA L572-4 et L921-1" in case.data["dublin_appeal_rule"]
    assert told(session, case, "asylum_dublin_appeal") == []


# --- R531-7: OFPRA's warning before the 6 months end ------------------------------------------


def test_r531_7_ofpra_must_warn_15_days_before_the_six_months_end(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    assert due(case, "ofpra_decision") == date(2027, 7, 20)
    assert due(case, "ofpra_warning") == date(2027, 7, 5)
    assert "(CESEDA R531-7)" in case.data["ofpra_warning_rule"]
    clocks = pending(session, case)
    # No warning recorded by Monday 5 July: the juriste hears on Tuesday 6 July, 08:00.
    assert paris(clocks["ofpra_warning_missing"]) == "2027-07-06 08:00"
    assert clocks["ofpra_warning_missing"].recipients == ["juriste"]
    fire(session, case, "record_ofpra_delay_notice", SOCIAL_WORKER, "2027-07-01 10:00",
         informed_at="2027-07-01")
    assert due(case, "ofpra_decision") == date(2028, 4, 20)  # 6 + 9 months at most
    assert "ofpra_warning_missing" not in pending(session, case)


def test_r531_7_no_delay_warning_in_the_accelerated_procedure(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00", procedure="accelerated")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    assert "ofpra_warning_due" not in case.data
    with pytest.raises(Refusal, match="procédure accélérée"):
        fire(session, case, "record_ofpra_delay_notice", JURISTE, "2027-01-25 10:00",
             informed_at="2027-01-25")


# --- Citations and Regulation (EU) 2024/1348 ---------------------------------------------------


def test_every_asylum_rule_cites_its_article() -> None:
    for rules in law.RULE_SETS:
        for rule in rules.rules.values():
            cited = any(
                ref in rule.source
                for ref in ("CESEDA L", "CESEDA R", "arrêté du 9 octobre 2015", "règlement (UE)",
                            "loi 91-647")
            )
            assert cited, (rules.id, rule.id, rule.source)


def test_regulation_2024_1348_leaves_the_cnda_appeal_at_one_month_in_the_2026_07_rules(
    session: Session,
) -> None:
    # Art. 67 § 7 asks member states to set 5 to 10 days for accelerated-procedure rejections;
    # France has not, so L532-1's month still applies (see the note in asylum_rules.py).
    case = rejected(session, notified="2027-03-02", procedure="accelerated")
    assert case.data["rule_set"] == "asylum-2026-07"
    assert due(case, "appeal") == date(2027, 4, 2)
    assert "1 mois (CESEDA L532-1)" in case.data["appeal_rule"]


def test_r552_13_a_stay_counted_before_the_end_of_care_rule_still_extends_and_recounts(
    session: Session,
) -> None:
    # A protected household whose data the previous version wrote: its stay counted from the
    # notification of Monday 31 May 2027, with no end of care on file.
    case = protected(session, notified="2027-05-31")
    legacy = {k: v for k, v in case.data.items() if not k.startswith(("care_end", "stay_kind"))}
    legacy.pop("right_to_stay_ended_on", None)
    case.data = legacy
    session.flush()
    fire(session, case, "extend_stay", HEAD, "2027-08-20 10:00", granted_at="2027-08-20",
         ofii_agreed_at="2027-08-19")
    assert due(case, "stay") == date(2027, 11, 30)  # 31 August + 3 months, as before
    fire(session, case, "record_end_of_care", SOCIAL_WORKER, "2027-08-23 10:00",
         care_ends_on="2027-06-15")
    assert due(case, "stay") == date(2027, 12, 15)  # recounted from OFII's date
