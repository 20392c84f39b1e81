"""Processus défaut d'assurance: the yearly home-insurance certificate.

Reads like the paper diagram (shared/processes/insurance.md):

    expiring ─(certificate expires, automatic)─► missing ─► formal_notice ─► termination_review
        ─(dgls)─► terminated
    any open state ─record_certificate─► insured     any open state ─withdraw─► withdrawn

`open_expiring_insurance` (called by the sweep) opens `expiring` 30 days before the latest
recorded certificate expires; `record_first_certificate` records a resident's first one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case
from processes.arrears import formal_notice_over
from processes.calendar import PARIS, at_local_time, local
from processes.context import FireContext, log_step
from processes.definition import (
    ClockDef,
    Delay,
    Notice,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.errors import InvalidPayload, NotFound, Refusal
from processes.fields import Code, Empty, FreeText, Moment, OptionalText, Payload

FORMAL_NOTICE = "mise en demeure d'un mois, contrat de résidence"
"""The month given to produce a certificate before termination may be considered."""
OPEN_STATES = ("expiring", "missing", "formal_notice", "termination_review")
FIELD_STAFF = ("gs", "rgls")
NOTICE_DAYS = 30
"""The case opens this many days before the certificate's last valid day."""


# --- Payloads ---------------------------------------------------------------------------


class OpenCase(Payload):
    dwelling: Code | None = None
    valid_until: date | None = None
    """Last valid day of the certificate about to expire (none known: gs opens by hand)."""
    insurer: OptionalText = None
    policy_number: OptionalText = None


class RecordCertificate(Payload):
    insurer: FreeText = Field(min_length=1)
    policy_number: FreeText = Field(min_length=1)
    valid_until: date


class RecordContact(Payload):
    contacted_at: Moment
    channel: Code = "visit"
    notes: OptionalText = None


class SendFormalNotice(Payload):
    sent_at: Moment


class Decision(Payload):
    decided_at: Moment
    grounds: FreeText


class Withdraw(Payload):
    reason: FreeText


# --- Effects ------------------------------------------------------------------------------


def expiry_moment(valid_until: date) -> datetime:
    """A certificate valid until a day lapses at midnight after it, Paris time."""
    return at_local_time(valid_until + timedelta(days=1), time(0, 0), PARIS)


def has_expiry(data: Mapping[str, Any]) -> bool:
    return "expires_at" in data


def remember_expiry(ctx: FireContext) -> None:
    opened: OpenCase = ctx.payload  # type: ignore[assignment]
    ctx.data.update(opened.model_dump(mode="json", exclude_none=True, exclude={"dwelling"}))
    if opened.valid_until is not None:
        ctx.data["expires_at"] = expiry_moment(opened.valid_until).isoformat()


def record_certificate(ctx: FireContext) -> None:
    certificate: RecordCertificate = ctx.payload  # type: ignore[assignment]
    previous = {
        k: ctx.data.pop(k) for k in ("insurer", "policy_number", "valid_until") if k in ctx.data
    }
    if previous:
        ctx.data["previous_certificate"] = previous
    ctx.data.update(certificate.model_dump(mode="json"))
    ctx.data["certificate_recorded_at"] = ctx.now.isoformat()


# --- The process ----------------------------------------------------------------------------


def reminder(name: str, label: str, delay: Delay, template: str, *who: str) -> ClockDef:
    return ClockDef(
        name=name, kind="reminder", label=label, delay=delay, template=template, recipients=who
    )


