"""Dates as staff and the law count them: Paris time, working days without French public
holidays, months from date to date, DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from conftest import at

from processes.calendar import (
    add_months,
    add_working_days,
    at_local_time,
    format_local,
    is_public_holiday,
    is_working_day,
    local,
    next_working_day_from,
    parse_moment,
    previous_working_day_from,
    to_utc,
)
from processes.clocks import apply_delay, plan_clocks
from processes.definition import ClockDef, Delay


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 11),  # Armistice
        date(2026, 12, 25),  # Noël
        date(2027, 1, 1),  # Jour de l'an
        date(2027, 3, 29),  # Lundi de Pâques
        date(2027, 5, 1),  # Fête du travail
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 8),  # Victoire 1945
        date(2027, 5, 17),  # Lundi de Pentecôte
        date(2027, 7, 14),  # Fête nationale
        date(2027, 8, 15),  # Assomption
    ],
)
def test_french_public_holidays_are_not_working_days(day: date) -> None:
    assert is_public_holiday(day)
    assert not is_working_day(day)


def test_weekends_are_not_working_days_and_an_ordinary_monday_is() -> None:
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert is_working_day(date(2026, 11, 30))
    assert not is_public_holiday(date(2026, 11, 30))


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Monday 23 November + 5 = Monday 30 November (one weekend).
        (date(2026, 11, 23), 5, date(2026, 11, 30)),
        # Friday + 1 = Monday.
        (date(2026, 11, 27), 1, date(2026, 11, 30)),
        # From a Saturday, the first working day is Monday.
        (date(2026, 11, 28), 1, date(2026, 11, 30)),
        # Tuesday 10 November + 1 skips Armistice (Wednesday 11).
        (date(2026, 11, 10), 1, date(2026, 11, 12)),
        # Thursday 24 December + 1 skips Christmas and the weekend.
        (date(2026, 12, 24), 1, date(2026, 12, 28)),
        # Thursday 31 December + 1 skips New Year's Day and the weekend.
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        # Friday 26 March 2027 + 1 skips the weekend and Easter Monday.
        (date(2027, 3, 26), 1, date(2027, 3, 30)),
        # Backwards: 1 working day before Tuesday 30 March 2027 is Friday 26 March.
        (date(2027, 3, 30), -1, date(2027, 3, 26)),
        # 1 working day before Monday 28 December 2026 is Thursday 24 December.
        (date(2026, 12, 28), -1, date(2026, 12, 24)),
        (date(2026, 11, 23), 0, date(2026, 11, 23)),
    ],
)
def test_working_days_are_counted_over_weekends_and_holidays(
    start: date, count: int, expected: date
) -> None:
    assert add_working_days(start, count) == expected


def test_a_deadline_on_a_holiday_moves_to_the_next_working_day() -> None:
    assert next_working_day_from(date(2026, 12, 25)) == date(2026, 12, 28)
    assert next_working_day_from(date(2027, 5, 1)) == date(2027, 5, 3)  # a Saturday anyway
    assert next_working_day_from(date(2026, 11, 30)) == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 11, 23), 1, date(2026, 12, 23)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # no 30 February: the last day
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 12, 15), 2, date(2027, 2, 15)),  # across the year
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
    ],
)
def test_months_run_from_date_to_date(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_eight_in_the_morning_in_paris_is_7_utc_in_winter_and_6_in_summer() -> None:
    assert at_local_time(date(2026, 10, 23), time(8, 0)) == utc("2026-10-23 06:00")
    # Clocks go back on Sunday 25 October 2026 and forward on Sunday 28 March 2027.
    assert at_local_time(date(2026, 10, 26), time(8, 0)) == utc("2026-10-26 07:00")
    assert at_local_time(date(2027, 3, 26), time(8, 0)) == utc("2027-03-26 07:00")
    assert at_local_time(date(2027, 3, 29), time(8, 0)) == utc("2027-03-29 06:00")


def test_a_date_time_typed_without_offset_is_paris_time() -> None:
    assert parse_moment("2026-11-30T10:00") == utc("2026-11-30 09:00")
    assert parse_moment("2027-07-14T10:00") == utc("2027-07-14 08:00")
    assert parse_moment("2026-11-30") == utc("2026-11-29 23:00")
    assert parse_moment("2026-11-30T10:00Z") == utc("2026-11-30 10:00")
    assert parse_moment("2026-11-30T10:00+01:00") == utc("2026-11-30 09:00")
    assert at("2026-11-30 10:00") == utc("2026-11-30 09:00")


def test_a_moment_is_shown_in_paris_time() -> None:
    assert format_local(utc("2026-11-30 09:00")) == "30/11/2026 10:00"
    assert format_local(utc("2027-07-14 08:00")) == "14/07/2027 10:00"
    assert format_local(None) == ""
    assert local(utc("2026-10-25 01:30")).hour == 2  # 02:30 winter time, after the change


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        to_utc(datetime(2026, 11, 30, 10, 0))
    with pytest.raises(ValueError, match="naive datetime"):
        local(datetime(2026, 11, 30, 10, 0))


def test_days_keep_the_time_of_day_across_the_dst_change_and_hours_do_not() -> None:
    # Saturday 24 October 2026 10:00 summer time (08:00 UTC).
    saturday = utc("2026-10-24 08:00")

    assert apply_delay(saturday, Delay(amount=2, unit="days")) == utc("2026-10-26 09:00")
    assert apply_delay(saturday, Delay(amount=48, unit="hours")) == utc("2026-10-26 08:00")
    assert apply_delay(saturday, Delay(amount=90, unit="minutes")) == utc("2026-10-24 09:30")


def test_working_days_and_months_as_clock_delays() -> None:
    # Friday 18 December 2026, 10:00: 5 working days later skips Christmas.
    friday = at("2026-12-18 10:00")
    assert apply_delay(friday, Delay(amount=5, unit="working_days")) == at("2026-12-28 10:00")
    assert apply_delay(friday, Delay(amount=-1, unit="working_days", at=time(8, 0))) == at(
        "2026-12-17 08:00"
    )
    # 1 month from Saturday 31 October 2026 is Monday 30 November (no 31 November).
    assert apply_delay(at("2026-10-31 09:00"), Delay(amount=1, unit="months")) == at(
        "2026-11-30 09:00"
    )
    # A legal deadline ending on Christmas Day moves to Monday 28 December.
    assert apply_delay(
        at("2026-11-25 12:00"), Delay(amount=1, unit="months", next_working_day=True)
    ) == at("2026-12-28 12:00")


# --- Reminders before a deadline come on a working day (issue 13) -----------------------------


def _warning(kind: str, days: int, recipients: tuple[str, ...] = ("juriste",)) -> ClockDef:
    return ClockDef(
        name=f"test_{kind}",
        kind=kind,  # type: ignore[arg-type]
        label="Échéance",
        anchor="data.due",
        delay=Delay(amount=days, unit="days", at=time(8, 0)),
        template="resident_visit_reminder" if recipients == ("resident",) else "asylum_appeal",
        recipients=recipients,
    )


def _planned(clock: ClockDef, due_day: str) -> datetime:
    [(_, when, rule)] = plan_clocks(
        (clock,),
        process="asylum",
        entered_at=at("2027-01-04 10:00"),
        data={"due": due_day},
        now=at("2027-01-04 10:00"),
    )
    return when


def test_a_reminder_falling_on_a_saturday_comes_on_the_friday_before() -> None:
    # Monday 17 May 2027 (Whit Monday), deadline on Tuesday 25 May: 10 days before is
    # Saturday 15 May, so Friday 14 May at 08:00.
    assert _planned(_warning("reminder", -10), "2027-05-25") == at("2027-05-14 08:00")


def test_a_reminder_falling_on_a_public_holiday_comes_on_the_working_day_before() -> None:
    # Deadline Monday 24 May 2027: 7 days before is Whit Monday 17 May, so Friday 14 May.
    assert _planned(_warning("reminder", -7), "2027-05-24") == at("2027-05-14 08:00")


def test_an_escalation_two_days_before_a_monday_deadline_leaves_a_working_day() -> None:
    # Deadline Monday 5 April 2027: two days before is Saturday 3 April; the head hears on
    # Friday 2 April, with Friday itself to act.
    due = _planned(_warning("escalation", -2, ("cada_manager",)), "2027-04-05")
    assert due == at("2027-04-02 08:00")
    assert is_working_day(local(due).date())


def test_a_reminder_after_a_deadline_or_to_a_resident_keeps_its_day() -> None:
    # After a deadline, a warning never comes before it: Saturday stays Saturday.
    assert _planned(_warning("escalation", 1), "2027-04-02") == at("2027-04-03 08:00")
    # A resident's own reminder is not moved to a working day.
    resident = _warning("reminder", -2, ("resident",))
    assert _planned(resident, "2027-04-05") == at("2027-04-03 08:00")


def test_a_deadline_never_moves_earlier_and_a_closed_last_day_moves_later() -> None:
    deadline = ClockDef(
        name="test_deadline",
        kind="deadline",
        label="Échéance",
        anchor="data.due",
        delay=Delay(amount=0, unit="days", at=time(8, 0), next_working_day=True),
        action="fire",
        trigger="appeal_deadline_passed",
    )
    # Saturday 3 April 2027: the deadline moves to Monday 5 April, never to Friday.
    assert _planned(deadline, "2027-04-03") == at("2027-04-05 08:00")
    assert previous_working_day_from(date(2027, 4, 3)) == date(2027, 4, 2)
