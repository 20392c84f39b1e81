"""Processus impayés: unpaid rent in a social residence (logement-foyer).

Reads like the paper diagram (shared/processes/arrears.md):

    detected ─► reminded ─► interview ─► repayment_plan ─► cleared
                   │            │              │ missed instalment ─► plan_breached
                   │            │              │      ─► repayment_plan (renegotiated) | notice
                   └────────────┴──────────────┴──► formal_notice ─► termination_review
                                       ─(dgls)─► terminated ─► eviction_procedure
    any open state ── paid in full ─► cleared        any open state ── withdraw ─► withdrawn

Data on the case (money as exact decimal strings): monthly_amount, balance, unpaid_months
(`YYYY-MM` wholly unpaid), payments [{paid_at, amount, month?}], plan [{due_on, amount}].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from processes.arrears_rules import (
    NOTICE,
    euros,
    in_winter_truce,
    notice_refusal,
    threshold_grounds,
    threshold_refusal,
)
from processes.calendar import PARIS, add_months, at_local_time, format_local, local, parse_moment
from processes.context import FireContext, log_step
from processes.definition import (
    ClockDef,
    Delay,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.fields import (
    Choices,
    Code,
    Empty,
    FreeText,
    Moment,
    Money,
    OptionalText,
    Payload,
)

OPEN_STATES = (
    "detected",
    "reminded",
    "interview",
    "repayment_plan",
    "plan_breached",
    "formal_notice",
    "termination_review",
    "terminated",
    "eviction_procedure",
)
FIELD_STAFF = ("gs", "rgls")
MAX_INSTALMENTS = 36
"""A plan longer than three years is not a plan; each instalment has its own check clock."""
CHECK_AFTER_DAYS = 5
EIGHT = time(8, 0)
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


# --- Payloads ---------------------------------------------------------------------------


class OpenCase(Payload):
    dwelling: Code | None = None
    monthly_amount: Money = Field(gt=0)
    """Fee plus charges (redevance), the yardstick of the legal threshold."""
    unpaid_months: list[Code] = Field(min_length=1)
    balance: Money | None = None
    """The debt; by default the monthly amount times the unpaid months."""
    part_payments: bool = False
    """The resident has paid part of what was due (CCH R633-3 II a): only then may a debt
    of twice the monthly amount open a termination. A balance below the unpaid months'
    total says so too."""

    @field_validator("unpaid_months")
    @classmethod
    def _months(cls, months: list[str]) -> list[str]:
        import re

        for month in months:
            if not re.match(MONTH_PATTERN, month):
                raise ValueError(f"mois attendu au format AAAA-MM : « {month} »")
        return sorted(set(months))


class RecordPayment(Payload):
    amount: Money = Field(gt=0)
    paid_at: Moment
    month: Code | None = Field(default=None, pattern=MONTH_PATTERN)
    """The month this payment settles, when it is a whole monthly payment."""


class RecordUnpaidMonth(Payload):
    month: Code = Field(pattern=MONTH_PATTERN)
    amount: Money | None = None


class SendReminder(Payload):
    sent_at: Moment
    channel: Annotated[
        Literal["letter", "email", "sms", "hand"],
        Choices(letter="courrier", email="courriel", sms="SMS", hand="remise en main propre"),
    ] = "letter"


class RecordInterview(Payload):
    held_at: Moment
    housing_benefit_checked: bool = False
    fsl_requested: bool = False
    notes: OptionalText = None


class Instalment(Payload):
    due_on: date
    amount: Money = Field(gt=0)


class AgreePlan(Payload):
    instalments: list[Instalment] = Field(min_length=1, max_length=MAX_INSTALMENTS)
    notes: OptionalText = None


class SendFormalNotice(Payload):
    sent_at: Moment


class RequestTermination(Payload):
    reason: OptionalText = None


class Decision(Payload):
    decided_at: Moment
    grounds: FreeText


class RecordNoticeServed(Payload):
    served_at: Moment
    method: Annotated[
        Literal["bailiff", "hand_delivery", "registered_letter"],
        Choices(
            bailiff="commissaire de justice",
            hand_delivery="remise contre signature",
            registered_letter="lettre recommandée",
        ),
    ]
    collected: bool | None = None
    """For a registered letter: collected by the resident (an uncollected one has no effect)."""


class ExecuteEviction(Payload):
    notes: OptionalText = None


class Withdraw(Payload):
    reason: FreeText


# --- Reading the case data ----------------------------------------------------------------


def money(data: Mapping[str, Any], key: str) -> Decimal:
    return Decimal(str(data.get(key) or "0"))


def instalment_key(number: int) -> str:
    return f"instalment_{number}_due_at"


def check_due(instalment: Mapping[str, Any]) -> datetime:
    """When an instalment is checked: 5 days after its date, 08:00 Paris."""
    day = date.fromisoformat(str(instalment["due_on"])) + timedelta(days=CHECK_AFTER_DAYS)
    return at_local_time(day, EIGHT, PARIS)


def missed_instalments(data: Mapping[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Instalments checked by `now` and not covered by the payments made since the plan.

    Payments since the plan count towards the instalments in date order, so a late but
    complete payment before the check keeps the plan alive.
    """
    plan = data.get("plan") or []
    since = data.get("plan_agreed_at")
    paid = sum(
        (
            Decimal(p["amount"])
            for p in data.get("payments", [])
            if since is None or parse_moment(p["recorded_at"]) >= parse_moment(since)
        ),
        Decimal("0"),
    )
    owed = Decimal("0")
    missed = []
    for instalment in plan:
        owed += Decimal(instalment["amount"])
        if check_due(instalment) <= now and paid < owed:
            missed.append(dict(instalment))
    return missed


