"""A process definition is checked when it is loaded: a mistake fails at once with a message
naming the state or trigger at fault; and the hygiene definition draws its own diagram."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from processes import registry
from processes.definition import (
    ClockDef,
    Delay,
    Notice,
    ProcessDefinition,
    StateDef,
    TransitionDef,
)
from processes.hygiene import HYGIENE, definition
from processes.machine import CompiledProcess, mermaid_diagram


def variant(**changes: Any) -> ProcessDefinition:
    """The hygiene definition with some fields replaced, validated again as at load time."""
    fields = {name: getattr(HYGIENE, name) for name in ProcessDefinition.model_fields}
    return ProcessDefinition(**{**fields, **changes})


def load_error(**changes: Any) -> str:
    with pytest.raises(ValidationError) as info:
        variant(**changes)
    return str(info.value)


def test_the_hygiene_definition_loads_and_compiles() -> None:
    compiled = CompiledProcess(variant())

    assert compiled.triggers_in("reported") == ["schedule_visit", "withdraw"]
    assert compiled.triggers_in("good_upkeep") == []
    assert compiled.triggers_for("termination_review", "dgls") == [
        "decide_termination", "maintain", "withdraw"
    ]
    assert compiled.triggers_for("termination_review", "gs") == []


def test_a_transition_to_an_unknown_state_fails_at_load() -> None:
    broken = (*HYGIENE.transitions, TransitionDef(trigger="withdraw", sources="reported",
                                                  dest="archived"))

    message = load_error(transitions=broken)

    assert "process 'hygiene' v1" in message
    assert "trigger 'withdraw': unknown destination 'archived'" in message


def test_a_transition_from_an_unknown_state_fails_at_load() -> None:
    broken = (*HYGIENE.transitions, TransitionDef(trigger="withdraw", sources="visit_4",
                                                  dest="withdrawn"))

    assert "trigger 'withdraw': unknown source state 'visit_4'" in load_error(transitions=broken)


def test_a_state_declared_twice_fails_at_load() -> None:
    twice = (*HYGIENE.states, StateDef(id="visit_2", label="2e visite bis", label_en="Again"))

    assert "duplicate state(s): visit_2" in load_error(states=twice)


def test_a_trigger_used_by_no_transition_fails_at_load() -> None:
    orphan = HYGIENE.trigger("withdraw").model_copy(update={"name": "archive"})

    message = load_error(triggers=(*HYGIENE.triggers, orphan))

    assert "trigger 'archive' is in no transition" in message


def test_a_transition_with_an_unknown_trigger_fails_at_load() -> None:
    broken = (*HYGIENE.transitions, TransitionDef(trigger="archive", sources="reported",
                                                  dest="withdrawn"))

    assert "transition uses unknown trigger 'archive'" in load_error(transitions=broken)


def test_a_final_state_with_an_outgoing_transition_fails_at_load() -> None:
    reopen = TransitionDef(trigger="schedule_visit", sources="good_upkeep", dest="visit_1")

    message = load_error(transitions=(*HYGIENE.transitions, reopen))

    assert "trigger 'schedule_visit' leaves final state 'good_upkeep'" in message


def test_an_unknown_initial_state_fails_at_load() -> None:
    assert "initial state 'constat' is not a state" in load_error(initial="constat")


def test_every_problem_is_named_in_one_message() -> None:
    twice = (*HYGIENE.states, StateDef(id="reported", label="Encore", label_en="Again"))
    broken = (*HYGIENE.transitions, TransitionDef(trigger="withdraw", sources="reported",
                                                  dest="archived"))

    message = load_error(states=twice, transitions=broken)

    assert "duplicate state(s): reported" in message
    assert "unknown destination 'archived'" in message


def test_a_clock_that_notifies_nobody_fails_at_load() -> None:
    with pytest.raises(ValidationError, match="clock 'lost': a notify clock needs a template"):
        ClockDef(name="lost", kind="reminder", label="Perdu", delay=Delay(amount=1, unit="days"))


def test_a_clock_anchored_on_nothing_known_fails_at_load() -> None:
    with pytest.raises(ValidationError, match="anchor must be 'entered' or 'data.<key>'"):
        ClockDef(
            name="odd", kind="reminder", label="Bizarre", anchor="visit_at",
            delay=Delay(amount=1, unit="days"), template="x", recipients=("gs",),
        )


def test_a_second_copy_of_a_known_version_is_refused_by_the_registry() -> None:
    with pytest.raises(ValueError, match="process 'hygiene' v1 defined twice"):
        registry.register(definition(version=1))


def test_the_hygiene_diagram_names_every_state_and_transition() -> None:
    diagram = mermaid_diagram(HYGIENE)

    assert diagram.startswith("---\ntitle: Amélioration de l'entretien du logement (v1)\n")
    assert "stateDiagram-v2" in diagram
    for state in HYGIENE.states:
        assert f'state "{state.label}" as {state.id}' in diagram
    assert "[*] --> reported: open" in diagram
    for transition in HYGIENE.transitions:
        for source in transition.sources:
            dest = source if transition.dest == "=" else transition.dest
            edge = next(line for line in diagram.splitlines()
                        if line.startswith(f"  {source} --> {dest}: "))
            assert transition.trigger in edge
    assert "visit_3 --> warning_1: record_visit (insatisfaisante)" in diagram
    assert "termination_review --> warning_2: maintain" in diagram
    for final in ("good_upkeep", "terminated", "withdrawn"):
        assert f"{final} --> [*]" in diagram
    assert "Class " not in diagram, "some Mermaid renderers reject a capital C"


def test_the_compiled_process_draws_the_same_diagram() -> None:
    assert registry.get("hygiene", 1).mermaid() == mermaid_diagram(HYGIENE)


@pytest.mark.parametrize(
    ("template", "recipients"),
    [("insurance_expiring", ("resident",)), ("resident_visit_reminder", ("gs", "resident"))],
)
def test_a_message_to_the_resident_must_be_in_their_own_words(
    template: str, recipients: tuple[str, ...]
) -> None:
    # Staff wording (a link they cannot open, the breach named) must never reach a resident.
    with pytest.raises(ValidationError, match="resident_"):
        Notice(template=template, recipients=recipients)
    with pytest.raises(ValidationError, match="resident_"):
        ClockDef(
            name="x", kind="reminder", label="x", delay=Delay(amount=1, unit="days"),
            template=template, recipients=recipients,
        )
    assert Notice(template="resident_visit_reminder", recipients=("resident",))


def test_triggers_only_the_sweep_fires_are_never_offered_to_people() -> None:
    asylum = registry.get("asylum")
    state = next(
        s.id for s in asylum.definition.states
        if "appeal_deadline_passed" in asylum.triggers_in(s.id)
    )
    assert "appeal_deadline_passed" not in asylum.staff_triggers_in(state)
    for role in ("admin", "juriste", "cada_manager"):
        assert "appeal_deadline_passed" not in asylum.triggers_for(state, role)
    # A trigger people share with the sweep stays offered to them.
    assert "requalify" in asylum.triggers_for(
        next(s.id for s in asylum.definition.states if "requalify" in asylum.triggers_in(s.id)),
        "juriste",
    )
