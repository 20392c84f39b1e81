"""The sweep fires every due clock exactly once: run twice, killed half-way, with bad rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import at
from hygiene_walk import report_breach
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.cases import CaseEvent, Clock, Notification
from models.db import session_scope
from models.views import events_of
from notifications.compose import message_of
from processes import engine as case_engine
from processes.audit import iter_breaks
from processes.sweep import sweep_due_clocks

ROOT = Path(__file__).resolve().parents[1]


def clock_events(session: Session) -> Counter[int]:
    """How many `clock:<name>` events each clock id produced."""
    events = session.scalars(select(CaseEvent).where(CaseEvent.trigger.like("clock:%")))
    return Counter(int(e.payload["clock"]) for e in events)


def clocks_by_name(session: Session, case_id: int) -> dict[str, Clock]:
    rows = session.scalars(select(Clock).where(Clock.case_id == case_id))
    return {c.name: c for c in rows}


def report_many(engine: Engine, count: int, day: str = "2026-11-23") -> list[int]:
    residents = ["r-0001", "r-0002", "r-0003"]
    ids = []
    with session_scope(engine) as s:
        for i in range(count):
            ids.append(report_breach(s, residents[i % 3], day).id)
    return ids


def test_a_breach_reported_on_monday_23_november_is_reminded_then_escalated_once(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        case_id = report_breach(s, "r-0001", "2026-11-23").id

    # Monday 30 November, 08:59: five working days are not over yet.
    assert sweep_due_clocks(engine, at("2026-11-30 08:59")).fired == 0

    first = sweep_due_clocks(engine, at("2026-11-30 09:00"))
    again = sweep_due_clocks(engine, at("2026-11-30 09:00"))
    assert (first.fired, first.by_kind, again.fired, again.claimed) == (1, {"reminder": 1}, 0, 0)
    with session_scope(engine) as s:
        clocks = clocks_by_name(s, case_id)
        assert clocks["plan_first_visit"].status == "fired"
        assert clocks["plan_first_visit"].fired_at == at("2026-11-30 09:00")
        assert clocks["first_visit_escalation"].status == "pending"
        reminders = s.scalars(select(Notification).where(Notification.case_id == case_id)).all()
        assert [(n.kind, n.recipient_staff_id, n.status) for n in reminders] == [
            ("plan_first_visit", "gs-viala", "pending")
        ]
        # The sweep writes who and which clock; the words come when delivery claims the row.
        assert (reminders[0].clock_id, reminders[0].subject, reminders[0].body) == (
            clocks["plan_first_visit"].id, None, None
        )
        subject, body = message_of(s, reminders[0])
        assert "Planifier la 1re visite" in subject
        assert "30/11/2026 09:00" in body

    # Monday 7 December: ten working days, the rgls hears of it; a second run adds nothing.
    assert sweep_due_clocks(engine, at("2026-12-07 10:00")).by_kind == {"escalation": 1}
    assert sweep_due_clocks(engine, at("2026-12-08 10:00")).fired == 0
    with session_scope(engine) as s:
        history = [e.trigger for e in events_of(s, case_id)]
        assert history == ["open", "clock:plan_first_visit", "clock:first_visit_escalation"]
        kinds = s.scalars(
            select(Notification.recipient_staff_id).where(Notification.case_id == case_id)
            .order_by(Notification.id)
        ).all()
        assert kinds == ["gs-viala", "rgls-sud"]
        assert set(clock_events(s).values()) == {1}
        assert list(iter_breaks(s)) == []


def test_the_batch_path_writes_what_the_engine_writes_clock_by_clock(engine: Engine) -> None:
    """Same reminder, one case through `engine.fire_clock`, the other through the sweep."""
    with session_scope(engine) as s:
        by_engine = report_breach(s, "r-0001", "2026-11-23").id
        by_sweep = report_breach(s, "r-0002", "2026-11-23").id
    with session_scope(engine) as s:
        clock = clocks_by_name(s, by_engine)["plan_first_visit"]
        assert case_engine.fire_clock(s, clock, at("2026-11-30 10:00")) == "reminder"
    assert sweep_due_clocks(engine, at("2026-11-30 10:00")).fired == 1

    def written(s: Session, case_id: int) -> list[tuple[object, ...]]:
        case = case_engine.load_case(s, case_id)
        rows = s.scalars(select(Notification).where(Notification.case_id == case_id)).all()
        ref, url = f"C-{case_id}", f"/cases/{case_id}"

        def same(text: str) -> str:
            return (
                text.replace(ref, "C-x").replace(url, "/cases/x")
                .replace("Jean Dupont", "R").replace("Fatima Benali", "R")
                .replace("Logement 214", "L").replace("Logement 215", "L")
            )

        last = events_of(s, case_id)[-1]
        return [
            (case.last_seq, case.version, last.trigger, last.actor_id, last.role, last.at)
        ] + [
            (n.kind, n.recipient_staff_id, n.recipient_role, n.channel_url, n.subject, n.body,
             n.status, n.next_attempt_at, n.idempotency_key.split(":", 2)[2],
             last.payload == {"clock": n.clock_id, "kind": "reminder",
                              "due_at": "2026-11-30T08:00:00+00:00"},
             *map(same, message_of(s, n)))
            for n in rows
        ]

    with session_scope(engine) as s:
        assert written(s, by_engine) == written(s, by_sweep)
        assert list(iter_breaks(s)) == []


def test_the_batch_writer_refuses_a_row_value_its_type_would_convert(engine: Engine) -> None:
    """Row values go to the driver as they are: a JSON payload must come as its text."""
    from processes.clock_batch import _INSERT_EVENT, EVENT_COLUMNS, _Executemany

    with session_scope(engine) as s:
        with pytest.raises(TypeError, match="payload"):
            _Executemany(s, _INSERT_EVENT, EVENT_COLUMNS, {"at": at("2026-11-30 09:00")})
        _Executemany(
            s, _INSERT_EVENT, EVENT_COLUMNS, {"at": at("2026-11-30 09:00")}, as_given=("payload",)
        )


def test_a_case_that_moved_on_gets_no_reminder_for_the_state_it_left(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = report_breach(s, "r-0001", "2026-11-23").id
        # Friday 27 November the gs plans the first visit for Thursday 3 December.
        case_engine.fire(
            s, case_id, "schedule_visit", actor_id="gs-viala", now=at("2026-11-27 11:00"),
            payload={"visit_at": "2026-12-03T10:00", "mode": "home"},
        )
    with session_scope(engine) as s:
        # A reminder of the state left, pending again as if the engine had missed it.
        s.execute(
            sa.update(Clock).where(Clock.case_id == case_id, Clock.name == "plan_first_visit")
            .values(status="pending", cancelled_at=None)
        )

    summary = sweep_due_clocks(engine, at("2026-11-30 10:00"))

    assert (summary.fired, summary.stale) == (0, 1)
    with session_scope(engine) as s:
        clocks = clocks_by_name(s, case_id)
        assert clocks["plan_first_visit"].status == "cancelled"
        assert clocks["first_visit_escalation"].status == "cancelled"
        assert clocks["visit_reminder"].status == "pending"
        assert clock_events(s) == Counter()
        assert s.scalar(select(sa.func.count()).select_from(Notification).where(
            Notification.kind == "plan_first_visit")) == 0


def test_one_bad_clock_is_marked_failed_and_the_others_fire(engine: Engine) -> None:
    good = report_many(engine, 3)
    with session_scope(engine) as s:
        for action in ("fire:teleport", "summon:ghost"):
            s.add(Clock(
                case_id=good[0], name="broken", kind="deadline", state="reported",
                due_at=at("2026-11-27 09:00"), action=action, recipients=["gs"],
                rule="inséré à la main", status="pending", created_at=at("2026-11-23 09:00"),
            ))

    summary = sweep_due_clocks(engine, at("2026-11-30 10:00"))

    assert summary.fired == 3
    assert sorted(e.message.split(" ")[0] for e in summary.errors) == ["ValueError", "dossier"]
    with session_scope(engine) as s:
        broken = s.scalars(select(Clock).where(Clock.name == "broken").order_by(Clock.id)).all()
        assert [c.status for c in broken] == ["failed", "failed"]
        assert "déclencheur inconnu « teleport »" in (broken[0].error or "")
        assert "action inconnue « summon:ghost »" in (broken[1].error or "")
        fired = s.scalars(select(Clock.case_id).where(Clock.status == "fired")).all()
        assert sorted(fired) == sorted(good)
        assert list(iter_breaks(s)) == []
    # A failed clock is not retried by the next sweep: somebody has to look at it.
    assert sweep_due_clocks(engine, at("2026-11-30 10:15")).claimed == 0


def test_many_clocks_fire_once_across_batches_and_repeated_sweeps(engine: Engine) -> None:
    report_many(engine, 23)
    summary = sweep_due_clocks(engine, at("2026-11-30 10:00"), batch_size=5)
    assert (summary.fired, summary.batches) == (23, 5)
    summary = sweep_due_clocks(engine, at("2026-12-07 10:00"), batch_size=5)
    assert summary.by_kind == {"escalation": 23}
    assert sweep_due_clocks(engine, at("2026-12-07 10:00"), batch_size=5).fired == 0
    with session_scope(engine) as s:
        assert sorted(Counter(clock_events(s).values()).items()) == [(1, 46)]
        assert s.scalar(select(sa.func.count()).select_from(Notification)) == 46
        assert list(iter_breaks(s)) == []


def test_a_claim_left_by_a_dead_worker_is_released_and_fired(engine: Engine) -> None:
    (case_id,) = report_many(engine, 1)
    with session_scope(engine) as s:
        s.execute(
            sa.update(Clock).where(Clock.case_id == case_id, Clock.name == "plan_first_visit")
            .values(status="claimed", claimed_by="old-worker", claimed_at=at("2026-11-30 08:30"))
        )
    summary = sweep_due_clocks(engine, at("2026-11-30 10:00"))
    assert (summary.released, summary.fired) == (1, 1)
    with session_scope(engine) as s:
        clock = clocks_by_name(s, case_id)["plan_first_visit"]
        assert (clock.status, clock.claimed_by) == ("fired", summary.worker)


def test_two_sweeps_at_once_on_sqlite_fire_each_clock_once(sqlite_engine: Engine) -> None:
    report_many(sqlite_engine, 30)
    results = []

    def sweep() -> None:
        results.append(sweep_due_clocks(sqlite_engine, at("2026-11-30 10:00"), batch_size=4))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fired for r in results) == 30
    with session_scope(sqlite_engine) as s:
        assert set(clock_events(s).values()) == {1}
        assert len(clock_events(s)) == 30


VICTIM = """
import sys
from datetime import datetime
from models.db import make_engine
from processes.sweep import sweep_due_clocks