# --- Guards -------------------------------------------------------------------------------


def has_part_payments(data: Mapping[str, Any]) -> bool:
    """Part payments (CCH R633-3 II a): declared at opening, a payment that settles no whole
    month, or a month recorded as only partly unpaid."""
    monthly = money(data, "monthly_amount")
    return (
        bool(data.get("part_payments"))
        or any(not p.get("month") for p in data.get("payments", []))
        or any(Decimal(a) < monthly for a in (data.get("partly_unpaid") or {}).values())
    )


def legal_threshold(ctx: FireContext) -> str | None:
    return threshold_refusal(
        ctx.data.get("unpaid_months", []),
        money(ctx.data, "balance"),
        money(ctx.data, "monthly_amount"),
        part_payments=has_part_payments(ctx.data),
    )


def formal_notice_sent_on(data: Mapping[str, Any]) -> date | None:
    """The day the (last) formal notice was sent, as its step recorded it."""
    sent = [s for s in data.get("steps", []) if s.get("trigger") == "send_formal_notice"]
    if not sent:
        return None
    value = sent[-1].get("sent_at") or sent[-1]["at"]
    return local(parse_moment(str(value))).date()


def formal_notice_over(source: str) -> Callable[[FireContext], str | None]:
    """No termination before the one-month formal notice has run out, with the date it does."""

    def guard(ctx: FireContext) -> str | None:
        sent_on = formal_notice_sent_on(ctx.data)
        if sent_on is None:
            return None
        return notice_refusal(sent_on, local(ctx.now).date(), source)

    return guard


def notice_has_effect(ctx: FireContext) -> str | None:
    served: RecordNoticeServed = ctx.payload  # type: ignore[assignment]
    if served.served_at > ctx.now:
        return f"la signification ne peut pas être dans le futur ({format_local(served.served_at)})"
    if served.method == "registered_letter" and not served.collected:
        return (
            "une lettre recommandée non retirée n'a pas d'effet : signifiez par commissaire de "
            "justice ou remise en main propre contre signature (CCH R633-3)"
        )
    return None


