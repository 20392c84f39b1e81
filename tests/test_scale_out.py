"""Workers sweeping side by side on PostgreSQL: 2,000 due reminders, three sweeps at once.

Each sweep is what one Prefect worker's `followup_sweep` runs; they claim with `FOR UPDATE
SKIP LOCKED`. Nothing may be lost or doubled: every clock fired once, one event each, one
notice each. How the wall time goes with more sweepers is measured in bench/scale_out.py.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import _reset_postgres
from sqlalchemy import Engine, func, select

from models.cases import CaseEvent, Clock, Notification
from models.db import make_engine
from processes.sweep import SweepSummary, sweep_due_clocks

ROOT = Path(__file__).resolve().parents[1]
DUE = 2000
SWEEPERS = ("worker-1", "worker-2", "worker-3")


def bench_sweep() -> Any:
    """bench/sweep.py's cloned cases: what `open_case` writes, written in bulk (fast)."""
    spec = importlib.util.spec_from_file_location("bench_sweep", ROOT / "bench" / "sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_sweep", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pg_due(postgres_server: sa.URL) -> Iterator[tuple[Engine, Any]]:
    engine = make_engine(postgres_server.render_as_string(hide_password=False), pool_size=6)
    _reset_postgres(engine)
    bench = bench_sweep()
    # 2,000 cases reported on Monday 23 November 2026, their first reminder due on the 30th.
    bench.populate(engine, DUE, DUE)
    yield engine, bench
    engine.dispose()


def test_three_workers_sweeping_at_once_fire_each_of_2000_reminders_once(
    pg_due: tuple[Engine, Any],
) -> None:
    engine, bench = pg_due
    # Every sweep holds its first batch open until all three have claimed one.
    all_claimed = threading.Barrier(len(SWEEPERS), timeout=60)
    claimed: dict[str, list[int]] = {name: [] for name in SWEEPERS}
    results: dict[str, SweepSummary] = {}

    def sweep(name: str) -> None:
        def hold(number: int, ids: list[int]) -> None:
            claimed[name].extend(ids)
            if number == 1:
                all_claimed.wait()

        results[name] = sweep_due_clocks(engine, bench.NOW, batch_size=250, worker=name,
                                         on_claimed=hold)

    threads = [threading.Thread(target=sweep, args=(name,)) for name in SWEEPERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not all_claimed.broken
    assert set(results) == set(SWEEPERS)
    assert all(results[n].fired >= 250 and not results[n].errors for n in SWEEPERS)
    assert sum(results[n].fired for n in SWEEPERS) == DUE
    every = [clock for ids in claimed.values() for clock in ids]
    assert len(every) == len(set(every)) == DUE  # no clock claimed by two sweeps
    with engine.connect() as conn:
        by_worker = dict(conn.execute(select(Clock.claimed_by, func.count())
                                      .where(Clock.status == "fired")
                                      .group_by(Clock.claimed_by)).all())
        assert by_worker == {n: results[n].fired for n in SWEEPERS}
        events = conn.execute(select(CaseEvent.case_id, func.count())
                              .where(CaseEvent.trigger == "clock:plan_first_visit")
                              .group_by(CaseEvent.case_id)).all()
        assert len(events) == DUE and {count for _, count in events} == {1}
        notices = conn.execute(select(Notification.clock_id, func.count())
                               .where(Notification.clock_id.is_not(None))
                               .group_by(Notification.clock_id)).all()
        assert len(notices) == DUE and {count for _, count in notices} == {1}
        still_due = conn.scalar(select(func.count()).where(
            Clock.status == "pending", Clock.due_at <= bench.NOW))
        assert still_due == 0
    # The same checks bench/sweep.py makes, hash chains included.
    bench.check(engine, DUE)
    # A fourth sweep finds nothing left.
    assert sweep_due_clocks(engine, bench.NOW).claimed == 0
