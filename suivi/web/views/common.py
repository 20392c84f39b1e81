"""What every page says the same way: dates in Paris time, labels from the definitions."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

from models.cases import Case, Clock
from processes import registry
from processes.calendar import local
from processes.definition import ClockDef, ProcessDefinition
from suivi.web.views.words import FIELDS, english, label_of

DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


def definition_of(case: Case) -> ProcessDefinition:
    return registry.get(case.process, case.process_version).definition


def state_label(case: Case) -> str:
    return label_of(definition_of(case).state(case.state))


def when(moment: datetime | None) -> str:
    """`30/11/2026 10:00`, Paris time."""
    return local(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def day_text(moment: datetime) -> str:
    """`lundi 30 novembre`, Paris time."""
    here = local(moment)
    if english():
        return here.strftime("%A %-d %B")
    return f"{DAYS_FR[here.weekday()]} {here.day} {MONTHS_FR[here.month - 1]}"


def clock_def(definition: ProcessDefinition, name: str, state: str) -> ClockDef | None:
    """A clock's definition: the one of its state first (two states may share a name)."""
    for st in definition.states:
        if st.id == state:
            for c in st.clocks:
                if c.name == name:
                    return c
    return next((c for c in definition.all_clocks() if c.name == name), None)


def clock_label(definition: ProcessDefinition, clock: Clock) -> str:
    return clock_label_of(definition, clock.name, clock.state, clock.rule)


def clock_label_of(definition: ProcessDefinition, name: str, state: str, rule: str) -> str:
    known = clock_def(definition, name, state)
    if english():
        return name.replace("_", " ").capitalize()
    if known is not None:
        return known.label
    return rule.split(" : ", 1)[0] or name.replace("_", " ")


@cache
def _field_pattern() -> re.Pattern[str]:
    names = sorted(FIELDS, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(n) for n in names if "_" in n) + r")\b")


def rule_text(rule: str) -> str:
    """A clock's stored rule with the case-data keys it names in words
    (`2 jours ouvrés après visit_at` → `… après « Date et heure de la visite »`)."""
    return _field_pattern().sub(lambda m: f"« {FIELDS[m.group(1)].lower()} »", rule)
