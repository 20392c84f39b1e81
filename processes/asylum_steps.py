"""Effects of the asylum process: what each trigger writes into the case data.

Each deadline is computed from the case's own rule set (`asylum_rules.py`) and stored with
the rule that set it (see `asylum_case.py`), so its clocks can say why they are due then.
"""

from __future__ import annotations

from datetime import date
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
    RenewAttestation,
    Requalify,
    ScheduleHearing,
    StartDublin,
    UpdateDublin,
)
from processes.calendar import local
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
    rule_id = (
        "ofpra_decision_accelerated"
        if ctx.data["procedure"] == "accelerated"
        else "ofpra_decision_normal"
    )
    set_deadline(ctx, "ofpra_decision", rule_id, start, label)


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
        grant_protection(ctx, decision.outcome, notified)
        return
    open_appeal_window(ctx, notified, how)


def open_appeal_window(ctx: FireContext, notified: date, how: str) -> None:
    rules = rules_of(ctx.data)
    ctx.data["appeal_from"] = notified.isoformat()
    label = f"notification du rejet, {how}"
    set_deadline(ctx, "appeal", "cnda_appeal", notified, label)
    ctx.data["appeal_end"] = rules.rule("cnda_appeal").end(notified).isoformat()
    set_deadline(ctx, "legal_aid", "legal_aid_request", notified, label)


def record_consultation(ctx: FireContext) -> None:
    """A decision recorded as posted, opened before the 15 days: the window starts earlier."""
    consulted: date = ctx.payload.consulted_at  # type: ignore[attr-defined]
    decision = ctx.data["decisions"][-1]
    decision.update(consulted_on=consulted.isoformat(), notified_on=consulted.isoformat())
    decision["how"] = "première consultation"
    open_appeal_window(ctx, consulted, "première consultation")


def grant_protection(ctx: FireContext, outcome: str, notified: date) -> None:
    ctx.data["protection"] = outcome
    ctx.data["claim_over"] = True
    set_deadline(ctx, "stay", "stay_protected", notified, "notification de la protection")


def reject_finally(ctx: FireContext, since: date, reason: str, label: str) -> None:
    ctx.data.update(final_on=since.isoformat(), final_reason=reason, claim_over=True)
    set_deadline(ctx, "stay", "stay_rejected", since, label)


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
    for key in ("final_on", "final_reason", "claim_over", "stay_due", "stay_rule"):
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
    ctx.data.setdefault("decisions", []).append(
        {"by": "cnda", "outcome": decision.outcome, "notified_on": notified.isoformat()}
    )
    ctx.data.pop("hearing_at", None)
    if decision.outcome in PROTECTIONS:
        grant_protection(ctx, decision.outcome, notified)
    elif decision.outcome == "rejection":
        reject_finally(ctx, notified, "cnda_rejection", "notification du rejet par la CNDA")
    else:
        expect_ofpra_decision(ctx, notified, "annulation et renvoi par la CNDA")


def appeal_deadline_passed(ctx: FireContext) -> None:
    due = cast(date, day_of(ctx.data, "appeal_due"))
    reject_finally(ctx, due, "no_appeal", "fin du délai de recours sans recours")


def start_dublin(ctx: FireContext) -> None:
    dublin = cast(StartDublin, ctx.payload)
    ctx.data.update(
        member_state=dublin.member_state, dublin_accepted_on=dublin.accepted_at.isoformat()
    )
    set_deadline(ctx, "transfer", "dublin_transfer", dublin.accepted_at, "accord de l'État requis")
    if dublin.transfer_decision_notified_at is not None:
        set_deadline(
            ctx,
            "dublin_appeal",
            "dublin_appeal",
            dublin.transfer_decision_notified_at,
            "notification de la décision de transfert",
        )


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
    granted: date = cast(ExtendStay, ctx.payload).granted_at
    stay_end = cast(date, day_of(ctx.data, "stay_due"))
    ctx.data["stay_extended_on"] = granted.isoformat()
    set_deadline(ctx, "stay", "stay_protected_extension", stay_end, "fin du premier maintien")


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
    expect_ofpra_decision(ctx, asked, "demande de réouverture")
