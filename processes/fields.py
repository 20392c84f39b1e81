"""Payload field types shared by the process definitions, and what every payload refuses.

Every value a person types goes through `Payload`: dates outside 1900-2200, amounts beyond
a billion euros or finer than a cent, control characters and texts longer than 5,000
characters are refused by name here, so that no calendar overflows, no decimal loses its
precision and SQLite and PostgreSQL store (or refuse) exactly the same things.
"""

from __future__ import annotations

import types
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    PlainSerializer,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import core_schema

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


def folded(word: str) -> str:
    """A word as compared, whatever its case, accents, apostrophe or spacing: staff type
    « a domicile » or « À domicile » alike."""
    decomposed = unicodedata.normalize("NFKD", word.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("_", " ").split())


class Choices:
    """The French words of a closed list of values, declared beside its codes:

        outcome: Annotated[Literal["satisfactory", "unsatisfactory"],
                           Choices(satisfactory="satisfaisante", unsatisfactory="insatisfaisante")]

    A payload then takes the code or the French word (any case, with or without accents),
    stores the code, and refuses anything else listing the French words. Every closed list
    of every payload must have them: `Payload` refuses a `Literal` field without `Choices`
    when the process file is loaded.
    """

    def __init__(self, **labels: str) -> None:
        self.labels: dict[str, str] = dict(labels)
        self._codes = {folded(code): code for code in labels}
        self._codes.update({folded(word): code for code, word in labels.items()})

    def words(self) -> str:
        return ", ".join(self.labels.values())

    def label(self, code: Any) -> str:
        return self.labels.get(code, str(code)) if isinstance(code, str) else str(code)

    def code_of(self, value: Any) -> str:
        code = self._codes.get(folded(value)) if isinstance(value, str) else None
        if code is None:
            raise ValueError(f"valeur non permise « {value} » (attendu : {self.words()})")
        return code

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        codes = set(get_args(source)) if get_origin(source) is Literal else set()
        if codes != set(self.labels):
            raise TypeError(
                f"Choices({', '.join(self.labels)}) must label exactly the values of "
                f"{source!r}"
            )
        return core_schema.no_info_before_validator_function(self.code_of, handler(source))


def choices_of(info: FieldInfo) -> Choices | None:
    """The French words of a payload field's closed list (also inside `list[...]` or
    `... | None`), or None for a field that is not one."""
    found = _choices_in(info.annotation, tuple(info.metadata))
    return found if isinstance(found, Choices) else None


def _choices_in(annotation: Any, metadata: tuple[Any, ...]) -> Choices | bool:
    """The Choices of a type, True for a bare Literal (a list without words), else False."""
    labelled = next((m for m in metadata if isinstance(m, Choices)), None)
    if labelled is not None:
        return labelled
    origin = get_origin(annotation)
    if origin is Literal:
        return True
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _choices_in(inner, tuple(extra))
    if origin in (list, tuple, set, frozenset, Union, types.UnionType):
        found: Choices | bool = False
        for arg in get_args(annotation):
            inside = _choices_in(arg, ())
            if isinstance(inside, Choices):
                return inside
            found = found or inside
        return found
    return False


def _is_list(info: FieldInfo) -> bool:
    annotation = info.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next((a for a in get_args(annotation) if a is not type(None)), annotation)
    return get_origin(annotation) is list


YES_NO = {"oui": True, "non": False}


def _is_bool(info: FieldInfo) -> bool:
    return info.annotation is bool or bool in get_args(info.annotation)


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

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Staff read and type French words: a closed list without them fails at load.
        for name, info in cls.model_fields.items():
            if _choices_in(info.annotation, tuple(info.metadata)) is True:
                raise TypeError(
                    f"{cls.__module__}.{cls.__name__}.{name}: a closed list (Literal) needs "
                    "its French words: Annotated[Literal[...], Choices(code=\"mot\", ...)]"
                )

    @model_validator(mode="before")
    @classmethod
    def _staff_words(cls, raw: Any) -> Any:
        # `--data unpaid_months=2027-01` (or a form's single value) where a list is expected,
        # and « oui » / « non » where yes or no is.
        if not isinstance(raw, dict):
            return raw
        changed = dict(raw)
        for name, info in cls.model_fields.items():
            value = raw.get(name)
            if _is_list(info) and isinstance(value, str | dict):
                changed[name] = [value]
            elif isinstance(value, str) and folded(value) in YES_NO and _is_bool(info):
                changed[name] = YES_NO[folded(value)]
        return changed

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
