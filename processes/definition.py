"""What a process is: states, triggers, transitions and clocks, as validated data.

A definition is declared once (see `hygiene.py`), validated when it is loaded (a mistake
fails at import with a message naming the state or trigger), and compiled by `machine.py`
into one `transitions` machine shared by every case of that version.

Rules that need code (a guard that compares dates, the effect of a trigger on the case data)
are plain functions of a `FireContext`; everything else is data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Unit = Literal["minutes", "hours", "days", "working_days", "months"]
ClockKind = Literal["reminder", "escalation", "deadline"]

# Functions of a `processes.context.FireContext` (typed Any here: the context imports us).
Guard = Callable[[Any], "str | None"]
Effect = Callable[[Any], None]
Condition = Callable[[Any], bool]
DataCondition = Callable[[Mapping[str, Any]], bool]

UNIT_LABELS_FR = {
    "minutes": "minutes",
    "hours": "heures",
    "days": "jours",
    "working_days": "jours ouvrés",
    "months": "mois",
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Delay(Frozen):
    """An offset from an anchor: `amount` units after it (before it when negative)."""

    amount: int
    unit: Unit
    at: time | None = None
    """Local (Paris) time of day to fix after the date is computed, e.g. 08:00."""
    next_working_day: bool = False
    """A legal deadline that ends on a weekend or holiday moves to the next working day."""

    def describe(self, origin: str = "") -> str:
        """In words, e.g. `1 jour ouvré avant visit_at, à 08:00`."""
        count = abs(self.amount)
        unit = UNIT_LABELS_FR[self.unit]
        if count == 1 and self.unit != "months":
            unit = {"jours ouvrés": "jour ouvré", "jours": "jour", "heures": "heure"}.get(
                unit, unit.rstrip("s")
            )
        direction = "avant" if self.amount < 0 else "après"
        text = f"{count} {unit} {direction}" if self.amount else "le jour même de"
        if origin:
            text += f" {origin}"
        if self.at is not None:
            text += f", à {self.at.strftime('%H:%M')}"
        if self.next_working_day:
            text += ", reporté au jour ouvré suivant si besoin"
        return text


def check_resident_wording(owner: str, template: str | None, recipients: tuple[str, ...]) -> None:
    """A resident reads their own wording: no staff link, no word of the breach itself.

    So a message to the resident has a `resident_*` template and no staff beside them.
    """
    if "resident" not in recipients:
        return
    if recipients != ("resident",) or not (template or "").startswith("resident_"):
        raise ValueError(
            f"{owner}: a message to the resident needs its own `resident_*` template and "
            f"no other recipient (got {template!r} for {', '.join(recipients)})"
        )


class Notice(Frozen):
    """A message sent at once when a state is entered or a trigger fires."""

    template: str
    recipients: tuple[str, ...]
    """Roles (`gs`, `dgls`, ...) or `actor`, `planner`, `resident`."""
    when: DataCondition | None = None
    """Sent only when this holds of the case data (as for clocks)."""

    @model_validator(mode="after")
    def _resident_wording(self) -> Notice:
        check_resident_wording(f"notice {self.template!r}", self.template, self.recipients)
        return self


class ClockDef(Frozen):
    name: str
    kind: ClockKind
    label: str
    """What happens, in French, as staff read it in `case show`."""
    delay: Delay
    anchor: str = "entered"
    """`entered` (when the state was entered) or `data.<key>` (a date-time in the case data)."""
    action: Literal["notify", "fire"] = "notify"
    template: str | None = None
    trigger: str | None = None
    recipients: tuple[str, ...] = ()
    when: DataCondition | None = None
    """Created only when this holds of the case data (e.g. only when a visit is planned)."""
    explained_by: str | None = None
    """A case-data key holding the rule of law that set the anchor date (asylum deadlines):
    added to the clock's stored rule, so that a later reader sees why it is due then."""

    @model_validator(mode="after")
    def _action_has_target(self) -> ClockDef:
        if self.action == "notify" and not (self.template and self.recipients):
            raise ValueError(f"clock {self.name!r}: a notify clock needs a template and recipients")
        if self.action == "fire" and not self.trigger:
            raise ValueError(f"clock {self.name!r}: a fire clock needs a trigger")
        if not (self.anchor == "entered" or self.anchor.startswith("data.")):
            raise ValueError(f"clock {self.name!r}: anchor must be 'entered' or 'data.<key>'")
        check_resident_wording(f"clock {self.name!r}", self.template, self.recipients)
        return self


