"""Which facts of an event may leave the association: the structured ones, never free text.

A payload field is free text when it says so (`fields.FreeText`, `OptionalText`) *or when it
carries text and does not say otherwise* (`fields.Code`): a new process that forgets to
declare a field cannot leak it, it is simply not exported. `undeclared_text_fields` lists those
forgotten fields so that a test can ask for a declaration.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from processes import registry
from processes.definition import ProcessDefinition
from processes.fields import Code, Disclosure, Moment, Payload

FREE, STRUCTURED, UNDECLARED = "free_text", "structured", "undeclared_text"


def _marker(metadata: Any) -> str | None:
    for item in metadata:
        if isinstance(item, Disclosure):
            return FREE if item.free_text else STRUCTURED
    return None


def kind_of(annotation: Any, metadata: tuple[Any, ...] = ()) -> str:
    """`structured`, `free_text`, or `undeclared_text` (a str nobody declared)."""
    declared = _marker(metadata)
    if declared:
        return declared
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return kind_of(base, tuple(extra))
    if origin is Literal:
        return STRUCTURED
    if annotation is str or annotation is Any or annotation is object:
        return UNDECLARED  # text, or anything that may hold text
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        kinds = {kind_of(f.annotation, tuple(f.metadata)) for f in annotation.model_fields.values()}
        return _worst(kinds)
    if origin is dict:  # keys name things (ids, seq numbers): the values tell
        return kind_of(get_args(annotation)[1]) if get_args(annotation) else UNDECLARED
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        return _worst({kind_of(arg) for arg in get_args(annotation) if arg is not Ellipsis})
    return STRUCTURED


def _worst(kinds: set[str]) -> str:
    # A container holding any text that is free (or undeclared) is free as a whole.
    for kind in (FREE, UNDECLARED):
        if kind in kinds:
            return kind
    return STRUCTURED


def field_kinds(model: type[BaseModel]) -> dict[str, str]:
    return {
        name: kind_of(info.annotation, tuple(info.metadata))
        for name, info in model.model_fields.items()
    }


class ClockFired(Payload):
    """What the sweep writes when a clock falls due (`engine.fire_clock`)."""

    clock: int
    kind: Code
    due_at: Moment


class Migrated(Payload):
    """What `process migrate` writes: versions and states, nothing typed by a person."""

    from_version: int
    to_version: int
    mapping: dict[str, Code]
    cancelled: list[Code]
    dropped: list[Code]
    created: dict[str, Code]


class Anonymised(Payload):
    """What retention writes: the hashes of what it erased, never the words themselves."""

    erased: dict[str, Code]
    period_months: int


SYSTEM_PAYLOADS: dict[str, type[BaseModel]] = {
    "clock:": ClockFired,
    "migrate": Migrated,
    "anonymise": Anonymised,
}


def payload_model(process: str, version: int, trigger: str) -> type[BaseModel] | None:
    """The payload model an event's trigger declared, or None when nobody knows it."""
    for prefix, model in SYSTEM_PAYLOADS.items():
        if trigger == prefix or (prefix.endswith(":") and trigger.startswith(prefix)):
            return model
    for candidate in _versions_newest_first(process, version):
        try:
            return candidate.trigger(trigger).payload
        except KeyError:
            continue
    return None


def _versions_newest_first(process: str, version: int) -> Iterator[ProcessDefinition]:
    # The case's own version first: a migrated case's older events used an older one.
    known = registry.versions(process)
    for number in sorted(known, key=lambda v: (v != version, -v)):
        yield registry.get(process, number).definition


def structured_facts(
    process: str, version: int, trigger: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The payload keys an export may show: declared structured, nothing else."""
    model = payload_model(process, version, trigger)
    if model is None:
        return {}
    kinds = field_kinds(model)
    return {key: value for key, value in payload.items() if kinds.get(key) == STRUCTURED}


def undeclared_text_fields() -> list[str]:
    """`process.trigger.field` of every text field that declares neither free nor structured."""
    found: list[str] = []
    models: list[tuple[str, type[BaseModel]]] = [
        (f"{d.name}.{t.name}", t.payload)
        for d in (c.definition for c in _all_compiled())
        for t in d.triggers
    ]
    models += [(f"system.{prefix}", model) for prefix, model in SYSTEM_PAYLOADS.items()]
    for owner, model in models:
        found += [f"{owner}.{name}" for name, kind in _deep_kinds(model) if kind == UNDECLARED]
    return sorted(set(found))


def _deep_kinds(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, info in model.model_fields.items():
        kind = kind_of(info.annotation, tuple(info.metadata))
        nested = [a for a in _flatten(info.annotation) if _is_model(a)]
        if kind == UNDECLARED and nested and _marker(info.metadata) is None:
            for sub in nested:
                yield from _deep_kinds(sub, f"{prefix}{name}.")
            continue
        yield f"{prefix}{name}", kind


def _flatten(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in get_args(annotation):
        yield from _flatten(arg)


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _all_compiled() -> list[Any]:
    return [registry.get(name, v) for name in registry.names() for v in registry.versions(name)]
