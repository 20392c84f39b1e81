"""Processus demande d'asile: one CADA household's claim, from the one-stop desk to the exit.

Reads like the paper diagram (shared/processes/asylum.md):

    registered ─lodge_ofpra─► ofpra_pending ─record_decision─┬─ protection ─► protected
        │     (interview, documents: data)                   └─ rejection ─► appeal_window
        │ registered | ofpra_pending ─record_closure─► ofpra_closed
        │     ofpra_closed ─request_reopening (within 9 months)─► ofpra_pending
        │ dublin: start_dublin ─► dublin_transfer ─transfer_done─► exited
        │     dublin_transfer ─ transfer deadline passed: requalify ─► registered
    appeal_window ─request_legal_aid─► appeal_suspended ─legal_aid_decided─► appeal_window
    appeal_window | appeal_suspended ─lodge_appeal─► cnda_pending ─record_cnda_decision─►
        protected | rejected_final | ofpra_pending (annulment)
    appeal_window ─ deadline passed ─► rejected_final (a late appeal only with an override)
    protected | rejected_final ─record_end_of_care (OFII's date)─► same state: the exit stay
        (R552-13) counts from it; until then from a provisional date, labelled so
    protected ─extend_stay (cada_manager, OFII's agreement, once)─► protected
    protected | rejected_final ─plan_exit (cada_manager)─► exit_preparation ─► exited
    the attestation's expiry runs beside all of it (case-scope clocks); any open state ─►
    withdrawn

Deadlines come from the dated rule set the case was opened under (`asylum_rules.py`); the
guards are in `asylum_guards.py`, the effects in `asylum_steps.py`, the conditions and the
way deadlines are kept in the case data in `asylum_case.py`, the clocks in `asylum_clocks.py`.
"""

from __future__ import annotations

