"""Effects of the asylum process: what each trigger writes into the case data.

Each deadline is computed from the case's own rule set (`asylum_rules.py`) and stored with
the rule that set it (see `asylum_case.py`), so its clocks can say why they are due then.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

from processes import asylum_rules as law
from processes.asylum_case import (
    day_of,
    is_late,
    legal_aid_in_time,
    log,
    rules_of,
    set_deadline,
    today,
)
from processes.asylum_payloads import (
    PROTECTIONS,
    ExtendStay,
    LegalAidDecided,
    LodgeAppeal,
    OpenCase,
    PlanExit,
    RecordCndaDecision,
    RecordDecision,
    RecordEndOfCare,
    RecordOfpraDelayNotice,
    RenewAttestation,
    Requalify,
    ScheduleHearing,
    StartDublin,
    UpdateDublin,
)
from processes.calendar import local, next_working_day_from
from processes.context import FireContext


def open_claim(ctx: FireContext) -> None:
    opened = cast(OpenCase, ctx.payload)
    rules = law.rule_set_for(today(ctx), opened.registered_at)
    ctx.data.update(
        rule_set=rules.id,
        procedure=opened.procedure,
        registered_on=opened.registered_at.isoformat(),
        attestations=[],
    )
    start_attestation(ctx, opened.attestation_issued_at, "first", "remise de l'attestation")
    if opened.procedure != "dublin":
        set_deadline(
            ctx, "ofpra", "ofpra_filing", opened.attestation_issued_at, "remise de l'attestation"
        )


def start_attestation(ctx: FireContext, issued: date, kind: str, label: str) -> None:
    rule_id = f"attestation_{kind}_{ctx.data['procedure']}"
    expires = set_deadline(ctx, "attestation", rule_id, issued, label)
    ctx.data["attestations"].append(
        {"issued_on": issued.isoformat(), "expires_on": expires.isoformat(), "rule": rule_id}
    )


def renew_attestation(ctx: FireContext) -> None:
    renewal = cast(RenewAttestation, ctx.payload)
    if renewal.expires_at is None:
        start_attestation(ctx, renewal.renewed_at, "renewal", "renouvellement")
        return
    # The prefecture's printed date wins; the rule is kept beside it for comparison.
    rule_id = f"attestation_renewal_{ctx.data['procedure']}"
    expected = rules_of(ctx.data).rule(rule_id).due(renewal.renewed_at)
    ctx.data["attestation_due"] = renewal.expires_at.isoformat()
    ctx.data["attestation_rule"] = (
        f"Expiration de l'attestation : le {law.fr(renewal.expires_at)}, date portée sur "
        f"l'attestation renouvelée le {law.fr(renewal.renewed_at)} (la règle {rule_id} "
        f"donnerait le {law.fr(expected)})"
    )
    ctx.data["attestations"].append(
        {
            "issued_on": renewal.renewed_at.isoformat(),
            "expires_on": renewal.expires_at.isoformat(),
            "rule": "printed",
        }
    )


def lodge_ofpra(ctx: FireContext) -> None:
    filed: date = ctx.payload.filed_at  # type: ignore[attr-defined]
    ctx.data["ofpra_filed_on"] = filed.isoformat()
    expect_ofpra_decision(ctx, filed, "introduction du dossier")


def expect_ofpra_decision(ctx: FireContext, start: date, label: str) -> None:
    accelerated = ctx.data["procedure"] == "accelerated"
    rule_id = "ofpra_decision_accelerated" if accelerated else "ofpra_decision_normal"
    due = set_deadline(ctx, "ofpra_decision", rule_id, start, label)
    for key in ("ofpra_warning_due", "ofpra_warning_rule", "ofpra_delay_notice_on"):
        ctx.data.pop(key, None)
    if not accelerated:
        # R531-7: OFPRA must warn 15 days ahead if it cannot decide within the 6 months.
        last, text = law.ofpra_warning(rules_of(ctx.data), due)
        ctx.data.update(ofpra_warning_due=last.isoformat(), ofpra_warning_rule=text)


def record_ofpra_delay_notice(ctx: FireContext) -> None:
    """OFPRA warned it cannot decide within 6 months: the decision is expected later."""
    informed = cast(RecordOfpraDelayNotice, ctx.payload).informed_at
    filed = cast(date, day_of(ctx.data, "ofpra_filed_on"))
    ctx.data["ofpra_delay_notice_on"] = informed.isoformat()
    set_deadline(
        ctx, "ofpra_decision", "ofpra_decision_extended", filed, "introduction du dossier"
    )
    log(ctx)


def request_documents(ctx: FireContext) -> None:
    asked: date = ctx.payload.requested_at  # type: ignore[attr-defined]
    set_deadline(ctx, "documents", "ofpra_documents", asked, "demande de pièces")


def schedule_interview(ctx: FireContext) -> None:
    ctx.data["interview_at"] = ctx.payload.interview_at.isoformat()  # type: ignore[attr-defined]
    log(ctx)


def record_decision(ctx: FireContext) -> None:
    decision = cast(RecordDecision, ctx.payload)
    notified = law.deemed_notified(rules_of(ctx.data), decision.notified_at, decision.posted_at)
    how = (
        "première consultation"
        if decision.notified_at is not None and notified == decision.notified_at
        else f"réputée notifiée 15 jours après la mise en ligne du {law.fr(decision.posted_at)}"
        if decision.posted_at
        else "notification"
    )
    entry = {
        "by": "ofpra",
        "outcome": decision.outcome,
        "notified_on": notified.isoformat(),
        "how": how,
        "consulted_on": decision.notified_at.isoformat() if decision.notified_at else None,
        "posted_on": decision.posted_at.isoformat() if decision.posted_at else None,
    }
    ctx.data.setdefault("decisions", []).append(entry)
    ctx.data.pop("interview_at", None)
    ctx.data["inadmissible"] = decision.inadmissible
    if decision.outcome in PROTECTIONS:
        grant_protection(ctx, decision.outcome, notified, f"notification de l'OFPRA, {how}")
        return
    open_appeal_window(ctx, notified, how)


def open_appeal_window(ctx: FireContext, notified: date, how: str) -> None:
    rules = rules_of(ctx.data)
    ctx.data["appeal_from"] = notified.isoformat()
    label = f"notification du rejet, {how}"
    set_deadline(ctx, "appeal", "cnda_appeal", notified, label)
    ctx.data["appeal_end"] = rules.rule("cnda_appeal").end(notified).isoformat()
    ctx.data["appeal_franc_due"] = rules.rule("cnda_appeal").franc_due(notified).isoformat()
    set_deadline(ctx, "legal_aid", "legal_aid_request", notified, label)


def record_consultation(ctx: FireContext) -> None:
    """A decision recorded as posted, opened before the 15 days: the window starts earlier."""
    consulted: date = ctx.payload.consulted_at  # type: ignore[attr-defined]
    decision = ctx.data["decisions"][-1]
    decision.update(consulted_on=consulted.isoformat(), notified_on=consulted.isoformat())
    decision["how"] = "première consultation"
    open_appeal_window(ctx, consulted, "première consultation")


def grant_protection(ctx: FireContext, outcome: str, right_ended: date, how: str) -> None:
    ctx.data["protection"] = outcome
    ctx.data["claim_over"] = True
    start_exit_stay(ctx, "stay_protected", right_ended, how)


def reject_finally(ctx: FireContext, since: date, reason: str, label: str) -> None:
    ctx.data.update(final_on=since.isoformat(), final_reason=reason, claim_over=True)
    start_exit_stay(ctx, "stay_rejected", since, label)


# --- The exit stay (CESEDA R552-13): from OFII's end of care -----------------------------

EXIT_STAY_KEYS = (
    "stay_kind",
    "right_to_stay_ended_on",
    "care_ends_on",
    "care_end_recorded",
    "care_end_due",
    "care_end_rule",
    "stay_due",
    "stay_rule",
    "stay_extended_on",
    "ofii_agreed_on",
)


def start_exit_stay(ctx: FireContext, rule_id: str, right_ended: date, how: str) -> None:
    """The claim is over: a provisional end of care until OFII's date is recorded."""
    for key in EXIT_STAY_KEYS:
        ctx.data.pop(key, None)
    care_ends, text = law.provisional_end_of_care(right_ended, how)
    ctx.data.update(
        stay_kind=rule_id,
        right_to_stay_ended_on=right_ended.isoformat(),
        care_ends_on=care_ends.isoformat(),
        care_end_recorded=False,
        care_end_due=care_ends.isoformat(),
        care_end_rule=text,
    )
    plan_stay(ctx)


