"""Issue 14: random unicode, control characters, extreme numbers and dates in every payload field
of every trigger. The engine either accepts (exit 0) or refuses (exit 2, nothing written);
it never fails with anything else (exit 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from conftest import at
from helpers import walk_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from test_hostile_input import dump

from models.db import session_scope
from processes import engine as wf
from processes import registry
from processes.errors import InvalidPayload, Refusal
from processes.fields import FIRST_YEAR, LAST_YEAR

EXTREMES = st.sampled_from([
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59", "0001-01-01T00:00+14:00", "1899-12-31",
    "2200-12-31", "2201-01-01", "2026-02-30", "2026-13", "+999999-01-01", "1e30", "-1e30",
    "0.001", "12,505", "NaN", "-Infinity", "-0", "", " ", "\x00", "\x1b[2J", "x" * 6000,
    "[/]", "<img src=x>", "{oops}", "%s%n", "\u202e", "\ud7ff",
])
HOSTILE = st.one_of(
    EXTREMES,
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.none(),
    st.booleans(),
    st.lists(st.one_of(EXTREMES, st.text(max_size=8)), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)

# Each process opened for a resident of a site it applies to, by someone who may open it.
OPENINGS = {
    "hygiene": ("r-0001", "gs-viala",
                {"observed_at": "2026-11-20T10:00", "description": "Déchets accumulés"}),
    "arrears": ("r-0001", "gs-viala",
                {"monthly_amount": "412.37", "unpaid_months": ["2026-09", "2026-10"]}),
    "insurance": ("r-0002", "gs-viala", {"valid_until": "2026-12-31"}),
    "asylum": ("r-0004", "ts-cada", {"procedure": "normal", "registered_at": "2026-11-20",
                                     "attestation_issued_at": "2026-11-20"}),
}
TRIGGERS = [
    (process.definition.name, trigger)
    for process in registry.latest_all()
    for trigger in process.definition.triggers
]


def spoiled(good: dict[str, Any], fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A good payload with some of its fields (or the trigger's others) made hostile."""
    return st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries(
            {**{k: st.just(v) for k, v in good.items() if k not in chosen},
             **{k: HOSTILE for k in chosen}}
        )
    )


def assert_storable(value: Any) -> None:
    """What an accepted payload holds: sane dates and amounts, no control characters."""
    if isinstance(value, date):
        assert FIRST_YEAR <= value.year <= LAST_YEAR, value
    elif isinstance(value, Decimal):
        assert value.is_finite() and value == value.quantize(Decimal("0.01")), value
    elif isinstance(value, str):
        assert "\x00" not in value and "\x1b" not in value and len(value) <= 5000
    elif isinstance(value, list):
        for item in value:
            assert_storable(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_storable(item)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_payload_field_of_every_trigger_is_validated_or_refused(data: st.DataObject) -> None:
    process, trigger = data.draw(st.sampled_from(TRIGGERS), label="trigger")
    fields = [*trigger.payload.model_fields, "unknown_key"]
    payload = data.draw(spoiled({}, fields), label=f"{process}.{trigger.name}")
    try:
        parsed = wf._validate_payload(trigger, payload, None, None, [])
    except InvalidPayload:
        return
    assert_storable(parsed.model_dump())
    json.dumps(parsed.model_dump(mode="json"))


@pytest.fixture
def walked(sqlite_engine: Engine) -> Iterator[tuple[Engine, dict[str, int]]]:
    """A hygiene case in each state a staff trigger starts from."""
    cases = {}
    for index, state in enumerate(("reported", "visit_1", "warning_1", "warning_2",
                                   "termination_review")):
        with session_scope(sqlite_engine) as s:
            resident = ("r-0001", "r-0002", "r-0003")[index % 3]
            cases[state] = walk_to(s, state, resident=resident).id
    yield sqlite_engine, cases


HYGIENE = registry.get("hygiene").definition
ACTORS = {"agent": "agent-viala", "gs": "gs-viala", "rgls": "rgls-sud", "dgls": "dgls-1"}


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_openings_and_hygiene_steps_exit_0_or_2_and_a_refusal_writes_nothing(
    walked: tuple[Engine, dict[str, int]], data: st.DataObject
) -> None:
    engine, cases = walked
    kind = data.draw(st.sampled_from(["open", "fire"]), label="kind")
    before = dump(engine)
    try:
        if kind == "open":
            process = data.draw(st.sampled_from(sorted(OPENINGS)), label="process")
            resident, actor, good = OPENINGS[process]
            trigger = registry.get(process).definition.trigger(
                registry.get(process).definition.open_trigger
            )
            payload = data.draw(spoiled(good, [*trigger.payload.model_fields, "extra"]))
            with session_scope(engine) as s:
                wf.open_case(s, process, resident_id=resident, actor_id=actor,
                             payload=payload, now=at("2027-06-01 09:00"))
            return
        state = data.draw(st.sampled_from(sorted(cases)), label="state")
        trigger = data.draw(st.sampled_from(
            [t for t in HYGIENE.triggers if t.name != HYGIENE.open_trigger]), label="trigger")
        role = next((r for r in trigger.roles if r in ACTORS), "gs")
        payload = data.draw(spoiled({}, [*trigger.payload.model_fields]), label="payload")
        with session_scope(engine) as s:
            wf.fire(s, cases[state], trigger.name, payload=payload, actor_id=ACTORS[role],
                    now=at("2027-06-01 09:00"))
            s.flush()
            # Every step checked up to its flush; the walk is kept for the next example.
            raise Accepted
    except Accepted:
        pass
    except Refusal:
        assert dump(engine) == before


class Accepted(Exception):
    """Rolls back an accepted step."""


def test_the_fuzz_reaches_every_trigger_of_every_process() -> None:
    assert {p for p, _ in TRIGGERS} == {"hygiene", "asylum", "arrears", "insurance"}
    assert len(TRIGGERS) > 30
