"""Payload field types shared by the process definitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from processes.calendar import PARIS, to_utc


def _aware(value: datetime) -> datetime:
    # A date-time typed by a person without an offset is Paris time, as staff think of it.
    if value.tzinfo is None:
        value = value.replace(tzinfo=PARIS)
    return to_utc(value)


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Moment = Annotated[datetime, AfterValidator(_aware)]
"""An instant: ISO date-time, local (Paris) when it has no offset; stored in UTC."""

Day = date

Money = Annotated[
    Decimal,
    BeforeValidator(lambda v: str(v).replace(",", ".") if isinstance(v, str) else v),
    AfterValidator(lambda v: v.quantize(Decimal("0.01"))),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""Euros as exact decimals, never floats; `12,50` and `12.50` both read as 12.50."""

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


class Payload(BaseModel):
    """Base of every trigger payload: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Empty(Payload):
    pass


class Reason(Payload):
    reason: FreeText
