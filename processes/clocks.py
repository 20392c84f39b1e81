"""Due times of clocks, from a definition, the case data and the organisation's settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from processes.calendar import (
    PARIS,
    add_months,
    add_working_days,
    at_local_time,
    format_local,
    local,
    next_working_day_from,
    parse_moment,
    previous_working_day_from,
)
from processes.definition import ClockDef, Delay
from processes.errors import Refusal


def effective_delay(clock: ClockDef, process: str, settings: Mapping[str, Any] | None) -> Delay:
    """The definition's delay, unless the organisation overrides it in its settings.

    settings: {"clocks": {"hygiene.reported_plan_first_visit": {"amount": 7}}}
    """
    key = f"{process}.{clock.name}"
    overrides = ((settings or {}).get("clocks") or {}).get(key)
    if not overrides:
        return clock.delay
    try:
        return Delay.model_validate({**clock.delay.model_dump(), **dict(overrides)})
    except (ValidationError, TypeError, ValueError):
        # Settings are checked at import; one stored before that (or edited by hand) is a
        # refusal naming the key, never a crash of every action that sets this clock.
        raise Refusal(
            f"réglage invalide organisation.settings.clocks.{key} : corrigez-le dans "
            "l'annuaire et réimportez-le"
        ) from None


def anchor_time(clock: ClockDef, entered_at: datetime, data: Mapping[str, Any]) -> datetime | None:
    if clock.anchor == "entered":
        return entered_at
    value = data.get(clock.anchor.removeprefix("data."))
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return parse_moment(str(value))


def apply_delay(anchor: datetime, delay: Delay) -> datetime:
    """Add a delay to an instant, counting in Paris time (DST and holidays included)."""
    if delay.unit == "minutes":
        return anchor + timedelta(minutes=delay.amount)
    if delay.unit == "hours":
        return anchor + timedelta(hours=delay.amount)
    moment = local(anchor, PARIS)
    if delay.unit == "days":
        day = moment.date() + timedelta(days=delay.amount)
    elif delay.unit == "working_days":
        day = add_working_days(moment.date(), delay.amount)
    else:
        day = add_months(moment.date(), delay.amount)
    if delay.next_working_day:
        day = next_working_day_from(day)
    wall = delay.at if delay.at is not None else moment.timetz().replace(tzinfo=None)
    return at_local_time(day, wall, PARIS)


def warning_on_a_working_day(clock: ClockDef, delay: Delay, due: datetime) -> datetime:
    """A staff reminder or escalation N calendar days *before* its anchor that falls on a
    weekend or public holiday comes on the previous working day, at the same time.

    Only warnings move, and only earlier: a deadline never moves earlier (a legal one moves
    to the next working day through `Delay.next_working_day`), and a warning *after* its
    anchor (an escalation once a deadline passed) must not come before the deadline. So an
    escalation "2 days before" a Monday deadline comes on the Friday, leaving a working day.
    """
    if clock.kind == "deadline" or delay.unit != "days" or delay.amount >= 0:
        return due
    if clock.recipients == ("resident",):
        # Residents are not at work: their own reminder keeps its day (hygiene.md).
        return due
    if delay.next_working_day:
        return due
    moment = local(due, PARIS)
    day = previous_working_day_from(moment.date())
    if day == moment.date():
        return due
    return at_local_time(day, moment.timetz().replace(tzinfo=None), PARIS)


def due_time(
    clock: ClockDef,
    *,
    process: str,
    entered_at: datetime,
    data: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
) -> tuple[datetime, str] | None:
    """When the clock is due and the rule, in words; None when its anchor is not set yet."""
    anchor = anchor_time(clock, entered_at, data)
    if anchor is None:
        return None
    delay = effective_delay(clock, process, settings)
    due = apply_delay(anchor, delay)
    origin = (
        "l'entrée dans l'état" if clock.anchor == "entered" else clock.anchor.removeprefix("data.")
    )
    rule = f"{clock.label} : {delay.describe(f'{origin} ({format_local(anchor)})')}"
    earlier = warning_on_a_working_day(clock, delay, due)
    if earlier != due:
        rule += f", avancé au jour ouvré précédent ({format_local(earlier)})"
        due = earlier
    why = data.get(clock.explained_by) if clock.explained_by else None
    if why:
        rule += f" ; {why}"
    return due, rule


def plan_clocks(
    clocks: tuple[ClockDef, ...],
    *,
    process: str,
    entered_at: datetime,
    data: Mapping[str, Any],
    now: datetime,
    settings: Mapping[str, Any] | None = None,
) -> list[tuple[ClockDef, datetime, str]]:
    """The clocks to create, with due time and rule: the engine's rule, and a migration's plan."""
    planned = []
    for clock in clocks:
        if clock.when is not None and not clock.when(data):
            continue
        computed = due_time(
            clock, process=process, entered_at=entered_at, data=data, settings=settings
        )
        if computed is None:
            continue
        due, rule = computed
        if clock.kind == "reminder" and due < now:
            # A reminder for a moment already gone would only be noise.
            continue
        planned.append((clock, due, rule))
    return planned