from processes import asylum_case as read
from processes import asylum_clocks as clocks
from processes import asylum_guards as guard
from processes import asylum_payloads as p
from processes import asylum_steps as step
from processes.definition import (
    Notice,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.fields import Empty

CLAIM_STATES = (
    "registered",
    "ofpra_pending",
    "ofpra_closed",
    "appeal_window",
    "appeal_suspended",
    "cnda_pending",
    "dublin_transfer",
)
"""While the claim is examined: the attestation must be renewed."""
OPEN_STATES = (*CLAIM_STATES, "protected", "rejected_final", "exit_preparation")
JURISTE = ("juriste", "cada_manager")
"""Procedural steps: the legal officer, and the head who may do all the others may."""
RECORDERS = ("juriste", "social_worker", "cada_manager")
"""Notifications, dates, arrival and exit steps: the social worker records them too."""
HEAD = ("cada_manager",)
"""Exit decisions, which the juriste and the social worker may not take alone."""

APPEAL_NOTICE = Notice(template="asylum_appeal", recipients=clocks.TEAM)
CARE_END_NOTICE = Notice(
    template="asylum_care_end",
    recipients=("social_worker",),
    when=read.care_end_provisional,
)
"""The claim is over: ask OFII for its end-of-care date at once (the stay counts from it)."""


def definition(version: int = 1) -> ProcessDefinition:
    return ProcessDefinition(
        name="asylum",
        version=version,
        label="Procédure d'asile (CADA)",
        label_en="Asylum procedure (CADA)",
        initial="registered",
        site_kinds=("cada",),
        sensitive=True,
        states=(
            StateDef(
                id="registered",
                label="Demande enregistrée (GUDA)",
                label_en="Claim registered (one-stop desk)",
                clocks=clocks.OFPRA_FILING,
            ),
            StateDef(
                id="ofpra_pending",
                label="Dossier OFPRA introduit",
                label_en="File lodged with OFPRA",
                clocks=clocks.OFPRA_PENDING,
            ),
            StateDef(
                id="ofpra_closed",
                label="Clôture OFPRA (réouverture possible 9 mois)",
                label_en="Closed by OFPRA (may be reopened within 9 months)",
                clocks=clocks.OFPRA_CLOSED,
            ),
            StateDef(
                id="appeal_window",
                label="Décision de rejet OFPRA notifiée",
                label_en="OFPRA rejection notified",
                clocks=clocks.APPEAL_WINDOW,
                on_enter=(APPEAL_NOTICE,),
            ),
            StateDef(
                id="appeal_suspended",
                label="Aide juridictionnelle demandée (délai de recours suspendu)",
                label_en="Legal aid requested (appeal period suspended)",
            ),
            StateDef(
                id="cnda_pending",
                label="Recours CNDA en cours",
                label_en="Appeal pending at the CNDA",
                clocks=clocks.CNDA_PENDING,
            ),
            StateDef(
                id="dublin_transfer",
                label="Procédure Dublin, transfert",
                label_en="Dublin procedure, transfer",
                clocks=clocks.DUBLIN_TRANSFER,
            ),
            StateDef(
                id="protected",
                label="Protection accordée (réfugié ou protection subsidiaire)",
                label_en="Protection granted (refugee or subsidiary protection)",
                clocks=clocks.PROTECTED,
                on_enter=(CARE_END_NOTICE,),
            ),
            StateDef(
                id="rejected_final",
                label="Débouté (rejet définitif)",
                label_en="Claim finally rejected",
                clocks=clocks.REJECTED_FINAL,
                on_enter=(CARE_END_NOTICE,),
            ),
            StateDef(
                id="exit_preparation",
                label="Préparation de la sortie",
                label_en="Preparing the exit",
                clocks=clocks.EXIT_PREPARATION,
            ),
            StateDef(id="exited", label="Sortie du CADA", label_en="Left the CADA", final=True),
            StateDef(id="withdrawn", label="Clôturé", label_en="Closed", final=True),
        ),
        triggers=(
            TriggerDef(
                name="open",
                label="Enregistrer l'arrivée et la demande",
                label_en="Record the arrival and the claim",
                roles=RECORDERS,
                payload=p.OpenCase,
                guards=(guard.opening_dates,),
                effect=step.open_claim,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="lodge_ofpra",
                label="Dossier introduit à l'OFPRA",
                label_en="File lodged with OFPRA",
                roles=JURISTE,
                payload=p.LodgeOfpra,
                guards=(
                    guard.not_dublin,
                    guard.dated(
                        "filed_at",
                        "l'introduction",
                        after="registered_on",
                        after_what="l'enregistrement",
                    ),
                ),
                effect=step.lodge_ofpra,
            ),
            TriggerDef(
                name="request_documents",
                label="Pièces demandées par l'OFPRA",
                label_en="Documents requested by OFPRA",
                roles=JURISTE,
                payload=p.RequestDocuments,
                guards=(
                    guard.dated(
                        "requested_at",
                        "la demande de pièces",
                        after="ofpra_filed_on",
                        after_what="l'introduction du dossier",
                    ),
                ),
                effect=step.request_documents,
                replan_clocks=True,
            ),
            TriggerDef(
                name="schedule_interview",
                label="Entretien OFPRA convoqué",
                label_en="OFPRA interview scheduled",
                roles=RECORDERS,
                payload=p.ScheduleInterview,
                guards=(guard.moment_not_in_past("interview_at", "l'entretien"),),
                effect=step.schedule_interview,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_ofpra_delay_notice",
                label="Avertissement de l'OFPRA : décision au-delà de 6 mois",
                label_en="OFPRA's warning: decision beyond 6 months",
                roles=RECORDERS,
                payload=p.RecordOfpraDelayNotice,
                guards=(guard.ofpra_delay_notice_dates,),
                effect=step.record_ofpra_delay_notice,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_decision",
                label="Décision OFPRA notifiée",
                label_en="OFPRA decision notified",
                roles=RECORDERS,
                payload=p.RecordDecision,
                guards=(guard.decision_dates,),
                effect=step.record_decision,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="record_consultation",
                label="Première consultation de la décision en ligne",
                label_en="Decision first opened online",
                roles=RECORDERS,
                payload=p.RecordConsultation,
                guards=(guard.consultation_moves_the_notification,),
                effect=step.record_consultation,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_closure",
                label="Clôture de l'examen par l'OFPRA",
                label_en="Examination closed by OFPRA",
                roles=JURISTE,
                payload=p.RecordClosure,
                guards=(
                    guard.dated(
                        "closed_at",
                        "la clôture",
                        after="registered_on",
                        after_what="l'enregistrement",
                    ),
                ),
                effect=step.record_closure,
            ),
            TriggerDef(
                name="request_reopening",
                label="Demande de réouverture",
                label_en="Reopening requested",
                roles=JURISTE,
                payload=p.RequestReopening,
                guards=(guard.within_reopening_window,),
                effect=step.request_reopening,
            ),
            TriggerDef(
                name="request_legal_aid",
                label="Aide juridictionnelle demandée",
                label_en="Legal aid requested",
                roles=JURISTE,
                payload=p.RequestLegalAid,
                guards=(
                    guard.legal_aid_not_asked,
                    guard.dated(
                        "requested_at",
                        "la demande d'aide juridictionnelle",
                        after="appeal_from",
                        after_what="la notification du rejet",
                    ),
                ),
                effect=step.request_legal_aid,
            ),
            TriggerDef(
                name="legal_aid_decided",
                label="Décision d'aide juridictionnelle notifiée",
                label_en="Legal-aid decision notified",
                roles=RECORDERS,
                payload=p.LegalAidDecided,
                guards=(
                    guard.dated(
                        "notified_at",
                        "la décision d'aide juridictionnelle",
                        after="legal_aid_requested_on",
                        after_what="la demande",
                    ),
                ),
                effect=step.legal_aid_decided,
            ),
            TriggerDef(
                name="lodge_appeal",
                label="Recours CNDA formé",
                label_en="Appeal lodged with the CNDA",
                roles=JURISTE,
                payload=p.LodgeAppeal,
                guards=(guard.appeal_in_time_or_overridden,),
                effect=step.lodge_appeal,
            ),
            TriggerDef(
                name="appeal_deadline_passed",
                label="Délai de recours expiré",
                label_en="Appeal period over",
                roles=("system",),
                payload=Empty,
                guards=(guard.appeal_deadline_over,),
                effect=step.appeal_deadline_passed,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="schedule_hearing",
                label="Audience CNDA convoquée",
                label_en="CNDA hearing scheduled",
                roles=RECORDERS,
                payload=p.ScheduleHearing,
                guards=(guard.moment_not_in_past("hearing_at", "l'audience"),),
                effect=step.schedule_hearing,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_cnda_decision",
                label="Décision CNDA notifiée",
                label_en="CNDA decision notified",
                roles=RECORDERS,
                payload=p.RecordCndaDecision,
                guards=(guard.cnda_decision_dates,),
                effect=step.record_cnda_decision,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="renew_attestation",
                label="Attestation renouvelée",
                label_en="Attestation renewed",
                roles=RECORDERS,
                payload=p.RenewAttestation,
                guards=(guard.attestation_dates,),
                effect=step.renew_attestation,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="start_dublin",
                label="Accord de l'État responsable (Dublin)",
                label_en="Responsible state agreed (Dublin)",
                roles=JURISTE,
                payload=p.StartDublin,
                guards=(
                    guard.is_dublin,
                    guard.dated(
                        "accepted_at",
                        "l'accord",
                        after="registered_on",
                        after_what="l'enregistrement",
                    ),
                    guard.dated("transfer_decision_notified_at", "la décision de transfert"),
                ),
                effect=step.start_dublin,
                replan_clocks=True,
            ),
            TriggerDef(
                name="update_dublin",
                label="Délai de transfert prolongé (emprisonnement, fuite)",
                label_en="Transfer period extended (imprisonment, absconding)",
                roles=JURISTE,
                payload=p.UpdateDublin,
                guards=(guard.extension_before_deadline,),
                effect=step.update_dublin,
                replan_clocks=True,
            ),
            TriggerDef(
                name="transfer_done",
                label="Transfert effectué",
                label_en="Transfer carried out",
                roles=RECORDERS,
                payload=p.TransferDone,
                guards=(
                    guard.dated(
                        "at", "le transfert", after="dublin_accepted_on", after_what="l'accord"
                    ),
                ),
                effect=read.log,
            ),
            TriggerDef(
                name="requalify",
                label="Requalification : la France devient responsable",
                label_en="Requalified: France becomes responsible",
                roles=("system", *JURISTE),
                payload=p.Requalify,
                guards=(guard.transfer_deadline_over,),
                effect=step.requalify,
                case_clocks=clocks.ATTESTATION,
            ),
            TriggerDef(
                name="record_end_of_care",
                label="Enregistrer la fin de prise en charge (OFII)",
                label_en="Record OFII's end of care",
                roles=("social_worker", "cada_manager"),
                payload=p.RecordEndOfCare,
                guards=(guard.end_of_care_dates,),
                effect=step.record_end_of_care,
                replan_clocks=True,
            ),
            TriggerDef(
                name="extend_stay",
                label="Prolonger le maintien (3 mois, une fois, accord de l'OFII)",
                label_en="Extend the stay (3 months, once)",
                roles=HEAD,
                payload=p.ExtendStay,
                guards=(guard.first_extension,),
                effect=step.extend_stay,
                replan_clocks=True,
            ),
            TriggerDef(
                name="plan_exit",
                label="Planifier la sortie",
                label_en="Plan the exit",
                roles=HEAD,
                payload=p.PlanExit,
                guards=(guard.exit_not_in_past,),
                effect=step.plan_exit,
                replan_clocks=True,
            ),
            TriggerDef(
                name="record_exit",
                label="Enregistrer la sortie",
                label_en="Record the exit",
                roles=RECORDERS,
                payload=p.RecordExit,
                guards=(guard.dated("exited_at", "la sortie"),),
                effect=read.log,
            ),
            TriggerDef(
                name="withdraw",
                label="Clôturer le dossier",
                label_en="Close the case",
                roles=JURISTE,
                payload=p.Withdraw,
                effect=read.log,
            ),
        ),
        transitions=(
            TransitionDef(trigger="lodge_ofpra", sources="registered", dest="ofpra_pending"),
            TransitionDef(trigger="request_documents", sources="ofpra_pending", dest="="),
            TransitionDef(trigger="schedule_interview", sources="ofpra_pending", dest="="),
            TransitionDef(trigger="record_ofpra_delay_notice", sources="ofpra_pending", dest="="),
            TransitionDef(
                trigger="record_decision",
                sources="ofpra_pending",
                dest="protected",
                when=read.outcome_is(*p.PROTECTIONS),
                when_label="réfugié ou protection subsidiaire",
            ),
            TransitionDef(
                trigger="record_decision",
                sources="ofpra_pending",
                dest="appeal_window",
                when=read.outcome_is("rejection"),
                when_label="rejet",
            ),
            TransitionDef(trigger="record_consultation", sources="appeal_window", dest="="),
            TransitionDef(
                trigger="record_closure",
                sources=("registered", "ofpra_pending"),
                dest="ofpra_closed",
            ),
            TransitionDef(
                trigger="request_reopening", sources="ofpra_closed", dest="ofpra_pending"
            ),
            TransitionDef(
                trigger="request_legal_aid",
                sources="appeal_window",
                dest="appeal_suspended",
                when=read.legal_aid_in_time,
                when_label="dans les 15 jours",
            ),
            TransitionDef(
                trigger="request_legal_aid",
                sources="appeal_window",
                dest="=",
                when=read.legal_aid_late,
                when_label="après 15 jours, délai inchangé",
            ),
            TransitionDef(
                trigger="legal_aid_decided", sources="appeal_suspended", dest="appeal_window"
            ),
            TransitionDef(
                trigger="lodge_appeal",
                sources=("appeal_window", "appeal_suspended"),
                dest="cnda_pending",
            ),
            TransitionDef(
                trigger="lodge_appeal",
                sources="rejected_final",
                dest="cnda_pending",
                when_label="hors délai, avec dérogation",
            ),
            TransitionDef(
                trigger="appeal_deadline_passed", sources="appeal_window", dest="rejected_final"
            ),
            TransitionDef(trigger="schedule_hearing", sources="cnda_pending", dest="="),
            TransitionDef(
                trigger="record_cnda_decision",
                sources="cnda_pending",
                dest="protected",
                when=read.outcome_is(*p.PROTECTIONS),
                when_label="réfugié ou protection subsidiaire",
            ),
            TransitionDef(
                trigger="record_cnda_decision",
                sources="cnda_pending",
                dest="rejected_final",
                when=read.outcome_is("rejection"),
                when_label="rejet",
            ),
            TransitionDef(
                trigger="record_cnda_decision",
                sources="cnda_pending",
                dest="ofpra_pending",
                when=read.outcome_is("annulment"),
                when_label="annulation, renvoi à l'OFPRA",
            ),
            TransitionDef(trigger="renew_attestation", sources=CLAIM_STATES, dest="="),
            TransitionDef(trigger="start_dublin", sources="registered", dest="dublin_transfer"),
            TransitionDef(
                trigger="start_dublin",
                sources="dublin_transfer",
                dest="=",
                when_label="décision sur recours : le délai repart",
            ),
            TransitionDef(trigger="update_dublin", sources="dublin_transfer", dest="="),
            TransitionDef(trigger="transfer_done", sources="dublin_transfer", dest="exited"),
            TransitionDef(
                trigger="requalify",
                sources="dublin_transfer",
                dest="registered",
                when_label="délai de transfert expiré",
            ),
            TransitionDef(
                trigger="record_end_of_care", sources=("protected", "rejected_final"), dest="="
            ),
            TransitionDef(trigger="extend_stay", sources="protected", dest="="),
            TransitionDef(
                trigger="plan_exit",
                sources=("protected", "rejected_final"),
                dest="exit_preparation",
            ),
            TransitionDef(trigger="plan_exit", sources="exit_preparation", dest="="),
            TransitionDef(trigger="record_exit", sources="exit_preparation", dest="exited"),
            TransitionDef(trigger="withdraw", sources=OPEN_STATES, dest="withdrawn"),
        ),
    )


ASYLUM = definition()
DEFINITIONS = [ASYLUM]
