"""Guards of the asylum process: each returns the refusal, in French, or None.

A refusal says what was asked, why the dates make it impossible and what is still possible,
because the engine adds the case, its state and the triggers allowed there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import cast

from processes import asylum_rules as law
from processes.asylum_case import day_of, is_late, today
from processes.asylum_payloads import (
    ExtendStay,
    LodgeAppeal,
    OpenCase,
    PlanExit,
    RecordCndaDecision,
    RecordDecision,
    RecordEndOfCare,
    RenewAttestation,
    UpdateDublin,
)
from processes.calendar import format_local
from processes.context import FireContext

Guard = Callable[[FireContext], "str | None"]


def dated(field: str, what: str, *, after: str | None = None, after_what: str = "") -> Guard:
    """A payload date not after today and, when `after` names a data key, not before it."""

    def guard(ctx: FireContext) -> str | None:
        value: date | None = getattr(ctx.payload, field)
        if value is None:
            return None
        if value > today(ctx):
            return f"{what} ne peut pas être dans le futur ({law.fr(value)})"
        earliest = day_of(ctx.data, after) if after else None
        if earliest is not None and value < earliest:
            return (
                f"{what} ({law.fr(value)}) ne peut pas précéder {after_what} ({law.fr(earliest)})"
            )
        return None

    return guard


def opening_dates(ctx: FireContext) -> str | None:
    opened = cast(OpenCase, ctx.payload)
    if opened.registered_at > today(ctx):
        return f"l'enregistrement ne peut pas être dans le futur ({law.fr(opened.registered_at)})"
    if opened.attestation_issued_at < opened.registered_at:
        return (
            f"l'attestation ({law.fr(opened.attestation_issued_at)}) ne peut pas précéder "
            f"l'enregistrement au guichet unique ({law.fr(opened.registered_at)})"
        )
    try:
        law.rule_set_for(today(ctx), opened.registered_at)
    except LookupError as error:
        return str(error)
    return None


def not_dublin(ctx: FireContext) -> str | None:
    if ctx.data.get("procedure") == "dublin":
        return (
            "demande en procédure Dublin : pas de dossier OFPRA tant que la France n'est pas "
            "responsable (start_dublin, puis requalification si le transfert n'a pas lieu)"
        )
    return None


def is_dublin(ctx: FireContext) -> str | None:
    if ctx.data.get("procedure") != "dublin":
        return f"la demande est en procédure {ctx.data.get('procedure')}, pas Dublin"
    return None


def decision_dates(ctx: FireContext) -> str | None:
    decision = cast(RecordDecision, ctx.payload)
    filed = day_of(ctx.data, "ofpra_filed_on")
    for value, what in ((decision.notified_at, "notifiée"), (decision.posted_at, "mise en ligne")):
        if value is None:
            continue
        if value > today(ctx):
            return f"la décision ne peut pas être {what} dans le futur ({law.fr(value)})"
        if filed is not None and value < filed:
            return (
                f"la décision ne peut pas être {what} le {law.fr(value)}, avant l'introduction "
                f"du dossier à l'OFPRA le {law.fr(filed)}"
            )
    return None


def consultation_moves_the_notification(ctx: FireContext) -> str | None:
    consulted: date = ctx.payload.consulted_at  # type: ignore[attr-defined]
    decision = ctx.data["decisions"][-1]
    posted = day_of(decision, "posted_on")
    notified = cast(date, day_of(decision, "notified_on"))
    if consulted > today(ctx):
        return f"la consultation ne peut pas être dans le futur ({law.fr(consulted)})"
    asked = day_of(ctx.data, "legal_aid_requested_on")
    if asked is not None:
        return (
            f"l'aide juridictionnelle a été demandée le {law.fr(asked)} : le délai de recours "
            "en dépend désormais, une consultation ne le recalcule pas"
        )
    if posted is not None and consulted < posted:
        return (
            f"la décision ne peut pas avoir été consultée le {law.fr(consulted)}, avant sa "
            f"mise en ligne le {law.fr(posted)}"
        )
    if consulted >= notified:
        return (
            f"la décision est déjà notifiée le {law.fr(notified)} ({decision['how']}) : une "
            f"consultation le {law.fr(consulted)} ne change pas le délai de recours"
        )
    return None


def legal_aid_not_asked(ctx: FireContext) -> str | None:
    asked = day_of(ctx.data, "legal_aid_requested_on")
    if asked is not None:
        return f"l'aide juridictionnelle a déjà été demandée le {law.fr(asked)}"
    return None


def appeal_in_time_or_overridden(ctx: FireContext) -> str | None:
    appeal = cast(LodgeAppeal, ctx.payload)
    if ctx.state == "rejected_final" and ctx.data.get("final_reason") != "no_appeal":
        return "la CNDA a déjà statué : un nouveau recours devant elle n'est pas possible"
    notified = day_of(ctx.data, "appeal_from")
    if notified is not None and appeal.lodged_at < notified:
        return (
            f"le recours ({law.fr(appeal.lodged_at)}) ne peut pas précéder la notification du "
            f"rejet ({law.fr(notified)})"
        )
    if appeal.lodged_at > today(ctx):
        return f"le recours ne peut pas être daté dans le futur ({law.fr(appeal.lodged_at)})"
    if is_late(ctx) and not appeal.override_reason:
        franc = cast(date, day_of(ctx.data, "appeal_franc_due") or day_of(ctx.data, "appeal_due"))
        return (
            f"recours formé le {law.fr(appeal.lodged_at)}, après l'échéance du "
            f"{law.fr(cast(date, day_of(ctx.data, 'appeal_due')))} ({ctx.data.get('appeal_rule')}) "
            f"et le jour franc du {law.fr(franc)} ; un recours hors délai ne s'enregistre "
            "qu'avec override_reason (motif, audité)"
        )
    return None


def appeal_deadline_over(ctx: FireContext) -> str | None:
    last = day_of(ctx.data, "appeal_franc_due") or day_of(ctx.data, "appeal_due")
    if last is not None and today(ctx) <= last:
        return f"le délai de recours (délai franc) court jusqu'au {law.fr(last)} inclus"
    return None


def cnda_decision_dates(ctx: FireContext) -> str | None:
    problem = dated(
        "notified_at", "la décision de la CNDA", after="appeal_lodged_on", after_what="le recours"
    )(ctx) or dated(
        "read_at", "la lecture de la décision", after="appeal_lodged_on", after_what="le recours"
    )(ctx)
    if problem:
        return problem
    decision = cast(RecordCndaDecision, ctx.payload)
    if decision.read_at is not None and decision.read_at > decision.notified_at:
        return (
            f"la lecture publique ({law.fr(decision.read_at)}) ne peut pas suivre la "
            f"notification ({law.fr(decision.notified_at)})"
        )
    return None


def attestation_dates(ctx: FireContext) -> str | None:
    renewal = cast(RenewAttestation, ctx.payload)
    if renewal.renewed_at > today(ctx):
        return f"le renouvellement ne peut pas être dans le futur ({law.fr(renewal.renewed_at)})"
    if renewal.expires_at is not None and renewal.expires_at <= renewal.renewed_at:
        return (
            f"l'attestation renouvelée le {law.fr(renewal.renewed_at)} ne peut pas expirer le "
            f"{law.fr(renewal.expires_at)}"
        )
    return None


def extension_before_deadline(ctx: FireContext) -> str | None:
    update = cast(UpdateDublin, ctx.payload)
    due = day_of(ctx.data, "transfer_due")
    if update.at > today(ctx):
        return f"la date ne peut pas être dans le futur ({law.fr(update.at)})"
    if due is not None and update.at > due:
        return (
            f"le délai de transfert a expiré le {law.fr(due)} : il ne peut plus être prolongé "
            f"(situation constatée le {law.fr(update.at)})"
        )
    return None


def transfer_deadline_over(ctx: FireContext) -> str | None:
    due = day_of(ctx.data, "transfer_due")
    if due is not None and today(ctx) <= due:
        return f"le délai de transfert court jusqu'au {law.fr(due)} inclus"
    return None


def first_extension(ctx: FireContext) -> str | None:
    granted = day_of(ctx.data, "stay_extended_on")
    if granted is not None:
        return (
            f"le maintien a déjà été prolongé le {law.fr(granted)} (jusqu'au "
            f"{law.fr(cast(date, day_of(ctx.data, 'stay_due')))}) : une seule prolongation de "
            "3 mois est possible (CESEDA R552-13) ; préparez la sortie (plan_exit)"
        )
    extension = cast(ExtendStay, ctx.payload)
    if extension.ofii_agreed_at > extension.granted_at:
        return (
            f"la prolongation ({law.fr(extension.granted_at)}) ne peut pas précéder l'accord "
            f"de l'OFII ({law.fr(extension.ofii_agreed_at)}) (CESEDA R552-13)"
        )
    return dated("granted_at", "la prolongation")(ctx)


def end_of_care_dates(ctx: FireContext) -> str | None:
    """OFII's end of care may be announced ahead, but not before the right to stay ended."""
    care_ends = cast(RecordEndOfCare, ctx.payload).care_ends_on
    ended = day_of(ctx.data, "right_to_stay_ended_on")
    if ended is not None and care_ends < ended:
        return (
            f"la fin de prise en charge ({law.fr(care_ends)}) ne peut pas précéder la fin du "
            f"droit au maintien ({law.fr(ended)}, CESEDA L542-1)"
        )
    return None


