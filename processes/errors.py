"""Refusals: what the engine says when it will not do what was asked. Nothing is written."""

from __future__ import annotations

from typing import Any

# Pydantic speaks English; staff read French. The commonest errors, in their words.
_FRENCH = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "string_type": "texte attendu",
    "bool_parsing": "oui/non attendu (true/false)",
    "int_parsing": "nombre entier attendu",
    "decimal_parsing": "montant invalide (ex. 12,50)",
    "date_parsing": "date invalide (attendu : 2026-11-30)",
    "date_from_datetime_parsing": "date invalide (attendu : 2026-11-30)",
    "datetime_parsing": "date-heure invalide (attendu : 2026-11-30T10:00)",
    "datetime_from_date_parsing": "date-heure invalide (attendu : 2026-11-30T10:00)",
    "list_type": "liste attendue",
    "dict_type": "dictionnaire attendu (clé: valeur)",
    "model_type": "dictionnaire attendu (clé: valeur)",
    "model_attributes_type": "dictionnaire attendu (clé: valeur)",
    "finite_number": "nombre fini attendu",
    "decimal_type": "montant attendu (ex. 12,50)",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu (sans décimales)",
    "float_parsing": "nombre attendu",
    "bool_type": "oui/non attendu (true/false)",
    "date_type": "date attendue (2026-11-30)",
    "datetime_type": "date-heure attendue (2026-11-30T10:00)",
    "date_from_datetime_inexact": "date sans heure attendue (2026-11-30)",
    "datetime_object_invalid": "date-heure invalide (attendu : 2026-11-30T10:00)",
    "string_unicode": "texte illisible (UTF-8 attendu)",
    "string_pattern_mismatch": "format invalide",
    "time_parsing": "heure invalide (attendu : 08:00)",
}
_BOUNDS = {
    "greater_than": ("gt", "doit être supérieur à {}"),
    "greater_than_equal": ("ge", "doit être au moins {}"),
    "less_than": ("lt", "doit être inférieur à {}"),
    "less_than_equal": ("le", "doit être au plus {}"),
    "string_too_long": ("max_length", "texte trop long ({} caractères au plus)"),
    "string_too_short": ("min_length", "texte trop court ({} caractère(s) au moins)"),
    "too_long": ("max_length", "trop d'éléments ({} au plus)"),
    "too_short": ("min_length", "pas assez d'éléments ({} au moins)"),
    "decimal_max_digits": ("max_digits", "trop de chiffres ({} au plus)"),
    "decimal_max_places": ("decimal_places", "trop de décimales ({} au plus)"),
}


def french_error(error: Any) -> str:
    """One pydantic error in French, with what was expected when pydantic says it."""
    kind = error.get("type", "")
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"valeur non permise « {error.get('input')} » (attendu : {expected})"
    if kind in _BOUNDS:
        key, text = _BOUNDS[kind]
        return text.format((error.get("ctx") or {}).get(key, "?"))
    if kind == "value_error":
        # Our own validators' messages, already French, without pydantic's English prefix.
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return _FRENCH.get(kind, str(error.get("msg", "")))


class Refusal(Exception):
    """A request the rules do not allow. The message is for people, in French first."""

    code = "refused"

    def __init__(
        self,
        message: str,
        *,
        case_id: int | None = None,
        state: str | None = None,
        allowed: list[str] | None = None,
    ) -> None:
        self.message = message
        self.case_id = case_id
        self.state = state
        self.allowed = allowed or []
        # Set by the engine, which knows the definition: people read words, not codes.
        self.state_label: str | None = None
        self.trigger_labels: dict[str, str] = {}
        super().__init__(self.full_message())

    def in_words(self, state_label: str | None, trigger_labels: dict[str, str]) -> None:
        """Name the state and the allowed triggers by their labels (the codes stay beside the
        triggers: the command line takes them)."""
        self.state_label = state_label
        self.trigger_labels = trigger_labels
        self.args = (self.full_message(),)

    def full_message(self) -> str:
        parts = []
        if self.case_id is not None:
            where = f"dossier C-{self.case_id}"
            if self.state:
                where += f" (état « {self.state_label or self.state} »)"
            parts.append(where)
        parts.append(self.message)
        text = " : ".join(parts)
        if self.case_id is not None and self.state is not None:
            named = [
                f"{self.trigger_labels[code]} ({code})" if code in self.trigger_labels else code
                for code in self.allowed
            ]
            text += f". Déclencheurs permis ici : {', '.join(named) if named else 'aucun'}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": self.full_message(),
            "case": self.case_id,
            "state": self.state,
            "allowed": self.allowed,
        }


class NotFound(Refusal):
    code = "not_found"


class Forbidden(Refusal):
    code = "forbidden"


class InvalidPayload(Refusal):
    code = "invalid_payload"


class Conflict(Refusal):
    """Someone else changed the case first (optimistic locking)."""

    code = "conflict"
