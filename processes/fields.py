"""Payload field types shared by the process definitions."""

from __future__ import annotations

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

OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]


class Payload(BaseModel):
    """Base of every trigger payload: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Empty(Payload):
    pass


class Reason(Payload):
    reason: str
