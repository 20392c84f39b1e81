"""Every known process definition, by name and version, compiled once."""

from __future__ import annotations

from functools import cache

from processes.definition import ProcessDefinition
from processes.errors import NotFound
from processes.machine import CompiledProcess


@cache
def _all() -> dict[tuple[str, int], CompiledProcess]:
    # Imported here so that loading one definition module never imports the others' cost early.
    from processes import hygiene

    definitions: list[ProcessDefinition] = [*hygiene.DEFINITIONS]
    for module_name in ("asylum", "arrears", "insurance"):
        try:
            module = __import__(f"processes.{module_name}", fromlist=["DEFINITIONS"])
        except ModuleNotFoundError as missing:
            if missing.name != f"processes.{module_name}":
                raise
            continue
        definitions.extend(module.DEFINITIONS)
    compiled: dict[tuple[str, int], CompiledProcess] = {}
    for definition in definitions:
        key = (definition.name, definition.version)
        if key in compiled:
            raise ValueError(f"process {definition.name!r} v{definition.version} defined twice")
        compiled[key] = CompiledProcess(definition)
    return compiled


def names() -> list[str]:
    return sorted({name for name, _ in _all()})


def versions(name: str) -> list[int]:
    return sorted(v for n, v in _all() if n == name)


def get(name: str, version: int | None = None) -> CompiledProcess:
    """A version of a process; the latest when no version is given."""
    known = versions(name)
    if not known:
        raise NotFound(f"processus inconnu « {name} » ; connus : {', '.join(names())}")
    chosen = known[-1] if version is None else version
    if chosen not in known:
        raise NotFound(
            f"processus « {name} » : version {version} inconnue ; versions : "
            + ", ".join(map(str, known))
        )
    return _all()[(name, chosen)]


def latest_all() -> list[CompiledProcess]:
    return [get(name) for name in names()]


def register(definition: ProcessDefinition) -> CompiledProcess:
    """Add a version at run time (tests, a version being tried before it ships)."""
    key = (definition.name, definition.version)
    known = _all()
    if key in known:
        raise ValueError(f"process {definition.name!r} v{definition.version} defined twice")
    known[key] = CompiledProcess(definition)
    return known[key]


def unregister(name: str, version: int) -> None:
    """Forget a version added by `register` (a test cleaning up after itself)."""
    _all().pop((name, version), None)
