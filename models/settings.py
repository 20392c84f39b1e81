"""The directory file's limits and the organisation's settings, checked before anything is written.

A directory file is YAML written by people: a few aliases are convenient, a billion laughs
is an attack, so aliases have a small budget and the file a sane size. The settings drive
every clock and every resident's reminder, so a bad one is refused at import with its key
named, instead of failing every `case open` or every reminder later.
"""

from __future__ import annotations

import re
import string
from typing import Any, Literal

import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer

from models.text import CONTROL

MAX_FILE_BYTES = 64 * 1024 * 1024
"""A directory of 100,000 residents is about 15 MB of YAML."""
MAX_ALIASES = 20
"""YAML aliases (`*name`) allowed in one file. Aliases are shared when read but copied when
validated and stored: 20 aliases expand a document 1,458 times at most (3^6 × 2), where a
427-byte "billion laughs" with 72 expands it 9^8 times."""
HONOURED_TIMEZONES = ("Europe/Paris",)
"""Calendars, working days and legal deadlines are computed in Paris time only."""
CHANNEL_FIELDS = ("email", "phone")
PHONE_E164 = r"^\+[1-9][0-9]{6,14}$"
PHONE_FRENCH = r"^0[1-9]([ .]?[0-9]{2}){4}$"


class UnsafeYaml(yaml.YAMLError):
    """A file refused before it is read whole; reported like any unreadable YAML."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _BudgetLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting aliases as it composes the document."""

    aliases_seen = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_ALIASES:
                raise too_many_aliases(self.peek_event().start_mark)
        return super().compose_node(parent, index)


MAX_DEPTH = 50
"""Nested collections allowed; a directory needs four or five levels."""


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`'s values (through the streaming reader) with a size limit, an alias
    budget and a depth limit."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_FILE_BYTES:
        raise UnsafeYaml(
            f"fichier trop volumineux (plus de {MAX_FILE_BYTES // (1024 * 1024)} Mo) : refusé"
        )
    from models.yaml_stream import safe_load

    try:
        return safe_load(text)
    except RecursionError:
        raise UnsafeYaml("imbrication trop profonde : fichier refusé") from None


def budget_load(text: str) -> Any:
    """PyYAML's full safe loader, with the same alias budget (what the streaming reader
    falls back to for an unusual file)."""
    loader = _BudgetLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def too_many_aliases(mark: Any = None) -> UnsafeYaml:
    return UnsafeYaml(
        f"plus de {MAX_ALIASES} alias (*nom) : fichier refusé, un annuaire n'en a pas "
        "besoin d'autant",
        mark,
    )


def too_deep(mark: Any = None) -> UnsafeYaml:
    return UnsafeYaml("imbrication trop profonde : fichier refusé", mark)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClockOverride(_Strict):
    """An organisation's own delay for one clock (the same fields as a definition's Delay)."""

    amount: int = Field(ge=-3660, le=3660)
    unit: Literal["minutes", "hours", "days", "working_days", "months"] | None = None
    at: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
    next_working_day: bool | None = None

    @model_serializer(mode="wrap")
    def _only_given(self, handler: Any) -> Any:
        return {k: v for k, v in handler(self).items() if v is not None}


class Signatory(_Strict):
    name: str = Field(min_length=1, max_length=200)
    title: str | None = Field(default=None, max_length=200)


class LetterSettings(_Strict):
    """Who signs the letters: `signatories.<letter kind>`, else `signatories.default`."""

    signatories: dict[str, Signatory] = Field(default_factory=dict)


class AuditSettings(_Strict):
    """Landlord exports and checkpoints (processes/audit_export.py, audit_dispatch.py)."""

    export_actor_names: bool = False
    """Whether a landlord's export names the person who acted (else only the role)."""
    checkpoint_target: str | None = Field(default=None, max_length=1000)
    """An Apprise URL that receives each checkpoint's digest, outside the database."""
    export_dir: str | None = Field(default=None, max_length=1000)
    """Where the monthly exports are kept."""


class RetentionSettings(_Strict):
    closed_case_months: int = Field(default=24, ge=1, le=1200)
    """How long a closed case stays identifiable (RGPD), in months."""


class OrganisationSettings(_Strict):
    """`organisation.settings` in the directory file."""

    letters: LetterSettings | None = None
    """Who signs the letters (`suivi case letter`)."""
    audit: AuditSettings | None = None
    retention: RetentionSettings | None = None

    clocks: dict[str, ClockOverride] = Field(default_factory=dict)
    """`<process>.<clock name>` → its delay."""
    resident_channel: str | None = Field(default=None, max_length=1000)
    """An Apprise URL with `{email}` or `{phone}`, through which residents get reminders."""
    demo: bool | None = None
    """Marks the demonstration database (`suivi demo` erases no other)."""

    @field_validator("clocks")
    @classmethod
    def _clock_names(cls, value: dict[str, ClockOverride]) -> dict[str, ClockOverride]:
        for name in value:
            process, dot, clock = name.partition(".")
            if not (dot and process and clock) or CONTROL.search(name):
                raise ValueError(
                    f"« {name} » : attendu <processus>.<horloge>, ex. hygiene.plan_first_visit"
                )
        return value

    @field_validator("resident_channel")
    @classmethod
    def _channel_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if CONTROL.search(value) or "://" not in value:
            raise ValueError("adresse Apprise attendue (ex. mailtos://…?to={email})")
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError:
            raise ValueError(
                "accolade mal fermée ; seules {email} et {phone} sont permises"
            ) from None
        unknown = sorted({f for f in fields if f not in CHANNEL_FIELDS})
        if unknown:
            raise ValueError(
                f"champ(s) inconnu(s) {', '.join('{' + f + '}' for f in unknown)} ; "
                "seules {email} et {phone} sont permises"
            )
        return value

    @model_serializer(mode="wrap")
    def _only_given(self, handler: Any) -> Any:
        return {k: v for k, v in handler(self).items() if v not in (None, {})}


def check_timezone(value: str) -> str:
    if value not in HONOURED_TIMEZONES:
        raise ValueError(
            f"fuseau « {value} » non pris en charge : suivi calcule les délais à l'heure de "
            f"Paris ({', '.join(HONOURED_TIMEZONES)})"
        )
    return value


def check_email(value: str | None) -> str | None:
    """A real address, one recipient: what a resident's email channel will write to."""
    if value is None or value == "":
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(f"adresse e-mail invalide « {value[:80]} »") from None
    return value


def check_phone(value: str | None) -> str | None:
    """E.164 (+33612345678) or French (06 12 34 56 78)."""
    if value is None or value == "":
        return None
    if not (re.fullmatch(PHONE_E164, value) or re.fullmatch(PHONE_FRENCH, value)):
        raise ValueError(
            f"numéro de téléphone invalide « {value[:40]} » "
            "(attendu : +33612345678 ou 06 12 34 56 78)"
        )
    return value