class StateDef(Frozen):
    id: str
    label: str
    """French label, what staff read."""
    label_en: str
    final: bool = False
    clocks: tuple[ClockDef, ...] = ()
    on_enter: tuple[Notice, ...] = ()


class TriggerDef(Frozen):
    name: str
    label: str
    label_en: str
    roles: tuple[str, ...]
    payload: type[BaseModel]
    guards: tuple[Guard, ...] = ()
    effect: Effect | None = None
    replan_clocks: bool = False
    """A trigger that stays in its state but moves its dates (re-planning a visit)."""
    case_clocks: tuple[ClockDef, ...] = ()
    """Clocks that run beside the states (an attestation's expiry): they replace pending clocks
    of the same name and are cancelled only when the case closes."""
    notify: tuple[Notice, ...] = ()


class TransitionDef(Frozen):
    trigger: str
    sources: tuple[str, ...]
    dest: str
    """A state id, or `=` to stay in the source state."""
    when: Condition | None = None
    when_label: str | None = None
    """How the diagram names the condition (e.g. `outcome = satisfactory`)."""
    notify: tuple[Notice, ...] = ()
    """Messages this very transition causes (the direction's alert on the second warning)."""

    @field_validator("sources", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class ProcessDefinition(Frozen):
    name: str
    version: int = Field(ge=1)
    label: str
    label_en: str
    initial: str
    open_trigger: str = "open"
    site_kinds: tuple[str, ...] = ("residence", "cada", "traveller_site")
    sensitive: bool = False
    """Sensitive processes (asylum) never reach landlords or third-party channels in detail."""
    states: tuple[StateDef, ...]
    triggers: tuple[TriggerDef, ...]
    transitions: tuple[TransitionDef, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ProcessDefinition:
        problems: list[str] = []
        state_ids = [s.id for s in self.states]
        trigger_names = [t.name for t in self.triggers]
        for ids, what in ((state_ids, "state"), (trigger_names, "trigger")):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"duplicate {what}(s): {', '.join(dupes)}")
        states = set(state_ids)
        triggers = set(trigger_names)
        if self.initial not in states:
            problems.append(f"initial state {self.initial!r} is not a state")
        if self.open_trigger not in triggers:
            problems.append(f"open trigger {self.open_trigger!r} is not a trigger")
        for tr in self.transitions:
            if tr.trigger not in triggers:
                problems.append(f"transition uses unknown trigger {tr.trigger!r}")
            for source in tr.sources:
                if source not in states:
                    problems.append(f"trigger {tr.trigger!r}: unknown source state {source!r}")
                elif self.state(source).final:
                    problems.append(f"trigger {tr.trigger!r} leaves final state {source!r}")
            if tr.dest != "=" and tr.dest not in states:
                problems.append(f"trigger {tr.trigger!r}: unknown destination {tr.dest!r}")
        for st in self.states:
            for clock in st.clocks:
                if clock.action == "fire" and clock.trigger not in triggers:
                    problems.append(
                        f"state {st.id!r}, clock {clock.name!r}: unknown trigger {clock.trigger!r}"
                    )
        used = {tr.trigger for tr in self.transitions} | {self.open_trigger}
        for name in sorted(triggers - used):
            problems.append(f"trigger {name!r} is in no transition")
        if problems:
            raise ValueError(f"process {self.name!r} v{self.version}: " + "; ".join(problems))
        return self

    def state(self, state_id: str) -> StateDef:
        for st in self.states:
            if st.id == state_id:
                return st
        raise KeyError(state_id)

    def trigger(self, name: str) -> TriggerDef:
        for tr in self.triggers:
            if tr.name == name:
                return tr
        raise KeyError(name)

    def open_states(self) -> list[str]:
        return [s.id for s in self.states if not s.final]

    def all_clocks(self) -> list[ClockDef]:
        clocks = [c for s in self.states for c in s.clocks]
        clocks += [c for t in self.triggers for c in t.case_clocks]
        return clocks
