"""A sweep killed with SIGKILL while it works, then run again: nothing lost, nothing twice.

The victim is a child process sweeping 120 due reminders in batches of 8. It says on stdout
when it has claimed a batch and goes straight on firing it; the test kills it as soon as it
has claimed its fourth, so the kill lands while that batch is being fired (or, if the
machine is slow to deliver the signal, between two batches: the outcome must be the same).

A batch's claim commits together with its outcome, so the killed batch's claim dies with its
transaction: the next sweep takes those clocks at once, with no lease to wait for
(`release_stale_claims` is only for claims left committed by something else).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import at
from sqlalchemy import Engine, func, select
from test_sweep import clock_events, report_many

from models.cases import Clock, Notification
from models.db import session_scope
from processes.audit import iter_breaks
from processes.sweep import sweep_due_clocks

ROOT = Path(__file__).resolve().parents[1]
CASES = 120
BATCH = 8
KILL_AFTER_CLAIMING = 4

VICTIM = """
import sys
from datetime import datetime
from models.db import make_engine
from processes.sweep import sweep_due_clocks

def tell(number, ids):
    print(f"claimed batch {number}", flush=True)

sweep_due_clocks(make_engine(sys.argv[1]), datetime.fromisoformat(sys.argv[2]),
                 batch_size=int(sys.argv[3]), on_claimed=tell)
print("finished", flush=True)
"""


def kill_while_sweeping(engine: Engine, now_iso: str) -> list[str]:
    """Run the victim and SIGKILL it right after it claims batch KILL_AFTER_CLAIMING."""
    url = engine.url.render_as_string(hide_password=False)
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, url, now_iso, str(BATCH)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    heard: list[str] = []
    try:
        assert victim.stdout is not None
        for line in victim.stdout:
            heard.append(line.strip())
            if heard[-1] == f"claimed batch {KILL_AFTER_CLAIMING}":
                victim.send_signal(signal.SIGKILL)
                break
    finally:
        victim.kill()
        victim.wait()
        if victim.stdout is not None:
            victim.stdout.close()
    assert victim.returncode == -signal.SIGKILL, heard
    return heard


def statuses_of_due_reminders(engine: Engine) -> Counter[str]:
    # Taking the write lock first (BEGIN IMMEDIATE on SQLite, row locks on PostgreSQL) waits
    # until the server has rolled back the dead worker's transaction, if it has not yet.
    with engine.begin() as conn:
        conn.execute(select(Clock.id).where(Clock.name == "plan_first_visit").with_for_update())
        rows = conn.execute(select(Clock.status).where(Clock.name == "plan_first_visit"))
        return Counter(r.status for r in rows)


def test_a_sweep_killed_while_firing_a_batch_loses_and_duplicates_nothing(
    engine: Engine,
) -> None:
    report_many(engine, CASES)  # Monday 23 November: first reminders due Monday 30, 09:00
    now = at("2026-11-30 10:00")

    heard = kill_while_sweeping(engine, now.isoformat())

    assert "finished" not in heard
    after_kill = statuses_of_due_reminders(engine)
    # Whole batches or nothing: the one being fired died with its transaction, claim included.
    assert set(after_kill) <= {"fired", "pending"}
    assert after_kill["fired"] % BATCH == 0
    assert (KILL_AFTER_CLAIMING - 1) * BATCH <= after_kill["fired"] < CASES
    with session_scope(engine) as s:
        assert len(clock_events(s)) == after_kill["fired"]

    again = sweep_due_clocks(engine, now, batch_size=BATCH)

    assert (again.released, again.fired, again.failed) == (0, after_kill["pending"], 0)
    assert statuses_of_due_reminders(engine) == Counter({"fired": CASES})
    with session_scope(engine) as s:
        events = clock_events(s)
        assert len(events) == CASES and set(events.values()) == {1}
        keys = s.scalars(select(Notification.idempotency_key)).all()
        assert len(keys) == len(set(keys)) == CASES
        assert s.scalar(select(func.count()).select_from(Clock).where(
            Clock.status == "claimed")) == 0
        assert list(iter_breaks(s)) == []
    assert sweep_due_clocks(engine, now, batch_size=BATCH).claimed == 0
