"""What staff read instead of codes: a definition's states, triggers and clocks, the kinds of
clock, a payload's fields and values, in French; and the French words staff may type for a
state or a process (`case list --state 2e visite`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from processes import registry
from processes.calendar import format_local, parse_moment
from processes.definition import ProcessDefinition
from processes.errors import InvalidPayload
from processes.fields import choices_of, folded

CLOCK_KINDS_FR = {"reminder": "rappel", "escalation": "escalade", "deadline": "échéance"}
SYSTEM_TRIGGERS_FR = {
    "migrate": "Passage à une nouvelle version du processus",
    "anonymise": "Anonymisation (fin de la durée de conservation)",
}
FIELD_LABELS_FR = {
    # hygiene
    "observed_at": "constat du", "description": "constat", "visit_at": "visite prévue le",
    "mode": "modalité", "held_at": "tenue le", "outcome": "issue", "obstacles": "obstacles",
    "actions": "actions", "cleaning_kit": "kit de nettoyage remis", "notes": "notes",
    "decided_at": "décision du", "grounds": "motifs", "reason": "motif",
    "partner": "partenaire", "dwelling": "logement",
    # arrears and insurance
    "monthly_amount": "redevance mensuelle", "unpaid_months": "mois impayés",
    "balance": "dette", "part_payments": "paiements partiels", "amount": "montant",
    "paid_at": "payé le", "month": "mois", "sent_at": "envoyée le", "channel": "canal",
    "housing_benefit_checked": "droits APL/AL vérifiés", "fsl_requested": "FSL demandé",
    "instalments": "échéances", "due_on": "le", "served_at": "signifiée le",
    "method": "mode de signification", "collected": "retirée",
    "valid_until": "valable jusqu'au", "contacted_at": "contact le",
    # asylum
    "procedure": "procédure", "registered_at": "enregistrée le",
    "attestation_issued_at": "attestation remise le", "filed_at": "introduit le",
    "requested_at": "demandé le", "interview_at": "entretien le", "notified_at": "notifiée le",
    "posted_at": "mise en ligne le", "inadmissible": "irrecevable",
    "consulted_at": "consultée le", "granted": "accordée", "lodged_at": "déposé le",
    "override_reason": "motif du dépôt hors délai", "hearing_at": "audience le",
    "panel": "formation collégiale", "read_at": "lecture publique le",
    "renewed_at": "renouvelée le", "expires_at": "expire le", "accepted_at": "acceptée le",
    "member_state": "État membre",
    "transfer_decision_notified_at": "décision de transfert notifiée le",
    "detained": "en rétention", "situation": "situation", "at": "le",
    "ofii_agreed_at": "accord de l'OFII le", "care_ends_on": "fin de prise en charge le",
    "informed_at": "informé le", "exit_at": "sortie prévue le", "destination": "destination",
    "siao_requested_at": "SIAO sollicité le",
    "social_housing_requested_at": "logement social demandé le", "exited_at": "sortie le",
    "closed_at": "clôture le",
    # the sweep's own events
    "clock": "échéance n°", "kind": "nature", "due_at": "prévue le",
    "from_version": "de la version", "to_version": "à la version",
}


def state_label(definition: ProcessDefinition, state: str | None) -> str:
    if state is None:
        return ""
    return next((s.label for s in definition.states if s.id == state), state)


def clock_label(definition: ProcessDefinition, name: str) -> str:
    return next((c.label for c in definition.all_clocks() if c.name == name), name)


def trigger_label(definition: ProcessDefinition, trigger: str) -> str:
    if trigger.startswith("clock:"):
        return clock_label(definition, trigger.removeprefix("clock:"))
    known = {t.name: t.label for t in definition.triggers}
    return known.get(trigger) or SYSTEM_TRIGGERS_FR.get(trigger, trigger)


def clock_kind(kind: str) -> str:
    return CLOCK_KINDS_FR.get(kind, kind)


def facts(
    definition: ProcessDefinition,
    trigger: str,
    payload: Mapping[str, Any],
    dwellings: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """An event's payload as staff read it: (field, value) in French, in the payload's order;
    a closed list's value in its French word, yes/no, dates in Paris time, a dwelling by its
    label when `dwellings` knows it."""
    if dwellings and isinstance(payload.get("dwelling"), str):
        payload = {**payload, "dwelling": dwellings.get(payload["dwelling"], payload["dwelling"])}
    model: type[BaseModel] | None = None
    if not trigger.startswith("clock:") and trigger in {t.name for t in definition.triggers}:
        model = definition.trigger(trigger).payload
    return [
        (FIELD_LABELS_FR.get(name, name.replace("_", " ")), value_words(model, name, value))
        for name, value in payload.items()
        if value is not None and value != "" and value != []
    ]


def value_words(model: type[BaseModel] | None, name: str, value: Any) -> str:
    info = model.model_fields.get(name) if model is not None else None
    labelled = choices_of(info) if info is not None else None
    if labelled is not None:
        if isinstance(value, list):
            return ", ".join(labelled.label(v) for v in value)
        return labelled.label(value)
    if name == "kind" and isinstance(value, str):
        return clock_kind(value)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return " ; ".join(
            f"{FIELD_LABELS_FR.get(k, k)} {_plain(v)}" for k, v in value.items() if v is not None
        )
    if isinstance(value, str):
        return _date_words(value)
    return str(value)


def _date_words(text: str) -> str:
    """An ISO date or instant as French writes it (Paris time); any other text as it is."""
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        return text
    try:
        if len(text) == 10:
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        moment = parse_moment(text)
    except ValueError:
        return text
    return format_local(moment) if isinstance(moment, datetime) else text


# --- French words typed as filters ------------------------------------------------------


def _pick(typed: str, known: Iterable[tuple[str, str]], what: str, plural: str) -> list[str]:
    """The codes a person meant by a code or a French label (any case or accents), or a
    refusal naming every valid one."""
    options = list(dict.fromkeys(known))
    wanted = folded(typed)
    chosen = sorted({
        code for code, label in options if typed == code or wanted in (folded(code), folded(label))
    })
    if chosen:
        return chosen
    listing = ", ".join(f"{label} ({code})" for code, label in options)
    raise InvalidPayload(f"{what} inconnu « {typed} » ; {plural} : {listing}")


def process_named(typed: str) -> str:
    return _pick(
        typed,
        ((p.definition.name, p.definition.label) for p in registry.latest_all()),
        "processus",
        "processus connus",
    )[0]


def state_named(typed: str, process: str | None = None) -> list[str]:
    """The state codes a person meant: a label like « Clôturé » may name a state of several
    processes, and so may a code (`withdrawn`)."""
    definitions = [registry.get(process).definition] if process else [
        p.definition for p in registry.latest_all()
    ]
    return _pick(
        typed, ((s.id, s.label) for d in definitions for s in d.states), "état", "états possibles"
    )