def notice_period_over(ctx: FireContext) -> str | None:
    served_at = ctx.data.get("notice_served_at")
    if not served_at:
        return "la résiliation n'a pas encore été signifiée : enregistrez-la (record_notice_served)"
    ends = add_months(local(parse_moment(served_at)).date(), 1)
    if local(ctx.now).date() < ends:
        return f"le préavis d'un mois court jusqu'au {ends.strftime('%d/%m/%Y')}"
    return None


def outside_winter_truce(ctx: FireContext) -> str | None:
    if in_winter_truce(ctx.now):
        return (
            f"trêve hivernale : aucune expulsion du 1er novembre au 31 mars (CPCE L412-6) ; "
            f"nous sommes le {local(ctx.now).strftime('%d/%m/%Y')}, possible à partir du 1er avril"
        )
    return None


def plan_dates_after_now(ctx: FireContext) -> str | None:
    plan: AgreePlan = ctx.payload  # type: ignore[assignment]
    today = local(ctx.now).date()
    early = [i.due_on for i in plan.instalments if i.due_on < today]
    if early:
        return f"échéance du plan déjà passée : {early[0].strftime('%d/%m/%Y')}"
    return None


# --- Effects on the case data -------------------------------------------------------------


def remember_debt(ctx: FireContext) -> None:
    opened: OpenCase = ctx.payload  # type: ignore[assignment]
    balance = opened.balance
    if balance is None:
        balance = opened.monthly_amount * len(opened.unpaid_months)
    ctx.data.update(
        detected_at=ctx.now.isoformat(),
        monthly_amount=str(opened.monthly_amount),
        unpaid_months=opened.unpaid_months,
        balance=str(balance),
        payments=[],
        part_payments=opened.part_payments
        or balance < opened.monthly_amount * len(opened.unpaid_months),
    )


def record_payment(ctx: FireContext) -> None:
    paid: RecordPayment = ctx.payload  # type: ignore[assignment]
    entry = {
        "paid_at": paid.paid_at.isoformat(),
        "amount": str(paid.amount),
        "recorded_at": ctx.now.isoformat(),
        "by": ctx.actor_id,
    }
    if paid.month:
        entry["month"] = paid.month
        # A month paid, even late, no longer counts as wholly unpaid (CCH R633-3).
        ctx.data["unpaid_months"] = [
            m for m in ctx.data.get("unpaid_months", []) if m != paid.month
        ]
    ctx.data.setdefault("payments", []).append(entry)
    ctx.data["balance"] = str(money(ctx.data, "balance") - paid.amount)


def record_unpaid_month(ctx: FireContext) -> None:
    unpaid: RecordUnpaidMonth = ctx.payload  # type: ignore[assignment]
    amount = unpaid.amount if unpaid.amount is not None else money(ctx.data, "monthly_amount")
    months = set(ctx.data.get("unpaid_months", [])) | {unpaid.month}
    ctx.data["unpaid_months"] = sorted(months)
    if amount < money(ctx.data, "monthly_amount"):
        # Only part of the month is unpaid: the resident paid the rest (a part payment).
        ctx.data.setdefault("partly_unpaid", {})[unpaid.month] = str(amount)
    ctx.data["balance"] = str(money(ctx.data, "balance") + amount)


def agree_plan(ctx: FireContext) -> None:
    log_step(ctx)
    plan: AgreePlan = ctx.payload  # type: ignore[assignment]
    for number in range(1, MAX_INSTALMENTS + 1):
        ctx.data.pop(instalment_key(number), None)
    ordered = sorted(plan.instalments, key=lambda i: i.due_on)
    ctx.data["plan"] = [{"due_on": i.due_on.isoformat(), "amount": str(i.amount)} for i in ordered]
    ctx.data["plan_agreed_at"] = ctx.now.isoformat()
    for number, instalment in enumerate(ordered, start=1):
        # One anchor per instalment: a clock anchor is a single date-time of the case data.
        ctx.data[instalment_key(number)] = at_local_time(instalment.due_on, EIGHT).isoformat()