def ofpra_delay_notice_dates(ctx: FireContext) -> str | None:
    if ctx.data.get("procedure") == "accelerated":
        return "procédure accélérée : l'OFPRA statue en 15 jours, sans avertissement de retard"
    return dated(
        "informed_at",
        "l'avertissement de l'OFPRA",
        after="ofpra_filed_on",
        after_what="l'introduction du dossier",
    )(ctx)


def moment_not_in_past(field: str, what: str) -> Guard:
    def guard(ctx: FireContext) -> str | None:
        moment: datetime = getattr(ctx.payload, field)
        if moment < ctx.now:
            return f"{what} ne peut pas être convoqué(e) dans le passé ({format_local(moment)})"
        return None

    return guard


def exit_not_in_past(ctx: FireContext) -> str | None:
    planned = cast(PlanExit, ctx.payload)
    if planned.exit_at < today(ctx):
        return f"la sortie ne peut pas être planifiée dans le passé ({law.fr(planned.exit_at)})"
    return None


def within_reopening_window(ctx: FireContext) -> str | None:
    problem = dated(
        "requested_at",
        "la demande de réouverture",
        after="ofpra_closed_on",
        after_what="la clôture",
    )(ctx)
    if problem:
        return problem
    before = ctx.data.get("reopenings") or []
    if before:
        return (
            f"le dossier a déjà été rouvert (demande du "
            f"{law.fr(date.fromisoformat(before[0]['requested_on']))}) : une seule réouverture "
            f"est possible ({law.REOPENING}) ; seule une demande de réexamen est encore possible"
        )
    due = cast(date, day_of(ctx.data, "reopening_due"))
    asked: date = ctx.payload.requested_at  # type: ignore[attr-defined]
    if asked > due:
        return (
            f"demande de réouverture le {law.fr(asked)}, hors du délai inférieur à 9 mois "
            f"({law.REOPENING}) dont le dernier jour était le {law.fr(due)} ; seule une "
            "demande de réexamen est encore possible"
        )
    return None
