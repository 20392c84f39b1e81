"""The words people read on the pages, French first: field names, choice values, roles,
clock kinds and statuses.

States, triggers and clocks carry their own labels in the definitions; payload fields and
choice values do not, so the pages name them here. A test walks every registered definition
and fails when a field or a choice has no French word, so `satisfactory` never reaches a
screen.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date

from processes.calendar import format_local, parse_moment
from processes.definition import ProcessDefinition, StateDef, TriggerDef

MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

FIELDS = {
    "part_payments": "Paiements partiels déjà reçus",
    "ofii_agreed_at": "Accord de l'OFII le",
    "read_at": "Lecture publique le",
    "care_ends_on": "Fin de prise en charge (date de l'OFII)",
    "informed_at": "Informé le",
    "detained": "En rétention administrative",
    "accepted_at": "Date de l'accord",
    "actions": "Actions convenues",
    "amount": "Montant (€)",
    "at": "Date",
    "attestation_issued_at": "Attestation remise le",
    "balance": "Dette (€)",
    "channel": "Moyen",
    "cleaning_kit": "Kit de nettoyage remis",
    "closed_at": "Date de clôture",
    "collected": "Lettre retirée par le résident",
    "consulted_at": "Première consultation le",
    "contacted_at": "Contacté le",
    "decided_at": "Date de la décision",
    "description": "Constat",
    "destination": "Destination",
    "dwelling": "Logement",
    "exit_at": "Sortie prévue le",
    "exited_at": "Sorti le",
    "expires_at": "Expire le",
    "filed_at": "Introduit le",
    "fsl_requested": "FSL demandé",
    "granted": "Accordée",
    "granted_at": "Accordé le",
    "grounds": "Motifs",
    "hearing_at": "Audience le",
    "held_at": "Date et heure",
    "housing_benefit_checked": "Droits APL/AL vérifiés",
    "inadmissible": "Rejet pour irrecevabilité",
    "instalments": "Échéances (une par ligne : date montant)",
    "insurer": "Assureur",
    "interview_at": "Entretien le",
    "lodged_at": "Formé le",
    "member_state": "État membre responsable",
    "method": "Mode de signification",
    "mode": "Lieu",
    "month": "Mois",
    "monthly_amount": "Redevance mensuelle (€)",
    "notes": "Notes",
    "notified_at": "Notifiée le",
    "observed_at": "Constaté le",
    "obstacles": "Freins rencontrés",
    "outcome": "Résultat",
    "override_reason": "Motif d'un recours hors délai",
    "paid_at": "Payé le",
    "panel": "Formation collégiale",
    "partner": "Partenaire",
    "policy_number": "Numéro de contrat",
    "posted_at": "Mise en ligne le",
    "procedure": "Procédure",
    "reason": "Motif",
    "registered_at": "Enregistrée au GUDA le",
    "renewed_at": "Renouvelée le",
    "requested_at": "Demandé le",
    "sent_at": "Envoyée le",
    "served_at": "Signifiée le",
    "siao_requested_at": "Demande SIAO le",
    "situation": "Situation",
    "social_housing_requested_at": "Demande de logement social le",
    "transfer_decision_notified_at": "Décision de transfert notifiée le",
    "unpaid_months": "Mois impayés",
    "valid_until": "Valable jusqu'au",
    "visit_at": "Date et heure de la visite",
    # What the engine adds to the case data and the event payloads shown in the timeline.
    "number": "Visite n°",
    "planned_for": "Prévue le",
    "recorded_by": "Saisi par",
    "due_on": "Échéance",
}

VALUES = {
    "absconded": "en fuite",
    "accelerated": "accélérée",
    "annulment": "annulation",
    "bailiff": "par huissier",
    "ccas": "CCAS",
    "dublin": "Dublin",
    "email": "courriel",
    "guardian": "tutelle ou curatelle",
    "hand": "remise en main propre",
    "hand_delivery": "remise en main propre",
    "home": "à domicile",
    "imprisoned": "emprisonnement",
    "late_file": "dossier introduit hors délai",
    "letter": "courrier",
    "missed_interview": "absence à l'entretien",
    "normal": "normale",
    "office": "au bureau",
    "other": "autre",
    "refugee": "statut de réfugié",
    "registered_letter": "lettre recommandée",
    "rejection": "rejet",
    "satisfactory": "satisfaisante",
    "seniors_info": "Info Seniors",
    "sms": "SMS",
    "subsidiary": "protection subsidiaire",
    "unsatisfactory": "insatisfaisante",
    "visit": "visite",
}

ROLES = {
    "agent": "agent",
    "gs": "gestionnaire de site",
    "rgls": "responsable de la gestion locative",
    "dgls": "direction de la gestion locative",
    "juriste": "juriste",
    "social_worker": "travailleur social",
    "cada_manager": "chef de service CADA",
    "landlord": "bailleur",
    "admin": "administration",
    "system": "automatique",
    "planner": "la personne qui a planifié",
    "resident": "le résident",
    "actor": "la personne qui agit",
}

CLOCK_KINDS = {"reminder": "rappel", "escalation": "alerte", "deadline": "échéance"}

NOTIFICATION_STATUSES = {
    "pending": "à envoyer",
    "sending": "en cours d'envoi",
    "sent": "envoyé",
    "retry": "nouvel essai prévu",
    "failed": "échec",
    "unknown": "incertain (à vérifier)",
}

SITE_KINDS = {"residence": "résidence sociale", "cada": "CADA", "traveller_site": "aire d'accueil"}


ROLES_EN = {
    "gs": "site manager", "rgls": "housing management lead", "dgls": "housing management director",
    "social_worker": "social worker", "cada_manager": "CADA manager", "landlord": "landlord",
    "admin": "administration", "system": "automatic", "planner": "whoever planned it",
    "resident": "the resident", "actor": "whoever acts", "agent": "agent", "juriste": "lawyer",
}
CLOCK_KINDS_EN = {"reminder": "reminder", "escalation": "alert", "deadline": "deadline"}
NOTIFICATION_STATUSES_EN = {
    "pending": "to send", "sending": "sending", "sent": "sent", "retry": "retry planned",
    "failed": "failed", "unknown": "uncertain (to check)",
}

LANGUAGE: ContextVar[str] = ContextVar("suivi_page_language", default="fr")
"""The language of the page being drawn: the person's (`Viewer.language`), French by default.
Set once per request by the route, read by the words below."""


def use_language(language: str | None) -> None:
    LANGUAGE.set("en" if language == "en" else "fr")


def english() -> bool:
    return LANGUAGE.get() == "en"


def _plain(code: str) -> str:
    return code.replace("_", " ")


def label_of(thing: StateDef | TriggerDef | ProcessDefinition) -> str:
    """A state's, trigger's or process's label in the page's language."""
    return thing.label_en if english() else thing.label


def field_label(name: str) -> str:
    if english():
        return _plain(name).capitalize()
    return FIELDS.get(name, _plain(name).capitalize())


def kind_word(kind: str) -> str:
    return (CLOCK_KINDS_EN if english() else CLOCK_KINDS).get(kind, kind)


def status_word(status: str) -> str:
    return (NOTIFICATION_STATUSES_EN if english() else NOTIFICATION_STATUSES).get(status, status)


def value_word(value: object) -> str:
    """A stored value as a person reads it: choices in French, yes/no, dates in Paris time
    (`30/11/2026 10:30`), money as is."""
    if value is True:
        return "yes" if english() else "oui"
    if value is False:
        return "no" if english() else "non"
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(value_word(v) for v in value)
    if isinstance(value, dict):
        return " ".join(value_word(v) for v in value.values())
    text = str(value)
    if MOMENT.match(text):
        return format_local(parse_moment(text))  # Paris time, as staff read dates
    if DAY.match(text):
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    if english():
        return _plain(text) if text in VALUES else text
    return VALUES.get(text, text)


def role_word(role: str) -> str:
    return (ROLES_EN if english() else ROLES).get(role, role)
