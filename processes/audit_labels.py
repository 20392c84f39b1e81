"""The French words of an audit export: roles, facts, values, actions.

A landlord's officer reads `tenue le : 09/11/2026 10:00 ; issue : insatisfaisante`, never
`held_at` or `unsatisfactory`. Keys and values without a label are shown as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from processes.calendar import local

ROLE_LABELS_FR = {
    "agent": "agent d'entretien",
    "gs": "gestionnaire social",
    "rgls": "responsable de la gestion locative sociale",
    "dgls": "direction de la gestion locative sociale",
    "juriste": "juriste",
    "social_worker": "travailleur social",
    "cada_manager": "responsable du CADA",
    "landlord": "bailleur",
    "admin": "administration",
    "system": "automatique (suivi)",
}

FACT_LABELS_FR = {
    "observed_at": "constat du", "visit_at": "visite prévue le", "mode": "modalité",
    "held_at": "tenue le", "outcome": "issue", "cleaning_kit": "kit de nettoyage remis",
    "decided_at": "décision du", "partner": "partenaire", "dwelling": "logement",
    "monthly_amount": "redevance mensuelle", "unpaid_months": "mois impayés",
    "balance": "dette", "amount": "montant", "paid_at": "payé le", "month": "mois",
    "sent_at": "envoyée le", "channel": "canal",
    "housing_benefit_checked": "droits APL/AL vérifiés",
    "fsl_requested": "FSL demandé", "instalments": "échéances", "served_at": "signifiée le",
    "method": "mode de signification", "collected": "retirée", "valid_until": "valable jusqu'au",
    "contacted_at": "contact le", "due_at": "échéance", "kind": "nature",
    "from_version": "de la version", "to_version": "à la version", "period_months":
    "durée de conservation (mois)",
}
VALUE_LABELS_FR = {
    "satisfactory": "satisfaisante", "unsatisfactory": "insatisfaisante", "home": "à domicile",
    "office": "au bureau", "ccas": "CCAS", "seniors_info": "Seniors info", "guardian": "tuteur",
    "other": "autre", "letter": "courrier", "email": "courriel", "sms": "SMS",
    "hand": "remise en main propre", "visit": "visite", "bailiff": "commissaire de justice",
    "hand_delivery": "remise en main propre", "registered_letter": "lettre recommandée",
    "reminder": "rappel", "escalation": "escalade", "deadline": "échéance",
    True: "oui", False: "non",
}
SYSTEM_TRIGGERS_FR = {
    "migrate": "Passage à une nouvelle version du processus",
    "anonymise": "Anonymisation (fin de la durée de conservation)",
}



def state_label(definition: Any, state: str | None) -> str | None:
    if state is None:
        return None
    try:
        return str(definition.state(state).label)
    except KeyError:
        return state


def trigger_label(definition: Any, trigger: str) -> str:
    if trigger in SYSTEM_TRIGGERS_FR:
        return SYSTEM_TRIGGERS_FR[trigger]
    if trigger.startswith("clock:"):
        name = trigger.partition(":")[2]
        labels = {c.name: c.label for c in definition.all_clocks()}
        return f"Échéance automatique : {labels.get(name, name)}"
    try:
        return str(definition.trigger(trigger).label)
    except KeyError:
        return trigger


def facts_in_french(facts: dict[str, Any]) -> str:
    return " ; ".join(
        f"{FACT_LABELS_FR.get(key, key)} : {_value_fr(value)}" for key, value in facts.items()
    )


def _value_fr(value: Any) -> str:
    if isinstance(value, bool) or value in VALUE_LABELS_FR:
        return str(VALUE_LABELS_FR.get(value, value))
    if isinstance(value, list):
        return ", ".join(_value_fr(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{FACT_LABELS_FR.get(k, k)} {_value_fr(v)}" for k, v in value.items())
    if isinstance(value, str):
        return _moment_or_text(value)
    return str(value)


def _moment_or_text(value: str) -> str:
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            if len(value) == 10:
                return date.fromisoformat(value).strftime("%d/%m/%Y")
            return local(datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            pass
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    return f"{amount:.2f} €".replace(".", ",") if "." in value else value
