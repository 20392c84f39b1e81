"""The audit trail is verifiable: an intact history has no break, and a payload edited, an
event removed (in the middle or at the end) or two events swapped behind the engine's back are
each found, naming the case and the event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import walk_to
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from models.db import session_scope
from processes.audit import (
    ChainBreak,
    canonical_json,
    event_hash,
    hash_from_text,
    iter_breaks,
    moment_text,
)


def three_cases(engine: Engine) -> tuple[int, int, int]:
    """A case at warning_2 (8 events), one at visit_1 and one just reported."""
    with session_scope(engine) as s:
        tampered = walk_to(s, "warning_2").id
        other = walk_to(s, "visit_1", resident="r-0003").id
        third = walk_to(s, "reported", resident="r-0002").id
    return tampered, other, third


def breaks(engine: Engine) -> list[ChainBreak]:
    with session_scope(engine) as s:
        return list(iter_breaks(s))


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    # Raw SQL, as someone with database access would do it, bypassing the engine.
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def test_an_intact_history_has_no_break(engine: Engine) -> None:
    tampered, other, _ = three_cases(engine)

    assert breaks(engine) == []
    with session_scope(engine) as s:
        assert list(iter_breaks(s, tampered)) == []
        assert list(iter_breaks(s, other)) == []


def test_a_visit_outcome_edited_in_the_database_is_detected(engine: Engine) -> None:
    case_id, _, _ = three_cases(engine)
    with engine.connect() as conn:
        payload = conn.execute(
            text("SELECT payload FROM case_events WHERE case_id = :c AND seq = 3"), {"c": case_id}
        ).scalar_one()
    if isinstance(payload, str):
        payload = json.loads(payload)
    assert payload["outcome"] == "unsatisfactory"
    payload["outcome"] = "satisfactory"

    tamper(
        engine,
        "UPDATE case_events SET payload = :p WHERE case_id = :c AND seq = 3",
        p=json.dumps(payload),
        c=case_id,
    )

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 3)
    assert found.describe() == (
        f"dossier C-{case_id}, événement n° 3 : contenu modifié (empreinte invalide)"
    )


@pytest.mark.parametrize(
    ("column", "value"), [("actor_id", "dgls-1"), ("to_state", "good_upkeep"), ("role", "dgls")]
)
def test_who_did_it_or_where_it_led_cannot_be_rewritten(
    engine: Engine, column: str, value: str
) -> None:
    case_id, _, _ = three_cases(engine)

    tamper(
        engine,
        f"UPDATE case_events SET {column} = :v WHERE case_id = :c AND seq = 5",
        v=value,
        c=case_id,
    )

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 5)


def test_an_event_removed_from_the_middle_is_detected(engine: Engine) -> None:
    case_id, _, _ = three_cases(engine)

    tamper(engine, "DELETE FROM case_events WHERE case_id = :c AND seq = 4", c=case_id)

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 4)
    assert "événement manquant ou déplacé (trouvé n° 5)" in found.describe()
    assert f"dossier C-{case_id}, événement n° 4" in found.describe()


def test_the_last_event_removed_is_detected(engine: Engine) -> None:
    case_id, _, _ = three_cases(engine)

    tamper(engine, "DELETE FROM case_events WHERE case_id = :c AND seq = 8", c=case_id)

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 8)
    assert "s'arrête au n° 7 alors que le dossier en compte 8 (événement supprimé)" in (
        found.describe()
    )


def test_the_only_event_of_a_case_removed_is_detected(engine: Engine) -> None:
    _, _, case_id = three_cases(engine)

    tamper(engine, "DELETE FROM case_events WHERE case_id = :c", c=case_id)

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 1)


def test_two_events_swapped_are_detected(engine: Engine) -> None:
    case_id, _, _ = three_cases(engine)

    # Swap seq 6 and 7 (through a free number: (case_id, seq) is unique).
    for old, new in ((6, 1000), (7, 6), (1000, 7)):
        tamper(
            engine,
            "UPDATE case_events SET seq = :new WHERE case_id = :c AND seq = :old",
            new=new,
            old=old,
            c=case_id,
        )

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 6)
    assert "événement manquant ou déplacé (trouvé n° 7)" in found.describe()


def test_two_events_swapped_with_their_whole_content_are_detected(engine: Engine) -> None:
    """Even with ids kept in order, the chain of previous hashes no longer links."""
    case_id, _, _ = three_cases(engine)
    columns = "at, actor_id, role, trigger, from_state, to_state, payload, prev_hash, hash"
    with engine.connect() as conn:
        rows = {
            row.seq: row
            for row in conn.execute(
                text(f"SELECT seq, {columns} FROM case_events WHERE case_id = :c AND seq IN (4,5)"),
                {"c": case_id},
            )
        }
    names = [c.strip() for c in columns.split(",")]
    assignments = ", ".join(f"{n} = :{n}" for n in names)
    for seq, other in ((4, 5), (5, 4)):
        values = {n: getattr(rows[other], n) for n in names}
        if not isinstance(values["payload"], str):
            values["payload"] = json.dumps(values["payload"])
        tamper(
            engine,
            f"UPDATE case_events SET {assignments} WHERE case_id = :c AND seq = :s",
            c=case_id,
            s=seq,
            **values,
        )

    [found] = breaks(engine)
    assert (found.case_id, found.seq) == (case_id, 4)


names = st.text(max_size=12)  # any text: quotes, backslashes, accents, controls, U+2028
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | names,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)


@given(
    case_id=st.integers(min_value=1, max_value=2**62),
    seq=st.integers(min_value=1, max_value=10**6),
    at=st.datetimes(timezones=st.timezones()),
    actor=names, role=names, trigger=names, from_state=st.none() | names, to_state=names,
    payload=st.dictionaries(names, json_values, max_size=4),
    prev=names,
)
def test_the_sweep_s_joined_hash_is_the_engine_s_hash(
    case_id: int, seq: int, at: Any, actor: str, role: str, trigger: str,
    from_state: str | None, to_state: str, payload: dict[str, Any], prev: str,
) -> None:
    """The sweep builds the canonical text by joining parts: the same bytes, the same hash."""
    common = {"case_id": case_id, "seq": seq, "actor_id": actor, "role": role,
              "trigger": trigger, "from_state": from_state, "to_state": to_state,
              "prev_hash": prev}
    assert hash_from_text(
        at_text=moment_text(at), payload_text=canonical_json(payload), **common
    ) == event_hash(at=at, payload=payload, **common)
