"""The clocks of the hygiene process (hygiene.md, "Clocks"): which rows each state creates and
when they are due, counted in Paris time over weekends, public holidays and DST changes;
leaving a state cancels them; the organisation may change a delay; and the notifications a
transition queues at once (the warning letter, the direction's alert)."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import at
from helpers import (
    DGLS,
    GS,
    RGLS,
    evaluate,
    pending_clocks,
    record,
    report,
    schedule,
    walk_to,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, Clock, Notification
from models.directory import Organisation
from processes import engine as wf

VISIT_CLOCKS = {
    "visit_reminder",
    "resident_visit_reminder",
    "record_visit_reminder",
    "record_visit_escalation",
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def clock_rows(session: Session, case_id: int) -> list[Clock]:
    return list(session.scalars(select(Clock).where(Clock.case_id == case_id).order_by(Clock.id)))


def notifications(session: Session, case_id: int) -> list[tuple[str, str | None]]:
    rows = session.scalars(
        select(Notification).where(Notification.case_id == case_id).order_by(Notification.id)
    )
    return [(n.kind, n.recipient_staff_id) for n in rows]


def planned_case(session: Session, reported: str, planned: str, visit: str) -> Case:
    case = report(session, reported)
    return schedule(session, case.id, planned, visit)


# --- reported ----------------------------------------------------------------------------------


def test_a_breach_reported_on_monday_23_november_is_reminded_after_5_and_10_working_days(
    session: Session,
) -> None:
    case = report(session, "2026-11-23 09:00")

    assert pending_clocks(session, case.id) == {
        "plan_first_visit": at("2026-11-30 09:00"),
        "first_visit_escalation": at("2026-12-07 09:00"),
    }
    rows = {c.name: c for c in clock_rows(session, case.id)}
    assert rows["plan_first_visit"].recipients == ["gs"]
    assert rows["plan_first_visit"].kind == "reminder"
    assert rows["plan_first_visit"].state == "reported"
    assert rows["first_visit_escalation"].recipients == ["rgls"]
    assert rows["first_visit_escalation"].kind == "escalation"
    assert "5 jours ouvrés après" in rows["plan_first_visit"].rule


def test_a_breach_reported_before_christmas_skips_25_december_and_1_january(
    session: Session,
) -> None:
    # Friday 18 December 2026: 21-24 Dec, (25 Dec), 28 Dec = 5; 29-31 Dec, (1 Jan), 4-5 Jan = 10.
    case = report(session, "2026-12-18 10:00")

    assert pending_clocks(session, case.id) == {
        "plan_first_visit": utc("2026-12-28 09:00"),
        "first_visit_escalation": utc("2027-01-05 09:00"),
    }


def test_an_organisation_that_allows_7_working_days_to_plan_the_first_visit(
    session: Session,
) -> None:
    org = session.scalars(select(Organisation)).one()
    org.settings = {"clocks": {"hygiene.plan_first_visit": {"amount": 7}}}
    session.flush()

    case = report(session, "2026-11-23 09:00")

    # Monday 23 November + 7 working days = Wednesday 2 December; the escalation keeps 10.
    assert pending_clocks(session, case.id) == {
        "plan_first_visit": at("2026-12-02 09:00"),
        "first_visit_escalation": at("2026-12-07 09:00"),
    }


# --- visits --------------------------------------------------------------------------------------


def test_planning_the_first_visit_cancels_the_reported_clocks_and_starts_the_visit_ones(
    session: Session,
) -> None:
    # Reported Monday 14 December; visit planned on the 15th for Monday 28 December, 10:00.
    case = planned_case(session, "2026-12-14 09:00", "2026-12-15 10:00", "2026-12-28 10:00")

    assert pending_clocks(session, case.id) == {
        # 1 working day before, 08:00: Friday 25 is Christmas, so Thursday 24 December.
        "visit_reminder": utc("2026-12-24 07:00"),
        # 2 calendar days before, same time of day: Saturday 26 December.
        "resident_visit_reminder": utc("2026-12-26 09:00"),
        # 2 and 7 working days after: 29, 30 Dec; then 31 Dec, (1 Jan), 4, 5, 6, 7 Jan.
        "record_visit_reminder": utc("2026-12-30 09:00"),
        "record_visit_escalation": utc("2027-01-07 09:00"),
    }
    cancelled = {
        c.name: c.cancelled_at for c in clock_rows(session, case.id) if c.status == "cancelled"
    }
    assert cancelled == {
        "plan_first_visit": at("2026-12-15 10:00"),
        "first_visit_escalation": at("2026-12-15 10:00"),
    }
    rows = {c.name: c.recipients for c in clock_rows(session, case.id) if c.status == "pending"}
    assert rows == {
        "visit_reminder": ["planner"],
        "resident_visit_reminder": ["resident"],
        "record_visit_reminder": ["gs"],
        "record_visit_escalation": ["rgls"],
    }


def test_a_visit_on_monday_4_january_is_reminded_on_thursday_31_december(
    session: Session,
) -> None:
    case = planned_case(session, "2026-12-14 09:00", "2026-12-15 10:00", "2027-01-04 10:00")

    assert pending_clocks(session, case.id)["visit_reminder"] == utc("2026-12-31 07:00")


def test_a_visit_after_easter_monday_and_the_spring_dst_change(session: Session) -> None:
    # Tuesday 30 March 2027, 10:00 summer time (08:00 UTC). Clocks changed on Sunday 28 March;
    # Monday 29 March is Easter Monday.
    case = planned_case(session, "2027-03-15 09:00", "2027-03-16 10:00", "2027-03-30 10:00")

    assert pending_clocks(session, case.id) == {
        # Friday 26 March, 08:00 winter time.
        "visit_reminder": utc("2027-03-26 07:00"),
        # Sunday 28 March, 10:00 summer time: 46 hours before, not 48.
        "resident_visit_reminder": utc("2027-03-28 08:00"),
        "record_visit_reminder": utc("2027-04-01 08:00"),
        "record_visit_escalation": utc("2027-04-08 08:00"),
    }


def test_a_visit_reminder_at_8_is_6_utc_before_the_october_dst_change_and_7_after(
    session: Session,
) -> None:
    # Clocks go back on Sunday 25 October 2026.
    before = planned_case(session, "2026-10-12 09:00", "2026-10-13 10:00", "2026-10-26 10:00")
    after = planned_case(session, "2026-10-12 09:00", "2026-10-13 10:00", "2026-10-27 10:00")

    # Monday 26 October's visit: reminded on Friday 23 October, 08:00 summer time.
    assert pending_clocks(session, before.id)["visit_reminder"] == utc("2026-10-23 06:00")
    # Tuesday 27 October's visit: reminded on Monday 26 October, 08:00 winter time.
    assert pending_clocks(session, after.id)["visit_reminder"] == utc("2026-10-26 07:00")
    assert pending_clocks(session, before.id)["resident_visit_reminder"] == utc(
        "2026-10-24 08:00"
    )


def test_re_planning_a_visit_replaces_its_clocks(session: Session) -> None:
    case = planned_case(session, "2026-11-23 09:00", "2026-11-24 10:00", "2026-11-30 10:00")
    first = {c.id for c in clock_rows(session, case.id) if c.status == "pending"}

    # No-show on Monday 30 November: re-planned for Thursday 3 December, 14:00.
    schedule(session, case.id, "2026-11-30 11:00", "2026-12-03 14:00")

    assert pending_clocks(session, case.id) == {
        "visit_reminder": at("2026-12-02 08:00"),
        "resident_visit_reminder": at("2026-12-01 14:00"),
        "record_visit_reminder": at("2026-12-07 14:00"),
        "record_visit_escalation": at("2026-12-14 14:00"),
    }
    old = [c for c in clock_rows(session, case.id) if c.id in first]
    assert {(c.status, c.cancelled_at) for c in old} == {("cancelled", at("2026-11-30 11:00"))}


def test_a_visit_planned_on_sunday_for_monday_gets_no_reminder_for_a_moment_gone(
    session: Session,
) -> None:
    case = planned_case(session, "2026-11-23 09:00", "2026-11-29 15:00", "2026-11-30 10:00")

    # Friday 08:00 and Saturday 10:00 have passed: only the follow-ups remain.
    assert set(pending_clocks(session, case.id)) == {
        "record_visit_reminder",
        "record_visit_escalation",
    }


def test_after_the_first_visit_the_second_must_be_planned_within_15_working_days(
    session: Session,
) -> None:
    case = walk_to(session, "visit_1")
    case = record(session, case.id, "2026-11-09 17:00", "2026-11-09 10:00")
    assert case.state == "visit_2"

    # From Monday 9 November: Wednesday 11 November (Armistice) does not count.
    assert pending_clocks(session, case.id) == {"plan_next_visit": at("2026-12-01 17:00")}

    schedule(session, case.id, "2026-11-10 09:00", "2026-11-16 10:00")
    assert set(pending_clocks(session, case.id)) == VISIT_CLOCKS


def test_after_the_second_visit_the_third_must_be_planned_too(session: Session) -> None:
    case = walk_to(session, "visit_2")
    case = record(session, case.id, "2026-11-16 17:00", "2026-11-16 10:00")

    assert case.state == "visit_3"
    assert pending_clocks(session, case.id) == {"plan_next_visit": at("2026-12-07 17:00")}


# --- warnings and the direction -------------------------------------------------------------------


def test_the_first_warning_asks_the_rgls_for_the_letter_and_an_evaluation_in_30_days(
    session: Session,
) -> None:
    case = walk_to(session, "warning_1")

    # Entered on Monday 23 November at 17:00.
    assert pending_clocks(session, case.id) == {
        "evaluation_due": at("2026-12-23 17:00"),
        "evaluation_escalation": at("2026-12-30 17:00"),
    }
    assert notifications(session, case.id) == [("warning_letter", RGLS)]
    rows = {c.name: c.recipients for c in clock_rows(session, case.id) if c.status == "pending"}
    assert rows == {"evaluation_due": ["rgls"], "evaluation_escalation": ["dgls"]}


def test_an_evaluation_due_across_the_october_dst_change_keeps_its_time_of_day(
    session: Session,
) -> None:
    case = report(session, "2026-10-05 09:00")
    for day in ("2026-10-06", "2026-10-13", "2026-10-20"):
        schedule(session, case.id, f"{day} 08:00", f"{day} 10:00")
        case = record(session, case.id, f"{day} 17:00", f"{day} 10:00")
    assert case.state == "warning_1"

    # Tuesday 20 October 17:00 summer time (15:00 UTC) + 30 days = Thursday 19 November
    # 17:00 winter time (16:00 UTC); the escalation 7 days later.
    assert pending_clocks(session, case.id) == {
        "evaluation_due": utc("2026-11-19 16:00"),
        "evaluation_escalation": utc("2026-11-26 16:00"),
    }


def test_second_warning_alerts_the_direction_and_the_rgls_and_no_one_else(
    session: Session,
) -> None:
    case = walk_to(session, "warning_1")

    case = evaluate(session, case.id, "2026-12-23 10:00")

    assert case.state == "warning_2"
    sent = notifications(session, case.id)
    alerts = [str(who) for kind, who in sent if kind == "direction_alert"]
    assert sorted(alerts) == [DGLS, "dgls-2", RGLS]
    assert notifications(session, case.id)[0] == ("warning_letter", RGLS)
    assert len(notifications(session, case.id)) == 4
    assert pending_clocks(session, case.id) == {
        "evaluation_due": at("2027-01-22 10:00"),
        "evaluation_escalation": at("2027-01-29 10:00"),
    }
    rows = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.state == "warning_1")
    ).all()
    assert {c.status for c in rows} == {"cancelled"}


def test_second_warning_alerts_the_direction_even_with_no_obstacle_noted(
    session: Session,
) -> None:
    case = report(session, "2026-11-02 09:00")
    for day in ("2026-11-09", "2026-11-16", "2026-11-23"):
        schedule(session, case.id, f"{day} 08:00", f"{day} 10:00")
        wf.fire(
            session, case.id, "record_visit", actor_id=GS, now=at(f"{day} 17:00"),
            payload={"held_at": f"{day}T10:00", "outcome": "unsatisfactory"},
        )

    case = evaluate(session, case.id, "2026-12-23 10:00")

    assert case.state == "warning_2"
    assert len([k for k, _ in notifications(session, case.id) if k == "direction_alert"]) == 3


def test_the_direction_has_10_working_days_to_decide_a_termination(session: Session) -> None:
    case = walk_to(session, "termination_review")

    # Entered on Friday 22 January 2027, 10:00.
    assert pending_clocks(session, case.id) == {"termination_decision": at("2027-02-05 10:00")}
    rows = [c for c in clock_rows(session, case.id) if c.status == "pending"]
    assert rows[0].recipients == ["dgls"]


def test_maintaining_the_resident_restarts_the_evaluation_clocks(session: Session) -> None:
    case = walk_to(session, "termination_review")

    wf.fire(
        session, case.id, "maintain", actor_id=DGLS, now=at("2027-02-01 15:00"),
        payload={"decided_at": "2027-02-01T15:00", "reason": "Suivi CCAS engagé"},
    )

    assert pending_clocks(session, case.id) == {
        "evaluation_due": at("2027-03-03 15:00"),
        "evaluation_escalation": at("2027-03-10 15:00"),
    }


def test_a_referral_keeps_the_clocks_of_the_state(session: Session) -> None:
    case = walk_to(session, "warning_1")
    before = {c.id for c in clock_rows(session, case.id) if c.status == "pending"}

    wf.fire(
        session, case.id, "refer_partner", actor_id=GS, now=at("2026-11-25 10:00"),
        payload={"partner": "seniors_info", "reason": "Isolement"},
    )

    assert {c.id for c in clock_rows(session, case.id) if c.status == "pending"} == before


# --- closing --------------------------------------------------------------------------------------


def test_a_closed_case_keeps_no_pending_clock(session: Session) -> None:
    good = walk_to(session, "visit_2")
    record(session, good.id, "2026-11-16 17:00", "2026-11-16 10:00", "satisfactory")
    gone = walk_to(session, "reported", resident="r-0003")
    wf.fire(
        session, gone.id, "withdraw", actor_id=DGLS, now=at("2026-11-03 09:00"),
        payload={"reason": "Déménagement"},
    )

    for case_id in (good.id, gone.id):
        assert pending_clocks(session, case_id) == {}
        assert all(c.cancelled_at is not None for c in clock_rows(session, case_id))