def record_end_of_care(ctx: FireContext) -> None:
    care_ends = cast(RecordEndOfCare, ctx.payload).care_ends_on
    ctx.data.pop("care_end_due", None)
    # Set again on the first stay's rule, for a case whose claim ended before issue 13.
    ctx.data.setdefault(
        "stay_kind", "stay_protected" if ctx.state == "protected" else "stay_rejected"
    )
    ctx.data.update(
        care_ends_on=care_ends.isoformat(),
        care_end_recorded=True,
        care_end_rule=(
            f"Fin de prise en charge fixée par l'OFII au {law.fr(care_ends)} "
            f"(enregistrée le {law.fr(today(ctx))})"
        ),
    )
    log(ctx)
    plan_stay(ctx)


def plan_stay(ctx: FireContext) -> None:
    """The stay's end: R552-13 from the end of care, then the once-only extension from the end
    of the first stay; recomputed whenever the end of care is recorded or corrected."""
    # A case whose claim ended before issue 13 has no stay kind nor end of care: its state
    # tells the kind, and its stay (counted then from the decision) stands until OFII's date.
    rule_id = str(
        ctx.data.get("stay_kind")
        or ("stay_protected" if ctx.state == "protected" else "stay_rejected")
    )
    care_ends = day_of(ctx.data, "care_ends_on")
    if care_ends is None:
        first_end = cast(date, day_of(ctx.data, "stay_due"))
    else:
        label = (
            "fin de prise en charge fixée par l'OFII"
            if ctx.data.get("care_end_recorded")
            else "fin de prise en charge PROVISOIRE, date de l'OFII à enregistrer"
        )
        first_end = set_deadline(ctx, "stay", rule_id, care_ends, label)
    agreed = day_of(ctx.data, "ofii_agreed_on")
    if ctx.data.get("stay_extended_on") and agreed is not None:
        set_deadline(
            ctx,
            "stay",
            "stay_protected_extension",
            first_end,
            f"fin du premier maintien, accord de l'OFII du {law.fr(agreed)}",
        )