def pause(number, ids):
    if number == 2:
        print(f"claimed {len(ids)}", flush=True)
        sys.stdin.read()  # holds its transaction open until it is killed

sweep_due_clocks(make_engine(sys.argv[1]), datetime.fromisoformat(sys.argv[2]),
                 batch_size=int(sys.argv[3]), on_claimed=pause)
"""


def test_a_sweep_killed_mid_batch_loses_and_duplicates_nothing(engine: Engine) -> None:
    report_many(engine, 30)
    url = engine.url.render_as_string(hide_password=False)
    now = at("2026-11-30 10:00")
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, url, now.isoformat(), "12"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert victim.stdout is not None
        assert victim.stdout.readline().strip() == "claimed 12"
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.wait()
    assert victim.returncode == -signal.SIGKILL

    with session_scope(engine) as s:
        statuses = Counter(s.scalars(select(Clock.status).where(
            Clock.name == "plan_first_visit")).all())
        # The first batch committed; the second died with its transaction.
        assert statuses == Counter({"fired": 12, "pending": 18})

    assert sweep_due_clocks(engine, now, batch_size=12).fired == 18
    with session_scope(engine) as s:
        assert len(clock_events(s)) == 30
        assert set(clock_events(s).values()) == {1}
        keys = s.scalars(select(Notification.idempotency_key)).all()
        assert len(keys) == len(set(keys)) == 30
        assert list(iter_breaks(s)) == []
