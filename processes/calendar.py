"""Dates as the law and the staff count them: Europe/Paris, working days, months.

Store UTC, compute here. A working day is Monday to Friday except French public holidays.
Months run *de quantième à quantième*: from a date to the same date N months later, or the
last day of a shorter month.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year).keys())


def is_public_holiday(day: date) -> bool:
    return day in _french_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day)


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day` (before it when negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def next_working_day_from(day: date) -> date:
    """`day` itself if it is a working day, otherwise the next one (deadline rule)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day_from(day: date) -> date:
    """`day` itself if it is a working day, otherwise the one before (reminder rule).

    A reminder that would fall on a closed day comes earlier, never later, so that the
    person reminded still has a working day before the deadline it announces.
    """
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later; the last day of the month when it has no such day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def local(moment: datetime, tz: ZoneInfo = PARIS) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return moment.astimezone(tz)


def at_local_time(day: date, at: time, tz: ZoneInfo = PARIS) -> datetime:
    """The UTC instant of a wall-clock time on a local date (DST handled by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return moment.astimezone(UTC)


def parse_moment(text: str, tz: ZoneInfo = PARIS) -> datetime:
    """Parse an ISO date or date-time; a value without offset is local (Paris) time."""
    text = text.strip()
    if len(text) == 10:
        parsed = datetime.combine(date.fromisoformat(text), time(0, 0))
    else:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def format_local(moment: datetime | None, tz: ZoneInfo = PARIS) -> str:
    if moment is None:
        return ""
    return local(moment, tz).strftime("%d/%m/%Y %H:%M")