def request_legal_aid(ctx: FireContext) -> None:
    asked: date = ctx.payload.requested_at  # type: ignore[attr-defined]
    ctx.data["legal_aid_requested_on"] = asked.isoformat()
    if legal_aid_in_time(ctx):
        pause = law.suspend(
            cast(date, day_of(ctx.data, "appeal_from")),
            cast(date, day_of(ctx.data, "appeal_end")),
            asked,
        )
        ctx.data.update(appeal_days_used=pause.used, appeal_days_left=pause.left)
        return
    # Too late to suspend anything: the deadline stays, and the juriste hears of it now.
    ctx.data["legal_aid_late"] = True
    ctx.notify("asylum_appeal_unchanged", "juriste")


def legal_aid_decided(ctx: FireContext) -> None:
    decided = cast(LegalAidDecided, ctx.payload)
    pause = law.Suspension(int(ctx.data["appeal_days_used"]), int(ctx.data["appeal_days_left"]))
    resumed = law.resume(rules_of(ctx.data), pause, decided.notified_at)
    ctx.data.update(
        legal_aid_decided_on=decided.notified_at.isoformat(),
        legal_aid_granted=decided.granted,
        appeal_end=resumed.end.isoformat(),
        appeal_due=resumed.due.isoformat(),
        appeal_franc_due=next_working_day_from(resumed.end + timedelta(days=1)).isoformat(),
        appeal_rule=resumed.text,
    )


def lodge_appeal(ctx: FireContext) -> None:
    appeal = cast(LodgeAppeal, ctx.payload)
    late = is_late(ctx)
    ctx.data["appeal_lodged_on"] = appeal.lodged_at.isoformat()
    if late:
        ctx.data["late_appeal"] = {
            "lodged_on": appeal.lodged_at.isoformat(),
            "due": ctx.data.get("appeal_due"),
            "override_reason": appeal.override_reason,
            "by": ctx.actor_id,
        }
        ctx.notify("asylum_late_appeal", "cada_manager")
    for key in ("final_on", "final_reason", "claim_over", *EXIT_STAY_KEYS):
        ctx.data.pop(key, None)
    fast = ctx.data.get("procedure") == "accelerated" or ctx.data.get("inadmissible")
    rule_id = "cnda_decision_accelerated" if fast else "cnda_decision_normal"
    set_deadline(ctx, "cnda_decision", rule_id, appeal.lodged_at, "recours")


def schedule_hearing(ctx: FireContext) -> None:
    hearing = cast(ScheduleHearing, ctx.payload)
    ctx.data["hearing_at"] = hearing.hearing_at.isoformat()
    ctx.data["hearing_panel"] = hearing.panel
    hearing_day = local(hearing.hearing_at).date()
    rule_id = "cnda_hearing_notice_panel" if hearing.panel else "cnda_hearing_notice"
    ctx.data["hearing_notice_days"] = (hearing_day - today(ctx)).days
    log(ctx)
    if hearing_day < rules_of(ctx.data).rule(rule_id).end(today(ctx)):
        # A notice shorter than the court's own minimum is grounds to ask for a postponement:
        # recorded as it is, and the juriste hears of it now.
        ctx.data["hearing_notice_short"] = rule_id
        ctx.notify("asylum_hearing", "juriste")


