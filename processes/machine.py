"""A definition compiled once into a shared `transitions` machine, and drawn as Mermaid.

Cases are not attached to the machine: the engine hands it a throwaway object holding the
stored state, so one machine serves a million cases without growing (TECH-NOTES).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from transitions import EventData, Machine, MachineError

from processes.context import FireContext
from processes.definition import ProcessDefinition, TransitionDef


class _Cursor:
    """The smallest model `transitions` accepts: just a state attribute."""

    def __init__(self, state: str) -> None:
        self.state = state


def _condition(transition: TransitionDef) -> Callable[[EventData], bool]:
    when = transition.when
    assert when is not None

    def check(event: EventData) -> bool:
        ctx: FireContext = event.kwargs["ctx"]
        return bool(when(ctx))

    return check


def _machine_transitions(definition: ProcessDefinition) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for tr in definition.transitions:
        for source in tr.sources:
            spec: dict[str, Any] = {
                "trigger": tr.trigger,
                "source": source,
                "dest": source if tr.dest == "=" else tr.dest,
            }
            if tr.when is not None:
                spec["conditions"] = [_condition(tr)]
            result.append(spec)
    return result


class CompiledProcess:
    def __init__(self, definition: ProcessDefinition) -> None:
        self.definition = definition
        self.machine = Machine(
            model=None,
            states=[s.id for s in definition.states],
            transitions=_machine_transitions(definition),
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )
        self._lock = threading.Lock()
        self._triggers_by_state = {
            s.id: sorted(self.machine.get_triggers(s.id)) for s in definition.states
        }

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def version(self) -> int:
        return self.definition.version

    def triggers_in(self, state: str) -> list[str]:
        return self._triggers_by_state.get(state, [])

    def staff_triggers_in(self, state: str) -> list[str]:
        """The triggers people can fire in `state`: not those only the sweep fires."""
        return [
            t for t in self.triggers_in(state) if set(self.definition.trigger(t).roles) - {"system"}
        ]

    def triggers_for(self, state: str, role: str) -> list[str]:
        """The triggers a person with `role` may fire in `state`."""
        return [
            t
            for t in self.staff_triggers_in(state)
            if role in self.definition.trigger(t).roles
        ]

    def next_state(self, state: str, trigger: str, ctx: FireContext) -> str | None:
        """Run the trigger on the shared machine; None when no transition's condition holds."""
        cursor = _Cursor(state)
        event = self.machine.events.get(trigger)
        if event is None:
            raise MachineError(f"unknown trigger {trigger}")
        with self._lock:
            moved = event.trigger(cursor, ctx=ctx)
        return cursor.state if moved else None

    def transition_taken(
        self, source: str, trigger: str, dest: str, ctx: FireContext
    ) -> TransitionDef:
        """The definition's transition that `next_state` took (for its notices)."""
        for tr in self.definition.transitions:
            target = source if tr.dest == "=" else tr.dest
            if (
                tr.trigger == trigger
                and source in tr.sources
                and target == dest
                and (tr.when is None or tr.when(ctx))
            ):
                return tr
        raise LookupError(f"{trigger} from {source} to {dest}")

    def mermaid(self) -> str:
        return mermaid_diagram(self.definition)


def mermaid_diagram(definition: ProcessDefinition) -> str:
    """A Mermaid `stateDiagram-v2` of the whole path, French labels and conditions included.

    Written from the definition directly: transitions' GraphMachine highlights the initial
    state as "active" and drops the labels, which is right for a live model, not for a map.
    """
    lines = [
        "---",
        f"title: {definition.label} (v{definition.version})",
        "---",
        "stateDiagram-v2",
        "  direction LR",
    ]
    for st in definition.states:
        lines.append(f'  state "{st.label}" as {st.id}')
    lines.append(f"  [*] --> {definition.initial}: {definition.open_trigger}")
    edges: dict[tuple[str, str], list[str]] = {}
    for tr in definition.transitions:
        label = tr.trigger + (f" ({tr.when_label})" if tr.when_label else "")
        for source in tr.sources:
            dest = source if tr.dest == "=" else tr.dest
            edges.setdefault((source, dest), []).append(label)
    for (source, dest), labels in edges.items():
        lines.append(f"  {source} --> {dest}: {' / '.join(labels)}")
    for st in definition.states:
        if st.final:
            lines.append(f"  {st.id} --> [*]")
    return "\n".join(lines) + "\n"
