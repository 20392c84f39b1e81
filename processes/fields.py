"""Payload field types shared by the process definitions, and what every payload refuses.

Every value a person types goes through `Payload`: dates outside 1900-2200, amounts beyond
a billion euros or finer than a cent, control characters and texts longer than 5,000
characters are refused by name here, so that no calendar overflows, no decimal loses its
precision and SQLite and PostgreSQL store (or refuse) exactly the same things.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    model_validator,
)

from models.text import TEXT_MAX, control_problem
from processes.calendar import PARIS, to_utc

FIRST_YEAR, LAST_YEAR = 1900, 2200
"""A date outside these years is a typing error (0001, 9999), never a real follow-up."""
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")


def year_problem(value: date) -> str | None:
    if FIRST_YEAR <= value.year <= LAST_YEAR:
        return None
    return f"date hors de la plage permise ({FIRST_YEAR}-{LAST_YEAR}) : {value.isoformat()}"


def _sane_day(value: date) -> date:
    problem = year_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _aware(value: datetime) -> datetime:
    # Checked before any conversion: 0001-01-01 in Paris has no UTC instant.
    _sane_day(value)
    # A date-time typed by a person without an offset is Paris time, as staff think of it.
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return to_utc(value)


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _cents(value: Decimal) -> Decimal:
    if abs(value) >= MAX_AMOUNT:
        raise ValueError(f"montant trop grand (au plus {MAX_AMOUNT:,} €)".replace(",", " "))
    if value != value.quantize(CENT):
        raise ValueError(f"montant au centime près attendu (reçu : {value})")
    return value.quantize(CENT)


def _money_text(value: Any) -> Any:
    return str(value).replace(",", ".").strip() if isinstance(value, str) else value


Moment = Annotated[datetime, AfterValidator(_aware)]
"""An instant: ISO date-time, local (Paris) when it has no offset; stored in UTC."""

Day = Annotated[date, AfterValidator(_sane_day)]

Money = Annotated[
    Decimal,
    BeforeValidator(_money_text),
    AfterValidator(_cents),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""Euros as exact decimals, never floats; `12,50` and `12.50` both read as 12.50; a
fraction of a cent is refused rather than rounded away."""

@dataclass(frozen=True)
class Disclosure:
    """Whether a payload field may leave the association (landlord exports) or not.

    Every text field of a payload says which it is: `FreeText` (what staff write in their own
    words: descriptions, obstacles, notes, reasons, grounds) never leaves; `Code` (an id, a
    month, a value from a list) may. A text field that declares neither is treated as free
    text by the exports (`processes.disclosure`), and a test fails until it is declared.
    """

    free_text: bool


FREE_TEXT = Disclosure(free_text=True)
STRUCTURED = Disclosure(free_text=False)

FreeText = Annotated[str, FREE_TEXT]
"""Words typed by staff: never exported to a landlord, erased by retention."""

OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none), FREE_TEXT]

Code = Annotated[str, STRUCTURED]
"""An identifier or a value from a closed list (a dwelling id, a month, a channel)."""


def _value_problem(value: Any) -> str | None:
    """What makes one validated value unstorable, for any field of any payload."""
    if isinstance(value, str):
        return control_problem(value, single_line=False)
    if isinstance(value, date):
        return year_problem(value)
    if isinstance(value, list | tuple):
        return next((p for p in map(_value_problem, value) if p), None)
    if isinstance(value, dict):
        return next((p for p in map(_value_problem, value.values()) if p), None)
    return None


class Payload(BaseModel):
    """Base of every trigger payload: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, str_max_length=TEXT_MAX
    )

    @model_validator(mode="after")
    def _storable(self) -> Payload:
        # Fields typed plainly (`str`, `date`) in a process file get the same limits as ours.
        for name, value in self.__dict__.items():
            problem = _value_problem(value)
            if problem:
                raise ValueError(f"{name} : {problem}")
        return self


class Empty(Payload):
    pass


class Reason(Payload):
    reason: FreeText
