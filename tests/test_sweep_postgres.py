"""PostgreSQL: sweeps at once take disjoint batches; a case a colleague holds waits its turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DIRECTORY, _reset_postgres, at
from sqlalchemy import Engine, select
from test_sweep import clock_events, report_many

from models.cases import Case, Clock
from models.db import make_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from processes.sweep import SweepSummary, sweep_due_clocks


@pytest.fixture
def pg(postgres_server: sa.URL, tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(postgres_server.render_as_string(hide_password=False), pool_size=6)
    _reset_postgres(eng)
    upgrade(eng)
    with session_scope(eng) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    yield eng
    eng.dispose()


def test_two_sweeps_at_once_claim_disjoint_batches_and_fire_each_clock_once(pg: Engine) -> None:
    report_many(pg, 40)
    # Both first batches are held open until the other has claimed its own.
    both_claimed = threading.Barrier(2, timeout=30)
    claimed: dict[str, list[int]] = {}
    results: dict[str, SweepSummary] = {}

    def sweep(worker: str) -> None:
        def hold(number: int, ids: list[int]) -> None:
            claimed.setdefault(worker, []).extend(ids)
            if number == 1:
                both_claimed.wait()

        results[worker] = sweep_due_clocks(
            pg, at("2026-11-30 10:00"), batch_size=8, worker=worker, on_claimed=hold
        )

    threads = [threading.Thread(target=sweep, args=(w,)) for w in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not both_claimed.broken
    assert set(claimed["alpha"]).isdisjoint(claimed["beta"])
    assert results["alpha"].fired + results["beta"].fired == 40
    assert results["alpha"].fired >= 8 and results["beta"].fired >= 8
    with session_scope(pg) as s:
        events = clock_events(s)
        assert len(events) == 40 and set(events.values()) == {1}
        workers = s.scalars(select(Clock.claimed_by).where(Clock.status == "fired")).all()
        assert sorted(set(workers)) == ["alpha", "beta"]


def test_a_case_a_colleague_is_changing_keeps_its_reminder_for_the_next_sweep(
    pg: Engine,
) -> None:
    busy, free = report_many(pg, 2)
    with pg.connect() as colleague:
        # The gs has the case open in a transaction (as `fire` would while it writes).
        colleague.execute(sa.text("BEGIN"))
        colleague.execute(select(Case.id).where(Case.id == busy).with_for_update())

        summary = sweep_due_clocks(pg, at("2026-11-30 10:00"))

        assert (summary.fired, summary.deferred) == (1, 1)
        colleague.execute(sa.text("ROLLBACK"))

    with session_scope(pg) as s:
        status = dict(s.execute(select(Clock.case_id, Clock.status).where(
            Clock.name == "plan_first_visit")).tuples().all())
        assert status == {busy: "pending", free: "fired"}
    assert sweep_due_clocks(pg, at("2026-11-30 10:15")).fired == 1
