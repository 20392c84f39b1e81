"""`suivi process list|show|diagram`: the process definitions, as data and as diagrams."""

from __future__ import annotations

import typer
from rich.table import Table

from processes import registry
from processes.errors import Refusal
from suivi.common import JsonOption, console, fail, print_json, styled

process_app = typer.Typer(help="Définitions des processus.", no_args_is_help=True)


def _get(name: str, version: int | None = None) -> registry.CompiledProcess:
    try:
        return registry.get(name, version)
    except Refusal as refusal:
        fail(refusal.message)


@process_app.command("list")
def list_command(as_json: bool = JsonOption) -> None:
    """Liste les processus connus et leurs versions."""
    rows = [
        {
            "name": p.name,
            "versions": registry.versions(p.name),
            "label": p.definition.label,
            "states": len(p.definition.states),
            "triggers": len(p.definition.triggers),
        }
        for p in registry.latest_all()
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Processus")
    for col in ("nom", "versions", "libellé", "états", "déclencheurs"):
        table.add_column(col)
    for p in registry.latest_all():
        table.add_row(
            p.name,
            ", ".join(map(str, registry.versions(p.name))),
            p.definition.label,
            str(len(p.definition.states)),
            str(len(p.definition.triggers)),
        )
    console.print(table)


@process_app.command("show")
def show_command(
    name: str,
    version: int | None = typer.Option(
        None, "--version", "-v", help="Version (défaut : la dernière)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Décrit un processus : états, déclencheurs avec rôles, horloges."""
    process = _get(name, version)
    d = process.definition
    if as_json:
        print_json(
            {
                "name": d.name,
                "version": d.version,
                "label": d.label,
                "initial": d.initial,
                "states": [
                    {
                        "id": s.id,
                        "label": s.label,
                        "label_en": s.label_en,
                        "final": s.final,
                        "triggers": process.triggers_in(s.id),
                        "clocks": [
                            {
                                "name": c.name,
                                "kind": c.kind,
                                "label": c.label,
                                "when": c.delay.describe(),
                                "anchor": c.anchor,
                                "recipients": list(c.recipients),
                            }
                            for c in s.clocks
                        ],
                    }
                    for s in d.states
                ],
                "triggers": [
                    {
                        "name": t.name,
                        "label": t.label,
                        "roles": list(t.roles),
                        "payload": t.payload.model_json_schema(),
                    }
                    for t in d.triggers
                ],
            }
        )
        return
    console.print(styled((d.label, "bold"), f" ({d.name} v{d.version}) — {d.label_en}"))
    states = Table(title="États")
    for col in ("état", "libellé", "déclencheurs", "horloges"):
        states.add_column(col)
    for s in d.states:
        clocks = "\n".join(
            f"{c.kind} · {c.label} · {c.delay.describe()}"
            + ("" if c.anchor == "entered" else f" {c.anchor.removeprefix('data.')}")
            for c in s.clocks
        )
        states.add_row(
            s.id,
            s.label + (" (clos)" if s.final else ""),
            ", ".join(process.triggers_in(s.id)),
            clocks,
        )
    console.print(states)
    triggers = Table(title="Déclencheurs")
    for col in ("déclencheur", "libellé", "rôles", "données"):
        triggers.add_column(col)
    for t in d.triggers:
        fields = ", ".join(
            f"{n}{'' if f.is_required() else '?'}" for n, f in t.payload.model_fields.items()
        )
        triggers.add_row(t.name, t.label, ", ".join(t.roles), fields)
    console.print(triggers)


@process_app.command("diagram")
def diagram_command(
    name: str,
    version: int | None = typer.Option(None, "--version", "-v"),
) -> None:
    """Imprime le diagramme Mermaid (stateDiagram-v2) du processus."""
    typer.echo(_get(name, version).mermaid(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(process_app, name="process")