def note_missed(ctx: FireContext) -> None:
    missed = missed_instalments(ctx.data, ctx.now)
    if missed:
        ctx.data["missed_instalment"] = missed[0]


def record_grounds(ctx: FireContext) -> None:
    log_step(ctx)
    ctx.data["threshold_grounds"] = threshold_grounds(
        ctx.data.get("unpaid_months", []),
        money(ctx.data, "balance"),
        money(ctx.data, "monthly_amount"),
        part_payments=has_part_payments(ctx.data),
    )


def record_notice(ctx: FireContext) -> None:
    log_step(ctx)
    ctx.data["notice_served_at"] = ctx.payload.served_at.isoformat()  # type: ignore[attr-defined]
    ctx.data["notice_method"] = ctx.payload.method  # type: ignore[attr-defined]


def record_eviction(ctx: FireContext) -> None:
    log_step(ctx)
    ctx.data["eviction_executed_at"] = ctx.now.isoformat()


# --- Conditions -----------------------------------------------------------------------------


def paid_in_full(ctx: FireContext) -> bool:
    return money(ctx.data, "balance") <= 0


def still_owing(ctx: FireContext) -> bool:
    return not paid_in_full(ctx)


def instalment_missed(ctx: FireContext) -> bool:
    return bool(missed_instalments(ctx.data, ctx.now))


def plan_kept(ctx: FireContext) -> bool:
    return not instalment_missed(ctx)


# --- Clocks -------------------------------------------------------------------------------


def reminder(name: str, label: str, days: int, template: str, *who: str) -> ClockDef:
    return ClockDef(
        name=name,
        kind="reminder",
        label=label,
        delay=Delay(amount=days, unit="working_days"),
        template=template,
        recipients=who,
    )


def instalment_checks() -> tuple[ClockDef, ...]:
    return tuple(
        ClockDef(
            name=f"instalment_{number}_check",
            kind="deadline",
            label=f"Contrôle de l'échéance n° {number} du plan",
            anchor=f"data.{instalment_key(number)}",
            delay=Delay(amount=CHECK_AFTER_DAYS, unit="days", at=EIGHT),
            action="fire",
            trigger="check_instalments",
        )
        for number in range(1, MAX_INSTALMENTS + 1)
    )


# --- The process ----------------------------------------------------------------------------


