"""Processus amélioration entretien logement: the three-visit hygiene escalation.

Reads like the paper diagram (shared/processes/hygiene.md):

    reported ─schedule_visit─► visit_1 ─► visit_2 ─► visit_3 ─► warning_1 ─► warning_2
        ─► termination_review ─(dgls)─► terminated        maintain (dgls) ─► warning_2
    each visit or evaluation: satisfactory ─► good_upkeep   entering warning_2: direction alerted
    any open state ─withdraw─► withdrawn
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Annotated, Literal

from processes.calendar import format_local, parse_moment
from processes.context import FireContext
from processes.definition import (
    ClockDef,
    Delay,
    Notice,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.fields import Choices, Code, FreeText, Moment, OptionalText, Payload

VISITS = ("visit_1", "visit_2", "visit_3")
WARNINGS = ("warning_1", "warning_2")
OPEN_STATES = ("reported", *VISITS, *WARNINGS, "termination_review")
FIELD_STAFF = ("gs", "rgls")


# --- Payloads ---------------------------------------------------------------------------

Outcome = Annotated[
    Literal["satisfactory", "unsatisfactory"],
    Choices(satisfactory="satisfaisante", unsatisfactory="insatisfaisante"),
]


class OpenCase(Payload):
    dwelling: Code | None = None
    observed_at: Moment
    description: FreeText


class ScheduleVisit(Payload):
    visit_at: Moment
    mode: Annotated[
        Literal["office", "home"], Choices(office="au bureau", home="à domicile")
    ] = "home"


class RecordVisit(Payload):
    held_at: Moment
    outcome: Outcome
    obstacles: OptionalText = None
    actions: OptionalText = None
    cleaning_kit: bool = False
    notes: OptionalText = None


class RecordEvaluation(Payload):
    held_at: Moment
    outcome: Outcome
    notes: OptionalText = None


class DecideTermination(Payload):
    decided_at: Moment
    grounds: FreeText


class Maintain(Payload):
    decided_at: Moment
    reason: FreeText


class ReferPartner(Payload):
    partner: Annotated[
        Literal["ccas", "seniors_info", "guardian", "other"],
        Choices(ccas="CCAS", seniors_info="Seniors info", guardian="tuteur", other="autre"),
    ]
    reason: FreeText


class Withdraw(Payload):
    reason: FreeText


# --- Guards: each returns the refusal, in French, or None ---------------------------------


def not_in_future(field: str, what: str) -> Callable[[FireContext], str | None]:
    """A guard refusing a date of the payload that lies after `now`."""

    def guard(ctx: FireContext) -> str | None:
        moment: datetime = getattr(ctx.payload, field)
        if moment > ctx.now:
            return f"{what} ne peut pas être dans le futur ({format_local(moment)})"
        return None

    return guard


observed_not_in_future = not_in_future("observed_at", "le constat")


def visit_not_in_past(ctx: FireContext) -> str | None:
    visit_at: datetime = ctx.payload.visit_at  # type: ignore[attr-defined]
    if visit_at < ctx.now:
        return f"la visite ne peut pas être planifiée dans le passé ({format_local(visit_at)})"
    return None


def visit_is_planned(ctx: FireContext) -> str | None:
    if not ctx.data.get("visit_at"):
        return "aucune visite n'est planifiée : planifiez-la d'abord (schedule_visit)"
    return None


def held_after_planning(ctx: FireContext) -> str | None:
    held_at: datetime = ctx.payload.held_at  # type: ignore[attr-defined]
    planned_at = ctx.data.get("visit_planned_at")
    if planned_at and held_at < parse_moment(planned_at):
        return (
            f"la visite ne peut pas avoir eu lieu ({format_local(held_at)}) avant d'avoir été "
            f"planifiée ({format_local(parse_moment(planned_at))})"
        )
    if held_at > ctx.now:
        return f"la visite ne peut pas être enregistrée dans le futur ({format_local(held_at)})"
    return None


evaluation_not_in_future = not_in_future("held_at", "l'évaluation")


decision_not_in_future = not_in_future("decided_at", "la décision")


# --- Effects on the case data -------------------------------------------------------------


def remember_report(ctx: FireContext) -> None:
    ctx.data["observed_at"] = ctx.payload.observed_at.isoformat()  # type: ignore[attr-defined]
    ctx.data["visits"] = []


def plan_visit(ctx: FireContext) -> None:
    number = len(ctx.data.get("visits", [])) + 1
    ctx.data.update(
        visit_number=number,
        visit_at=ctx.payload.visit_at.isoformat(),  # type: ignore[attr-defined]
        visit_mode=ctx.payload.mode,  # type: ignore[attr-defined]
        visit_planned_by=ctx.actor_id,
        visit_planned_at=ctx.now.isoformat(),
    )


def record_visit(ctx: FireContext) -> None:
    held = ctx.payload.model_dump(mode="json", exclude_none=True)
    held.update(
        number=ctx.data.get("visit_number"),
        planned_for=ctx.data.get("visit_at"),
        mode=ctx.data.get("visit_mode"),
        recorded_by=ctx.actor_id,
    )
    ctx.data.setdefault("visits", []).append(held)
    for key in ("visit_number", "visit_at", "visit_mode", "visit_planned_by", "visit_planned_at"):
        ctx.data.pop(key, None)


def record_evaluation(ctx: FireContext) -> None:
    entry = ctx.payload.model_dump(mode="json", exclude_none=True)
    entry.update(warning=ctx.state, recorded_by=ctx.actor_id)
    ctx.data.setdefault("evaluations", []).append(entry)


def record_referral(ctx: FireContext) -> None:
    entry = ctx.payload.model_dump(mode="json")
    entry.update(at=ctx.now.isoformat(), by=ctx.actor_id)
    ctx.data.setdefault("referrals", []).append(entry)


def record_decision(ctx: FireContext) -> None:
    entry = ctx.payload.model_dump(mode="json")
    entry.update(trigger=ctx.trigger, by=ctx.actor_id)
    ctx.data.setdefault("decisions", []).append(entry)


def satisfactory(ctx: FireContext) -> bool:
    return bool(ctx.payload.outcome == "satisfactory")  # type: ignore[attr-defined]


def unsatisfactory(ctx: FireContext) -> bool:
    return not satisfactory(ctx)


def no_visit_planned(data: object) -> bool:
    return not (isinstance(data, dict) and data.get("visit_at"))


def visit_planned(data: object) -> bool:
    return not no_visit_planned(data)


# --- Clocks (defaults; an organisation overrides `hygiene.<name>` in its settings) --------

EIGHT = time(8, 0)

VISIT_CLOCKS = (
    ClockDef(
        name="visit_reminder",
        kind="reminder",
        label="Rappel de visite",
        anchor="data.visit_at",
        delay=Delay(amount=-1, unit="working_days", at=EIGHT),
        template="visit_reminder",
        recipients=("planner",),
        when=visit_planned,
    ),
    ClockDef(
        name="resident_visit_reminder",
        kind="reminder",
        label="Rappel de visite au résident",
        anchor="data.visit_at",
        delay=Delay(amount=-2, unit="days"),
        template="resident_visit_reminder",
        recipients=("resident",),
        when=visit_planned,
    ),
    ClockDef(
        name="record_visit_reminder",
        kind="reminder",
        label="Saisir le compte rendu de visite",
        anchor="data.visit_at",
        delay=Delay(amount=2, unit="working_days"),
        template="record_visit_reminder",
        recipients=("gs",),
        when=visit_planned,
    ),
    ClockDef(
        name="record_visit_escalation",
        kind="escalation",
        label="Compte rendu de visite non saisi",
        anchor="data.visit_at",
        delay=Delay(amount=7, unit="working_days"),
        template="record_visit_escalation",
        recipients=("rgls",),
        when=visit_planned,
    ),
)
PLAN_NEXT_VISIT = ClockDef(
    name="plan_next_visit",
    kind="reminder",
    label="Planifier la visite suivante",
    delay=Delay(amount=15, unit="working_days"),
    template="plan_next_visit",
    recipients=("gs",),
    when=no_visit_planned,
)


def evaluation_clocks() -> tuple[ClockDef, ...]:
    return (
        ClockDef(
            name="evaluation_due",
            kind="reminder",
            label="Évaluation à réaliser",
            delay=Delay(amount=30, unit="days"),
            template="evaluation_overdue",
            recipients=("rgls",),
        ),
        ClockDef(
            name="evaluation_escalation",
            kind="escalation",
            label="Évaluation non réalisée",
            delay=Delay(amount=37, unit="days"),
            template="evaluation_escalation",
            recipients=("dgls",),
        ),
    )


# --- The process ----------------------------------------------------------------------------

DIRECTION_ALERT = Notice(template="direction_alert", recipients=("dgls", "rgls"))
WARNING_LETTER = Notice(template="warning_letter", recipients=("rgls",))


def definition(version: int = 1, evaluation_days: int = 30) -> ProcessDefinition:
    evaluations = evaluation_clocks()
    if evaluation_days != 30:
        evaluations = tuple(
            c.model_copy(
                update={
                    "delay": c.delay.model_copy(
                        update={"amount": evaluation_days + (c.delay.amount - 30)}
                    )
                }
            )
            for c in evaluations
        )
    return ProcessDefinition(
        name="hygiene",
        version=version,
        label="Amélioration de l'entretien du logement",
        label_en="Housing upkeep improvement",
        initial="reported",
        site_kinds=("residence", "cada", "traveller_site"),
        states=(
            StateDef(
                id="reported",
                label="Manquement à l'hygiène constaté",
                label_en="Hygiene breach reported",
                clocks=(
                    ClockDef(
                        name="plan_first_visit",
                        kind="reminder",
                        label="Planifier la 1re visite",
                        delay=Delay(amount=5, unit="working_days"),
                        template="plan_first_visit",
                        recipients=("gs",),
                    ),
                    ClockDef(
                        name="first_visit_escalation",
                        kind="escalation",
                        label="1re visite toujours pas planifiée",
                        delay=Delay(amount=10, unit="working_days"),
                        template="first_visit_escalation",
                        recipients=("rgls",),
                    ),
                ),
            ),
            StateDef(id="visit_1", label="1re visite", label_en="First visit", clocks=VISIT_CLOCKS),
            StateDef(
                id="visit_2",
                label="2e visite",
                label_en="Second visit",
                clocks=(*VISIT_CLOCKS, PLAN_NEXT_VISIT),
            ),
            StateDef(
                id="visit_3",
                label="3e visite",
                label_en="Third visit",
                clocks=(*VISIT_CLOCKS, PLAN_NEXT_VISIT),
            ),
            StateDef(
                id="warning_1",
                label="1er avertissement",
                label_en="First warning",
                clocks=evaluations,
            ),
            StateDef(
                id="warning_2",
                label="2e avertissement",
                label_en="Second warning",
                clocks=evaluations,
            ),
            StateDef(
                id="termination_review",
                label="Résiliation à l'étude",
                label_en="Termination under review",
                clocks=(
                    ClockDef(
                        name="termination_decision",
                        kind="reminder",
                        label="Décision de résiliation à prendre",
                        delay=Delay(amount=10, unit="working_days"),
                        template="termination_decision_reminder",
                        recipients=("dgls",),
                    ),
                ),
            ),
            StateDef(
                id="good_upkeep",
                label="Bonne tenue du logement",
                label_en="Home kept properly",
                final=True,
            ),
            StateDef(id="terminated", label="Résiliation", label_en="Terminated", final=True),
            StateDef(
                id="withdrawn",
                label="Clôturé sans suite",
                label_en="Closed without action",
                final=True,
            ),
        ),
        triggers=(
            TriggerDef(
                name="open",
                label="Signaler un manquement",
                label_en="Report a breach",
                roles=("agent", "gs", "rgls"),
                payload=OpenCase,
                guards=(observed_not_in_future,),
                effect=remember_report,
            ),
            TriggerDef(
                name="schedule_visit",
                label="Planifier la visite",
                label_en="Schedule the visit",
                roles=FIELD_STAFF,
                payload=ScheduleVisit,
                guards=(visit_not_in_past,),
                effect=plan_visit,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_visit",
                label="Enregistrer la visite",
                label_en="Record the visit",
                roles=FIELD_STAFF,
                payload=RecordVisit,
                guards=(visit_is_planned, held_after_planning),
                effect=record_visit,
            ),
            TriggerDef(
                name="record_evaluation",
                label="Enregistrer l'évaluation",
                label_en="Record the evaluation",
                roles=("rgls",),
                payload=RecordEvaluation,
                guards=(evaluation_not_in_future,),
                effect=record_evaluation,
            ),
            TriggerDef(
                name="decide_termination",
                label="Décider la résiliation",
                label_en="Decide termination",
                roles=("dgls",),
                payload=DecideTermination,
                guards=(decision_not_in_future,),
                effect=record_decision,
            ),
            TriggerDef(
                name="maintain",
                label="Maintenir (nouvelle chance)",
                label_en="Maintain (one more chance)",
                roles=("dgls",),
                payload=Maintain,
                guards=(decision_not_in_future,),
                effect=record_decision,
            ),
            TriggerDef(
                name="refer_partner",
                label="Orienter vers un partenaire",
                label_en="Refer to a partner",
                roles=FIELD_STAFF,
                payload=ReferPartner,
                effect=record_referral,
            ),
            TriggerDef(
                name="withdraw",
                label="Clôturer sans suite",
                label_en="Close without action",
                roles=("rgls", "dgls"),
                payload=Withdraw,
            ),
        ),
        transitions=(
            TransitionDef(trigger="schedule_visit", sources="reported", dest="visit_1"),
            TransitionDef(trigger="schedule_visit", sources=VISITS, dest="="),
            *visit_outcomes(),
            TransitionDef(
                trigger="record_evaluation",
                sources=WARNINGS,
                dest="good_upkeep",
                when=satisfactory,
                when_label="satisfaisante",
            ),
            TransitionDef(
                trigger="record_evaluation",
                sources="warning_1",
                dest="warning_2",
                when=unsatisfactory,
                when_label="insatisfaisante",
                notify=(DIRECTION_ALERT,),
            ),
            TransitionDef(
                trigger="record_evaluation",
                sources="warning_2",
                dest="termination_review",
                when=unsatisfactory,
                when_label="insatisfaisante",
            ),
            TransitionDef(
                trigger="decide_termination", sources="termination_review", dest="terminated"
            ),
            TransitionDef(trigger="maintain", sources="termination_review", dest="warning_2"),
            TransitionDef(trigger="refer_partner", sources=(*VISITS[1:], *WARNINGS), dest="="),
            TransitionDef(trigger="withdraw", sources=OPEN_STATES, dest="withdrawn"),
        ),
    )


def visit_outcomes() -> list[TransitionDef]:
    following = {"visit_1": "visit_2", "visit_2": "visit_3", "visit_3": "warning_1"}
    result = []
    for visit, after in following.items():
        result.append(
            TransitionDef(
                trigger="record_visit",
                sources=visit,
                dest="good_upkeep",
                when=satisfactory,
                when_label="satisfaisante",
            )
        )
        result.append(
            TransitionDef(
                trigger="record_visit",
                sources=visit,
                dest=after,
                when=unsatisfactory,
                when_label="insatisfaisante",
                notify=(WARNING_LETTER,) if after == "warning_1" else (),
            )
        )
    return result


HYGIENE = definition()
DEFINITIONS = [HYGIENE]
