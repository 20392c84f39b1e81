"""One CADA household walked from the prefecture's one-stop desk (guichet unique) to its exit,
as the legal officer, the social worker and the head of the CADA record it, with every date
the engine computes asserted and the article it comes from.

January 2027: registered and attestation handed over; file lodged at OFPRA; rejection posted
online and opened; legal aid asked within 15 days (the appeal window pauses); appeal lodged on
the franc day; attestation renewed; CNDA hearing; protection read in public; OFII's end of care
recorded; stay extended once with OFII's agreement; exit planned and recorded in June 2028.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from test_asylum_law import told
from test_asylum_walk import (
    HEAD,
    JURISTE,
    SOCIAL_WORKER,
    due,
    fire,
    open_claim,
    paris,
    pending,
)


def test_a_household_from_the_one_stop_desk_to_the_exit_with_every_date(
    session: Session,
) -> None:
    # Monday 4 January 2027: registered at the one-stop desk, first attestation handed over.
    case = open_claim(session, "2027-01-04 10:00")
    assert (case.state, case.data["rule_set"]) == ("registered", "asylum-2026-07")
    assert due(case, "ofpra") == date(2027, 1, 25)  # 21 days, CESEDA R531-2
    assert "21 jours (CESEDA R531-2)" in case.data["ofpra_rule"]
    assert due(case, "attestation") == date(2027, 11, 4)  # 10 months, arrêté du 9 octobre 2015
    assert "arrêté du 9 octobre 2015 modifié le 5 mai 2020" in case.data["attestation_rule"]
    clocks = pending(session, case)
    assert paris(clocks["ofpra_reminder_7"]) == "2027-01-18 08:00"
    assert paris(clocks["ofpra_reminder_2"]) == "2027-01-22 08:00"  # Saturday 23 -> Friday 22
    assert paris(clocks["ofpra_escalation"]) == "2027-01-26 08:00"

    # Wednesday 20 January: the file is lodged at OFPRA.
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    assert case.state == "ofpra_pending"
    assert due(case, "ofpra_decision") == date(2027, 7, 20)  # 6 months, R531-7
    assert due(case, "ofpra_warning") == date(2027, 7, 5)  # 15 days before, R531-7
    clocks = pending(session, case)
    assert "ofpra_reminder_7" not in clocks
    assert paris(clocks["ofpra_decision_overdue"]) == "2027-07-21 08:00"
    assert paris(clocks["ofpra_warning_missing"]) == "2027-07-06 08:00"

    # The interview is set for Wednesday 14 April 2027, 09:30.
    fire(session, case, "schedule_interview", SOCIAL_WORKER, "2027-03-15 10:00",
         interview_at="2027-04-14T09:30")
    clocks = pending(session, case)
    assert paris(clocks["interview_reminder_7"]) == "2027-04-07 08:00"
    assert paris(clocks["interview_reminder_1"]) == "2027-04-13 08:00"

    # Rejection posted online on Thursday 6 May, first opened on Monday 10 May (R531-17).
    fire(session, case, "record_decision", SOCIAL_WORKER, "2027-05-10 18:00",
         posted_at="2027-05-06", notified_at="2027-05-10", outcome="rejection")
    assert case.state == "appeal_window"
    assert due(case, "appeal") == date(2027, 6, 10)  # 1 month, L532-1: the safe date
    assert case.data["appeal_franc_due"] == "2027-06-11"  # délai franc
    assert due(case, "legal_aid") == date(2027, 5, 25)  # 15 days, loi 91-647 art. 9-4
    clocks = pending(session, case)
    assert paris(clocks["appeal_reminder_10"]) == "2027-05-31 08:00"
    assert paris(clocks["appeal_reminder_5"]) == "2027-06-04 08:00"  # Saturday 5 -> Friday 4
    assert paris(clocks["appeal_escalation"]) == "2027-06-08 08:00"
    assert paris(clocks["appeal_passed"]) == "2027-06-12 00:00"

    # Thursday 20 May: legal aid asked, day 10 of the window; 21 days are kept.
    fire(session, case, "request_legal_aid", JURISTE, "2027-05-20 10:00",
         requested_at="2027-05-20")
    assert case.state == "appeal_suspended"
    assert (case.data["appeal_days_used"], case.data["appeal_days_left"]) == (10, 21)
    assert not [n for n in pending(session, case) if n.startswith("appeal")]

    # Tuesday 15 June: legal aid granted; the 21 days run to Tuesday 6 July, franc day the 7th.
    fire(session, case, "legal_aid_decided", SOCIAL_WORKER, "2027-06-15 16:00",
         notified_at="2027-06-15", granted=True)
    assert case.state == "appeal_window"
    assert due(case, "appeal") == date(2027, 7, 6)
    assert case.data["appeal_franc_due"] == "2027-07-07"
    assert paris(pending(session, case)["appeal_escalation"]) == "2027-07-02 08:00"  # Sunday 4

    # Wednesday 7 July: the appeal, on the franc day, is in time without any override.
    fire(session, case, "lodge_appeal", JURISTE, "2027-07-07 10:00", lodged_at="2027-07-07")
    assert case.state == "cnda_pending" and "late_appeal" not in case.data
    assert due(case, "cnda_decision") == date(2027, 12, 7)  # 5 months, L532-6

    # The CNDA's notice of 20 October sets the hearing for Tuesday 16 November (R532-32: 15
    # days at least before a single judge; 27 here).
    fire(session, case, "schedule_hearing", SOCIAL_WORKER, "2027-10-20 10:00",
         hearing_at="2027-11-16T14:00")
    assert case.data["hearing_notice_days"] == 27 and "hearing_notice_short" not in case.data
    assert paris(pending(session, case)["hearing_reminder_7"]) == "2027-11-09 08:00"

    # Thursday 28 October: the attestation is renewed for 6 months.
    fire(session, case, "renew_attestation", SOCIAL_WORKER, "2027-10-28 11:00",
         renewed_at="2027-10-28")
    assert due(case, "attestation") == date(2028, 4, 28)
    assert paris(pending(session, case)["attestation_reminder_15"]) == "2028-04-13 08:00"

    # Refugee status read in public on Tuesday 30 November, notified Monday 6 December: the
    # right to stay ended on the 30th (L542-1), so the provisional end of care is that day.
    fire(session, case, "record_cnda_decision", SOCIAL_WORKER, "2027-12-06 18:00",
         notified_at="2027-12-06", read_at="2027-11-30", outcome="refugee")
    assert (case.state, case.data["protection"]) == ("protected", "refugee")
    assert case.data["care_ends_on"] == "2027-11-30" and not case.data["care_end_recorded"]
    assert due(case, "stay") == date(2028, 2, 29)  # 3 months, R552-13, provisional
    assert "PROVISOIRE" in case.data["stay_rule"]
    clocks = pending(session, case)
    assert not [n for n in clocks if n.startswith("attestation")]
    # Its reminders would already be past: the social worker is asked at once instead.
    assert not [n for n in clocks if n.startswith("care_end")]
    assert told(session, case, "asylum_care_end") == [SOCIAL_WORKER]

    # Friday 10 December: OFII's end of care is Friday 31 December; the stay runs to 31 March.
    fire(session, case, "record_end_of_care", SOCIAL_WORKER, "2027-12-10 10:00",
         care_ends_on="2027-12-31")
    assert due(case, "stay") == date(2028, 3, 31)
    clocks = pending(session, case)
    assert paris(clocks["stay_reminder_30"]) == "2028-03-01 08:00"
    assert paris(clocks["stay_reminder_7"]) == "2028-03-24 08:00"
    assert paris(clocks["stay_escalation"]) == "2028-04-01 08:00"

    # Monday 20 March 2028: OFII agreed on Friday 17; the head extends the stay once.
    fire(session, case, "extend_stay", HEAD, "2028-03-20 10:00", granted_at="2028-03-20",
         ofii_agreed_at="2028-03-17")
    assert due(case, "stay") == date(2028, 6, 30)  # 31 March + 3 months, R552-13

    # Thursday 1 June: the head plans the exit for Friday 30 June, social housing found.
    fire(session, case, "plan_exit", HEAD, "2028-06-01 10:00", exit_at="2028-06-30",
         destination="logement social", social_housing_requested_at="2028-01-15")
    assert case.state == "exit_preparation"
    clocks = pending(session, case)
    assert paris(clocks["exit_reminder_7"]) == "2028-06-23 08:00"
    assert paris(clocks["exit_reminder_1"]) == "2028-06-29 08:00"
    assert "stay_escalation" not in clocks

    # Friday 30 June 2028: the household leaves the CADA.
    fire(session, case, "record_exit", SOCIAL_WORKER, "2028-06-30 17:00",
         exited_at="2028-06-30")
    assert case.state == "exited" and pending(session, case) == {}