def definition(version: int = 1) -> ProcessDefinition:
    return ProcessDefinition(
        name="arrears",
        version=version,
        label="Impayés de redevance",
        label_en="Unpaid rent",
        initial="detected",
        site_kinds=("residence",),
        states=(
            StateDef(
                id="detected",
                label="Impayé constaté",
                label_en="Arrears detected",
                clocks=(
                    reminder(
                        "send_reminder",
                        "Relance amiable à envoyer",
                        5,
                        "arrears_reminder_due",
                        "gs",
                    ),
                ),
            ),
            StateDef(
                id="reminded",
                label="Relance amiable envoyée",
                label_en="Friendly reminder sent",
                clocks=(
                    reminder(
                        "hold_interview", "Entretien à tenir", 10, "arrears_interview_due", "gs"
                    ),
                ),
            ),
            StateDef(
                id="interview",
                label="Entretien (situation, droits APL/AL, FSL)",
                label_en="Interview (situation, housing benefit, housing fund)",
                clocks=(
                    reminder(
                        "next_step",
                        "Plan d'apurement ou suite à décider",
                        10,
                        "arrears_next_step_due",
                        "gs",
                        "rgls",
                    ),
                ),
            ),
            StateDef(
                id="repayment_plan",
                label="Plan d'apurement en cours",
                label_en="Repayment plan running",
                clocks=instalment_checks(),
            ),
            StateDef(
                id="plan_breached",
                label="Plan non respecté",
                label_en="Plan breached",
                on_enter=(),
                clocks=(
                    reminder(
                        "breach_decision",
                        "Renégocier le plan ou mettre en demeure",
                        10,
                        "arrears_breach_decision_due",
                        "rgls",
                    ),
                ),
            ),
            StateDef(
                id="formal_notice",
                label="Mise en demeure",
                label_en="Formal notice",
                clocks=(
                    ClockDef(
                        name="notice_expired",
                        kind="deadline",
                        label="Fin du délai de la mise en demeure",
                        delay=Delay(amount=1, unit="months", next_working_day=True),
                        template="arrears_notice_expired",
                        recipients=("rgls",),
                    ),
                ),
            ),
            StateDef(
                id="termination_review",
                label="Résiliation à l'étude",
                label_en="Termination under review",
                clocks=(
                    reminder(
                        "termination_decision",
                        "Décision de résiliation à prendre",
                        10,
                        "arrears_termination_decision_due",
                        "dgls",
                    ),
                ),
            ),
            StateDef(
                id="terminated",
                label="Résiliation notifiée (préavis 1 mois)",
                label_en="Termination served (1-month notice)",
                clocks=(
                    ClockDef(
                        name="notice_period_end",
                        kind="deadline",
                        label="Fin du préavis d'un mois",
                        anchor="data.notice_served_at",
                        delay=Delay(amount=1, unit="months"),
                        template="arrears_notice_period_ended",
                        recipients=("rgls", "dgls"),
                    ),
                ),
            ),
            StateDef(
                id="eviction_procedure",
                label="Procédure d'expulsion",
                label_en="Eviction procedure",
            ),
            StateDef(id="cleared", label="Dette soldée", label_en="Debt cleared", final=True),
            StateDef(id="withdrawn", label="Clôturé", label_en="Closed", final=True),
        ),
        triggers=(
            TriggerDef(
                name="open",
                label="Constater un impayé",
                label_en="Report arrears",
                roles=FIELD_STAFF,
                payload=OpenCase,
                effect=remember_debt,
            ),
            TriggerDef(
                name="record_payment",
                label="Enregistrer un paiement",
                label_en="Record a payment",
                roles=FIELD_STAFF,
                payload=RecordPayment,
                effect=record_payment,
            ),
            TriggerDef(
                name="record_unpaid_month",
                label="Enregistrer une mensualité impayée",
                label_en="Record an unpaid month",
                roles=FIELD_STAFF,
                payload=RecordUnpaidMonth,
                effect=record_unpaid_month,
            ),
            TriggerDef(
                name="send_reminder",
                label="Relance amiable envoyée",
                label_en="Friendly reminder sent",
                roles=FIELD_STAFF,
                payload=SendReminder,
                effect=log_step,
            ),
            TriggerDef(
                name="record_interview",
                label="Enregistrer l'entretien",
                label_en="Record the interview",
                roles=FIELD_STAFF,
                payload=RecordInterview,
                effect=log_step,
            ),
            TriggerDef(
                name="agree_plan",
                label="Conclure un plan d'apurement",
                label_en="Agree a repayment plan",
                roles=FIELD_STAFF,
                payload=AgreePlan,
                guards=(plan_dates_after_now,),
                effect=agree_plan,
            ),
            TriggerDef(
                name="renegotiate_plan",
                label="Renégocier le plan",
                label_en="Renegotiate the plan",
                roles=("rgls",),
                payload=AgreePlan,
                guards=(plan_dates_after_now,),
                effect=agree_plan,
            ),
            TriggerDef(
                name="check_instalments",
                label="Contrôler les échéances du plan",
                label_en="Check the plan's instalments",
                roles=("system", "rgls"),
                payload=Empty,
                effect=note_missed,
            ),
            TriggerDef(
                name="send_formal_notice",
                label="Mise en demeure envoyée",
                label_en="Formal notice sent",
                roles=("rgls",),
                payload=SendFormalNotice,
                effect=log_step,
            ),
            TriggerDef(
                name="request_termination",
                label="Soumettre la résiliation à la direction",
                label_en="Refer termination to the direction",
                roles=("rgls",),
                payload=RequestTermination,
                guards=(formal_notice_over(NOTICE), legal_threshold),
                effect=record_grounds,
            ),
            TriggerDef(
                name="decide_termination",
                label="Décider la résiliation",
                label_en="Decide termination",
                roles=("dgls",),
                payload=Decision,
                guards=(legal_threshold,),
                effect=log_step,
            ),
            TriggerDef(
                name="maintain",
                label="Maintenir (nouvel entretien)",
                label_en="Maintain (new interview)",
                roles=("dgls",),
                payload=Decision,
                effect=log_step,
            ),
            TriggerDef(
                name="record_notice_served",
                label="Enregistrer la signification de la résiliation",
                label_en="Record how the termination was served",
                roles=FIELD_STAFF,
                payload=RecordNoticeServed,
                guards=(notice_has_effect,),
                effect=record_notice,
                replan_clocks=True,
            ),
            TriggerDef(
                name="start_eviction",
                label="Engager la procédure d'expulsion",
                label_en="Start the eviction procedure",
                roles=("dgls",),
                payload=Decision,
                guards=(notice_period_over,),
                effect=log_step,
            ),
            TriggerDef(
                name="execute_eviction",
                label="Expulsion exécutée",
                label_en="Eviction carried out",
                roles=("dgls",),
                payload=ExecuteEviction,
                guards=(outside_winter_truce,),
                effect=record_eviction,
            ),
            TriggerDef(
                name="withdraw",
                label="Clôturer",
                label_en="Close",
                roles=("rgls", "dgls"),
                payload=Withdraw,
            ),
        ),
        transitions=(
            TransitionDef(
                trigger="record_payment",
                sources=OPEN_STATES,
                dest="cleared",
                when=paid_in_full,
                when_label="dette soldée",
            ),
            TransitionDef(
                trigger="record_payment",
                sources=OPEN_STATES,
                dest="=",
                when=still_owing,
                when_label="reste dû",
            ),
            TransitionDef(trigger="record_unpaid_month", sources=OPEN_STATES, dest="="),
            TransitionDef(trigger="send_reminder", sources="detected", dest="reminded"),
            TransitionDef(
                trigger="record_interview", sources=("detected", "reminded"), dest="interview"
            ),
            TransitionDef(trigger="agree_plan", sources="interview", dest="repayment_plan"),
            TransitionDef(
                trigger="check_instalments",
                sources="repayment_plan",
                dest="plan_breached",
                when=instalment_missed,
                when_label="échéance impayée",
            ),
            TransitionDef(
                trigger="check_instalments",
                sources="repayment_plan",
                dest="=",
                when=plan_kept,
                when_label="échéances payées",
            ),
            TransitionDef(
                trigger="renegotiate_plan", sources="plan_breached", dest="repayment_plan"
            ),
            TransitionDef(
                trigger="send_formal_notice",
                sources=("reminded", "interview", "repayment_plan", "plan_breached"),
                dest="formal_notice",
            ),
            TransitionDef(
                trigger="request_termination", sources="formal_notice", dest="termination_review"
            ),
            TransitionDef(
                trigger="decide_termination", sources="termination_review", dest="terminated"
            ),
            TransitionDef(trigger="maintain", sources="termination_review", dest="interview"),
            TransitionDef(trigger="record_notice_served", sources="terminated", dest="="),
            TransitionDef(
                trigger="start_eviction", sources="terminated", dest="eviction_procedure"
            ),
            TransitionDef(
                trigger="execute_eviction", sources="eviction_procedure", dest="withdrawn"
            ),
            TransitionDef(trigger="withdraw", sources=OPEN_STATES, dest="withdrawn"),
        ),
    )


ARREARS = definition()
DEFINITIONS = [ARREARS]

__all__ = ["ARREARS", "DEFINITIONS", "definition", "euros", "missed_instalments"]
