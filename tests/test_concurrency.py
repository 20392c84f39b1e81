"""Two people act on the same case at the same moment: one wins, the other is told the case
changed under them (Conflict), and nothing is lost: the history stays one unbroken chain."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import at
from helpers import GS, RGLS, history, pending_clocks, walk_to
from sqlalchemy import Engine

from models.cases import Case
from models.db import session_scope
from processes import engine as wf
from processes.audit import iter_breaks
from processes.errors import Conflict, Refusal

Outcome = tuple[str, Any]


def race(engine: Engine, case_id: int, *calls: Callable[..., Case], preload: bool) -> list[Outcome]:
    """Run each call in its own thread and session, released together by a barrier.

    With `preload`, each session reads the case before the barrier, so both hold the same
    version when they write (PostgreSQL). SQLite takes its write lock when a transaction
    begins, so there the second writer waits at BEGIN and then reads the new version.
    """
    barrier = threading.Barrier(len(calls), timeout=20)
    outcomes: list[Outcome | None] = [None] * len(calls)

    def run(index: int, call: Callable[..., Case]) -> None:
        try:
            with session_scope(engine) as s:
                if preload:
                    s.get(Case, case_id)
                barrier.wait()
                case = call(s)
                outcomes[index] = ("ok", (case.state, case.version))
        except Refusal as error:
            outcomes[index] = ("refused", error)
        except Exception as error:  # noqa: BLE001 - anything else is the test's failure
            outcomes[index] = ("error", error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(o is not None for o in outcomes), outcomes
    return [o for o in outcomes if o is not None]


def record_visit(
    case_id: int, actor: str, outcome: str, version: int | None
) -> Callable[..., Case]:
    def call(s: Any) -> Case:
        return wf.fire(
            s, case_id, "record_visit", actor_id=actor, now=at("2026-11-09 17:00"),
            payload={"held_at": "2026-11-09T10:00", "outcome": outcome},
            expected_version=version,
        )

    return call


def withdraw(case_id: int, version: int | None) -> Callable[..., Case]:
    def call(s: Any) -> Case:
        return wf.fire(
            s, case_id, "withdraw", actor_id=RGLS, now=at("2026-11-09 17:00"),
            payload={"reason": "Départ"}, expected_version=version,
        )

    return call


def preload_for(engine: Engine) -> bool:
    return engine.dialect.name != "sqlite"


def assert_history_whole(engine: Engine, case_id: int, events: int) -> Case:
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert [h[0] for h in history(s, case_id)] == list(range(1, events + 1))
        assert case.last_seq == events
        assert list(iter_breaks(s, case_id)) == []
        return case


@pytest.mark.parametrize("attempt", range(3))
def test_two_people_recording_the_same_visit_with_the_same_version_one_is_told_of_a_conflict(
    engine: Engine, attempt: int
) -> None:
    with session_scope(engine) as s:
        case = walk_to(s, "visit_1")
        case_id, version = case.id, case.version

    outcomes = race(
        engine,
        case_id,
        record_visit(case_id, GS, "satisfactory", version),
        record_visit(case_id, RGLS, "unsatisfactory", version),
        preload=preload_for(engine),
    )

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    [(_, error)] = [o for o in outcomes if o[0] == "refused"]
    assert isinstance(error, Conflict)
    assert f"dossier C-{case_id}" in str(error)
    assert "modifié" in str(error)
    [(_, (state, new_version))] = [o for o in outcomes if o[0] == "ok"]
    case = assert_history_whole(engine, case_id, events=3)
    assert (case.state, case.version) == (state, new_version) == (state, version + 1)
    assert len(case.data["visits"]) == 1


def test_a_withdrawal_and_a_visit_record_racing_leave_one_of_them_whole(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = walk_to(s, "visit_1")
        case_id, version = case.id, case.version

    outcomes = race(
        engine,
        case_id,
        withdraw(case_id, version),
        record_visit(case_id, GS, "unsatisfactory", version),
        preload=preload_for(engine),
    )

    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    assert any(isinstance(o[1], Conflict) for o in outcomes)
    case = assert_history_whole(engine, case_id, events=3)
    with session_scope(engine) as s:
        clocks = pending_clocks(s, case_id)
    if case.state == "withdrawn":
        assert clocks == {}
    else:
        assert case.state == "visit_2"
        assert set(clocks) == {"plan_next_visit"}


@pytest.mark.parametrize("attempt", range(3))
def test_two_visit_records_without_a_version_never_lose_an_update(
    engine: Engine, attempt: int
) -> None:
    with session_scope(engine) as s:
        case = walk_to(s, "visit_1")
        case_id = case.id

    outcomes = race(
        engine,
        case_id,
        record_visit(case_id, GS, "unsatisfactory", None),
        record_visit(case_id, RGLS, "unsatisfactory", None),
        preload=preload_for(engine),
    )

    # Either the second writer saw the first one's version (Conflict), or it ran after it and
    # found no visit planned any more: never two visits recorded on top of each other.
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    [(_, error)] = [o for o in outcomes if o[0] == "refused"]
    assert isinstance(error, Conflict) or "aucune visite n'est planifiée" in str(error)
    if engine.dialect.name == "sqlite":
        assert not isinstance(error, Conflict), "SQLite serialises writers at BEGIN"
    case = assert_history_whole(engine, case_id, events=3)
    assert case.state == "visit_2"
    assert len(case.data["visits"]) == 1
