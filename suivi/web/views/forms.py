"""A trigger's payload schema as an HTML form, and the form's answers back as a payload.

The fields come from the pydantic model on the definition (`TriggerDef.payload`): a date-time
becomes a date-and-time picker, a day a date picker, a choice (`Literal`) a list of French
words, a yes/no a checkbox. The payload built from the answers is validated by the engine, as
any other caller's: the form adds no rule of its own.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from processes.calendar import local
from suivi.web.views.words import field_label, value_word

Kind = Literal["datetime", "date", "choice", "check", "yesno", "money", "text", "long", "month",
               "list", "lines"]
LONG_TEXT = {"description", "notes", "reason", "grounds", "obstacles", "actions",
             "override_reason"}
# Fields the engine fills itself on the case page (the case's own dwelling).
HIDDEN = {"dwelling"}


@dataclass
class Field:
    name: str
    label: str
    kind: Kind
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""
    help: str = ""


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _base(annotation: Any) -> Any:
    """The type under `Annotated[...]` (Moment, Money, OptionalText are annotated types)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _kind(name: str, info: FieldInfo) -> tuple[Kind, list[str], bool]:
    annotation, optional = _strip_optional(_base(info.annotation))
    annotation = _base(annotation)
    annotation, optional2 = _strip_optional(annotation)
    optional = optional or optional2
    if typing.get_origin(annotation) is Literal:
        return "choice", [str(v) for v in typing.get_args(annotation)], optional
    if annotation is bool:
        return ("yesno" if optional else "check"), [], optional
    if annotation is datetime:
        return "datetime", [], optional
    if annotation is date:
        return "date", [], optional
    if annotation is Decimal:
        return "money", [], optional
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        nested = isinstance(item, type) and issubclass(item, BaseModel)
        return ("lines" if nested else "list"), [], optional
    if name == "month" or any(getattr(m, "pattern", None) for m in info.metadata):
        return "month", [], optional
    return ("long" if name in LONG_TEXT else "text"), [], optional


def _default_text(info: FieldInfo) -> str:
    default = info.get_default(call_default_factory=True)
    if default is None or default is ... or isinstance(default, bool):
        return ""
    return str(default)


def form_fields(payload: type[BaseModel], now: datetime, answers: dict[str, str] | None = None
                ) -> list[Field]:
    """The fields of a trigger's form; `answers` (a refused submission) fill them back."""
    fields = []
    for name, info in payload.model_fields.items():
        if name in HIDDEN:
            continue
        kind, choices, _ = _kind(name, info)
        value = _default_text(info)
        if kind == "datetime" and name != "visit_at" and info.is_required():
            # What is recorded mostly happened just now: a sensible start, easy to change.
            value = local(now).strftime("%Y-%m-%dT%H:%M")
        if answers is not None:
            value = answers.get(name, "")
        help_text = ""
        if kind == "list":
            help_text = "séparés par des virgules, ex. 2026-10, 2026-11"
        elif kind == "lines":
            help_text = "ex. 2026-12-15 120,00"
        fields.append(
            Field(
                name=name,
                label=field_label(name),
                kind=kind,
                required=info.is_required(),
                choices=[(c, value_word(c)) for c in choices],
                value=value,
                help=help_text,
            )
        )
    return fields


def payload_from_form(payload: type[BaseModel], form: dict[str, str]) -> dict[str, Any]:
    """The answers as the payload the engine validates: blanks left out (defaults apply, a
    missing required field is the engine's own French refusal), a ticked box is `true`."""
    result: dict[str, Any] = {}
    for name, info in payload.model_fields.items():
        if name in HIDDEN:
            continue
        kind, _, _ = _kind(name, info)
        raw = (form.get(name) or "").strip()
        if kind == "check":
            result[name] = raw in ("on", "true", "1", "oui")
            continue
        if not raw:
            continue
        if kind == "yesno":
            result[name] = raw == "oui"
        elif kind == "list":
            result[name] = [part for part in raw.replace(";", ",").replace(" ", ",").split(",")
                            if part]
        elif kind == "lines":
            items = []
            for line in raw.splitlines():
                words = line.split()
                if len(words) >= 2:
                    items.append({"due_on": words[0], "amount": words[1]})
                elif words:
                    items.append({"due_on": words[0]})
            result[name] = items
        else:
            result[name] = raw
    return result