def record_cnda_decision(ctx: FireContext) -> None:
    decision = cast(RecordCndaDecision, ctx.payload)
    notified = decision.notified_at
    entry = {"by": "cnda", "outcome": decision.outcome, "notified_on": notified.isoformat()}
    if decision.read_at is not None:
        entry["read_on"] = decision.read_at.isoformat()
    ctx.data.setdefault("decisions", []).append(entry)
    ctx.data.pop("hearing_at", None)
    # The right to stay ends at the public reading, not at the notification (L542-1).
    right_ended = decision.read_at or notified
    how = (
        "lecture publique de la décision de la CNDA"
        if decision.read_at is not None
        else "notification de l'ordonnance de la CNDA"
    )
    if decision.outcome in PROTECTIONS:
        grant_protection(ctx, decision.outcome, right_ended, how)
    elif decision.outcome == "rejection":
        reject_finally(ctx, right_ended, "cnda_rejection", how)
    else:
        expect_ofpra_decision(ctx, notified, "annulation et renvoi par la CNDA")


def appeal_deadline_passed(ctx: FireContext) -> None:
    last = day_of(ctx.data, "appeal_franc_due") or cast(date, day_of(ctx.data, "appeal_due"))
    reject_finally(ctx, last, "no_appeal", "fin du délai de recours sans recours")


def start_dublin(ctx: FireContext) -> None:
    dublin = cast(StartDublin, ctx.payload)
    ctx.data.update(
        member_state=dublin.member_state, dublin_accepted_on=dublin.accepted_at.isoformat()
    )
    set_deadline(ctx, "transfer", "dublin_transfer", dublin.accepted_at, "accord de l'État requis")
    ctx.data["detained"] = dublin.detained
    if dublin.transfer_decision_notified_at is not None:
        set_deadline(
            ctx,
            "dublin_appeal",
            "dublin_appeal_detained" if dublin.detained else "dublin_appeal",
            dublin.transfer_decision_notified_at,
            "notification de la décision de transfert",
        )
        if dublin.detained:
            # 48 hours leave no time for the usual reminders: the juriste hears of it now.
            ctx.notify("asylum_dublin_appeal", "juriste")


def update_dublin(ctx: FireContext) -> None:
    update = cast(UpdateDublin, ctx.payload)
    accepted = cast(date, day_of(ctx.data, "dublin_accepted_on"))
    ctx.data["dublin_situation"] = update.situation
    ctx.data["dublin_situation_on"] = update.at.isoformat()
    rule_id = f"dublin_transfer_{update.situation}"
    set_deadline(ctx, "transfer", rule_id, accepted, "accord de l'État requis")


def requalify(ctx: FireContext) -> None:
    procedure = cast(Requalify, ctx.payload).procedure
    now = today(ctx)
    ctx.data.update(procedure=procedure, requalified_on=now.isoformat())
    # France is now responsible: a new attestation and a new OFPRA filing period start.
    start_attestation(ctx, now, "first", "requalification, France responsable")
    set_deadline(ctx, "ofpra", "ofpra_filing", now, "requalification, France responsable")


def extend_stay(ctx: FireContext) -> None:
    extension = cast(ExtendStay, ctx.payload)
    ctx.data["stay_extended_on"] = extension.granted_at.isoformat()
    ctx.data["ofii_agreed_on"] = extension.ofii_agreed_at.isoformat()
    plan_stay(ctx)


def plan_exit(ctx: FireContext) -> None:
    planned = cast(PlanExit, ctx.payload)
    ctx.data.update(
        exit_at=planned.exit_at.isoformat(),
        exit_destination=planned.destination,
    )
    housing = ctx.data.setdefault("housing_search", {})
    if planned.siao_requested_at:
        housing["siao_requested_on"] = planned.siao_requested_at.isoformat()
    if planned.social_housing_requested_at:
        housing["social_housing_requested_on"] = planned.social_housing_requested_at.isoformat()
    log(ctx)


def record_closure(ctx: FireContext) -> None:
    closed: date = ctx.payload.closed_at  # type: ignore[attr-defined]
    ctx.data.update(
        ofpra_closed_on=closed.isoformat(),
        closure_reason=ctx.payload.reason,  # type: ignore[attr-defined]
        state_before_closure=ctx.state,
    )
    set_deadline(ctx, "reopening", "ofpra_reopening", closed, "clôture par l'OFPRA")


def request_reopening(ctx: FireContext) -> None:
    asked: date = ctx.payload.requested_at  # type: ignore[attr-defined]
    ctx.data.setdefault("reopenings", []).append(
        {"closed_on": ctx.data.get("ofpra_closed_on"), "requested_on": asked.isoformat()}
    )
    ctx.data.pop("reopening_due", None)
    expect_ofpra_decision(ctx, asked, "demande de réouverture")
