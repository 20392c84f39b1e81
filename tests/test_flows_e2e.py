"""The real `followup_sweep` flow on Prefect's test server, against a database with due clocks."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from conftest import at
from sqlalchemy import Engine, select
from test_sweep import clock_events, report_many

from models.cases import Case, Clock, Notification
from models.db import session_scope
from models.views import events_of
from processes.audit import iter_breaks


def run_sweep_flow(now: str, batch_size: int) -> dict[str, Any]:
    from flows.sweep import followup_sweep

    state = followup_sweep(now=at(now), batch_size=batch_size, return_state=True)
    assert state.is_completed(), state
    result: dict[str, Any] = state.result()
    return result


@pytest.mark.usefixtures("prefect_harness")
def test_the_sweep_flow_reminds_every_late_case_once_and_a_second_run_fires_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The flow's tasks open the application database from the environment, as deployed.
    monkeypatch.setenv("SUIVI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    cases = report_many(engine, 7)  # Monday 23 November, 09:00

    # Monday 30 November, 10:00: five working days have passed; batches of 3 make 3 tasks.
    first = run_sweep_flow("2026-11-30 10:00", batch_size=3)

    assert (first["fired"], first["by_kind"], first["batches"], first["errors"]) == (
        7, {"reminder": 7}, 3, []
    )
    with session_scope(engine) as s:
        for case_id in cases:
            case = s.get_one(Case, case_id)
            assert (case.state, case.last_seq) == ("reported", 2)
            assert [e.trigger for e in events_of(s, case_id)] == [
                "open", "clock:plan_first_visit"
            ]
        queued = s.scalars(select(Notification).where(Notification.kind == "plan_first_visit"))
        assert Counter((n.recipient_staff_id, n.status) for n in queued) == Counter(
            {("gs-viala", "pending"): 5, ("gs-chartreux", "pending"): 2}
        )
        statuses = s.scalars(select(Clock.status).where(Clock.name == "plan_first_visit"))
        assert set(statuses) == {"fired"}

    again = run_sweep_flow("2026-11-30 10:15", batch_size=3)

    assert (again["claimed"], again["fired"]) == (0, 0)
    with session_scope(engine) as s:
        assert len(clock_events(s)) == 7 and set(clock_events(s).values()) == {1}
        assert len(s.scalars(select(Notification.id)).all()) == 7
        assert list(iter_breaks(s)) == []