def definition(version: int = 1) -> ProcessDefinition:
    return ProcessDefinition(
        name="insurance",
        version=version,
        label="Défaut d'assurance habitation",
        label_en="Missing home insurance",
        initial="expiring",
        site_kinds=("residence",),
        states=(
            StateDef(
                id="expiring",
                label="Attestation d'assurance à renouveler",
                label_en="Insurance certificate to renew",
                on_enter=(
                    # Not for a first certificate, which passes through `expiring` at once.
                    Notice(template="insurance_expiring", recipients=("gs",), when=has_expiry),
                    Notice(
                        template="resident_insurance_expiring",
                        recipients=("resident",),
                        when=has_expiry,
                    ),
                ),
                clocks=(
                    ClockDef(
                        name="certificate_expiry",
                        kind="deadline",
                        label="Expiration de l'attestation",
                        anchor="data.expires_at",
                        delay=Delay(amount=0, unit="days"),
                        action="fire",
                        trigger="certificate_expired",
                    ),
                ),
            ),
            StateDef(
                id="missing",
                label="Attestation manquante",
                label_en="Certificate missing",
                clocks=(
                    reminder(
                        "contact_resident",
                        "Contacter le résident",
                        Delay(amount=5, unit="working_days"),
                        "insurance_contact_due",
                        "gs",
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
                        template="insurance_notice_expired",
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
                        Delay(amount=10, unit="working_days"),
                        "insurance_termination_decision_due",
                        "dgls",
                    ),
                ),
            ),
            StateDef(id="insured", label="Assuré", label_en="Insured", final=True),
            StateDef(id="terminated", label="Résiliation", label_en="Terminated", final=True),
            StateDef(id="withdrawn", label="Clôturé", label_en="Closed", final=True),
        ),
        triggers=(
            TriggerDef(
                name="open",
                label="Ouvrir le suivi d'assurance",
                label_en="Open the insurance follow-up",
                roles=("system", *FIELD_STAFF),
                payload=OpenCase,
                effect=remember_expiry,
            ),
            TriggerDef(
                name="record_certificate",
                label="Enregistrer l'attestation",
                label_en="Record the certificate",
                roles=FIELD_STAFF,
                payload=RecordCertificate,
                effect=record_certificate,
            ),
            TriggerDef(
                name="certificate_expired",
                label="Attestation expirée",
                label_en="Certificate expired",
                roles=("system", *FIELD_STAFF),
                payload=Empty,
            ),
            TriggerDef(
                name="record_contact",
                label="Enregistrer le contact avec le résident",
                label_en="Record the contact with the resident",
                roles=FIELD_STAFF,
                payload=RecordContact,
                effect=log_step,
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
                payload=Empty,
                guards=(formal_notice_over(FORMAL_NOTICE),),
            ),
            TriggerDef(
                name="decide_termination",
                label="Décider la résiliation (préavis 1 mois)",
                label_en="Decide termination (1-month notice)",
                roles=("dgls",),
                payload=Decision,
                effect=log_step,
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
            TransitionDef(trigger="record_certificate", sources=OPEN_STATES, dest="insured"),
            TransitionDef(trigger="certificate_expired", sources="expiring", dest="missing"),
            TransitionDef(trigger="record_contact", sources="missing", dest="="),
            TransitionDef(trigger="send_formal_notice", sources="missing", dest="formal_notice"),
            TransitionDef(
                trigger="request_termination", sources="formal_notice", dest="termination_review"
            ),
            TransitionDef(
                trigger="decide_termination", sources="termination_review", dest="terminated"
            ),
            TransitionDef(trigger="withdraw", sources=OPEN_STATES, dest="withdrawn"),
        ),
    )


INSURANCE = definition()
DEFINITIONS = [INSURANCE]


# --- Entry points beside the engine's ------------------------------------------------------


def record_first_certificate(
    session: Session,
    resident_id: str,
    *,
    actor_id: str,
    certificate: dict[str, Any],
    now: datetime,
) -> Case:
    """A resident's first certificate: an insurance case opened and closed as `insured` at once.

    Two events in the case's trail (open, record_certificate), so the certificate is audited
    like any later one and the sweep finds it where it finds every renewal.
    """
    from processes.engine import fire, open_case

    case = open_case(
        session, "insurance", resident_id=resident_id, actor_id=actor_id, payload={}, now=now
    )
    return fire(
        session, case.id, "record_certificate", payload=certificate, actor_id=actor_id, now=now
    )


def open_expiring_insurance(session: Session, now: datetime) -> int:
    """Open an `expiring` case for each resident whose latest certificate ends within 30 days.

    The latest certificate is the one of the resident's latest insurance case when that case
    closed as `insured`; a resident with an open case, or whose latest case ended otherwise
    (terminated, withdrawn), is left alone: that is what makes a second run open nothing.
    """
    from processes.engine import SYSTEM_ACTOR, open_case

    today = local(now).date()
    latest: dict[str, Case] = {}
    has_open: set[str] = set()
    rows = session.scalars(
        select(Case).where(Case.process == "insurance").order_by(Case.opened_at, Case.id)
    )
    for case in rows:
        latest[case.resident_id] = case
        if case.closed_at is None:
            has_open.add(case.resident_id)
    opened = 0
    for resident_id, case in sorted(latest.items()):
        if resident_id in has_open or case.state != "insured":
            continue
        valid_until = date.fromisoformat(str(case.data["valid_until"]))
        if valid_until - timedelta(days=NOTICE_DAYS) > today:
            continue
        payload: dict[str, Any] = {
            key: case.data[key]
            for key in ("valid_until", "insurer", "policy_number")
            if key in case.data
        }
        try:
            open_case(
                session,
                "insurance",
                resident_id=resident_id,
                actor_id=SYSTEM_ACTOR,
                payload=payload,
                now=now,
            )
        except (Refusal, InvalidPayload, NotFound):
            # A resident who left, or moved to a site without this process: nothing to follow.
            continue
        opened += 1
    return opened
