"""Scenario helpers for the engine tests: a hygiene case walked by the staff of the test
directory, and snapshots of what a refusal must leave untouched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conftest import at
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.db import READ_ONLY
from processes import engine as wf

# r-0001 lives in viala-214 (site viala, contact and consent on file); r-0003 in chartreux-12.
GS = "gs-viala"
RGLS = "rgls-sud"
DGLS = "dgls-1"


def iso(moment: str) -> str:
    """`2026-11-30 10:00` as a payload writes it (Paris time, no offset)."""
    return moment.replace(" ", "T")


def report(session: Session, when: str, *, resident: str = "r-0001", actor: str = GS) -> Case:
    """A breach observed half an hour before it is reported at `when` (Paris time)."""
    return wf.open_case(
        session,
        "hygiene",
        resident_id=resident,
        actor_id=actor,
        payload={"observed_at": at(when).isoformat(), "description": "Déchets accumulés"},
        now=at(when),
    )


def schedule(
    session: Session, case_id: int, now: str, visit: str, *, actor: str = GS, mode: str = "home"
) -> Case:
    return wf.fire(
        session,
        case_id,
        "schedule_visit",
        actor_id=actor,
        now=at(now),
        payload={"visit_at": iso(visit), "mode": mode},
    )


def record(
    session: Session,
    case_id: int,
    now: str,
    held: str,
    outcome: str = "unsatisfactory",
    *,
    actor: str = GS,
) -> Case:
    return wf.fire(
        session,
        case_id,
        "record_visit",
        actor_id=actor,
        now=at(now),
        payload={"held_at": iso(held), "outcome": outcome, "obstacles": "Isolement"},
    )


def evaluate(
    session: Session, case_id: int, now: str, outcome: str = "unsatisfactory"
) -> Case:
    return wf.fire(
        session,
        case_id,
        "record_evaluation",
        actor_id=RGLS,
        now=at(now),
        payload={"held_at": iso(now), "outcome": outcome},
    )


# The canonical walk: reported Monday 2 November 2026, a visit each following Monday.
VISIT_DAYS = ("2026-11-09", "2026-11-16", "2026-11-23")
REPORTED = "2026-11-02 09:00"
WARNING_1_AT = "2026-11-23 17:00"
WARNING_2_AT = "2026-12-23 10:00"
REVIEW_AT = "2027-01-22 10:00"


def walk_to(session: Session, target: str, *, resident: str = "r-0001") -> Case:
    """A case brought to `target` along the unsatisfactory path, dates as in the constants."""
    gs = GS if resident != "r-0003" else "gs-chartreux"
    case = report(session, REPORTED, resident=resident, actor=gs)
    if target == "reported":
        return case
    for number, day in enumerate(VISIT_DAYS, start=1):
        case = schedule(session, case.id, f"{day} 08:00", f"{day} 10:00", actor=gs)
        if target == f"visit_{number}":
            return case
        case = record(session, case.id, f"{day} 17:00", f"{day} 10:00", actor=gs)
    if target == "warning_1":
        return case
    case = evaluate(session, case.id, WARNING_2_AT)
    if target == "warning_2":
        return case
    case = evaluate(session, case.id, REVIEW_AT)
    assert target == "termination_review", target
    return case


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused trigger must leave as it was."""

    version: int | None
    state: str | None
    events: int
    clocks: tuple[tuple[int, str, str, datetime], ...]
    """The case's clock rows (the only ones a trigger on it may touch)."""
    all_clocks: int
    notifications: int
    cases: int


def snapshot(engine: Engine, case_id: int | None) -> Snapshot:
    # Two statements on one read-only connection: refusal tests take one before and after
    # every trigger they try (the property test thousands), so seven ORM queries added up.
    def count(model: type[Any]) -> Any:
        return select(func.count()).select_from(model).scalar_subquery()

    def of_case(column: Any) -> Any:
        return select(column).where(Case.id == case_id).scalar_subquery()

    with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        version, state, events, all_clocks, notifications, cases = conn.execute(
            select(
                of_case(Case.version),
                of_case(Case.state),
                count(CaseEvent),
                count(Clock),
                count(Notification),
                count(Case),
            )
        ).one()
        clocks = conn.execute(
            select(Clock.id, Clock.name, Clock.status, Clock.due_at)
            .where(Clock.case_id == case_id)
            .order_by(Clock.id)
        ).all()
    return Snapshot(
        version=version,
        state=state,
        events=events,
        all_clocks=all_clocks,
        clocks=tuple((c.id, c.name, c.status, c.due_at) for c in clocks),
        notifications=notifications,
        cases=cases,
    )


@contextmanager
def writes_nothing(engine: Engine, case_id: int | None) -> Iterator[None]:
    """Asserts the block changed no case, event, clock or notification row."""
    before = snapshot(engine, case_id)
    yield
    assert snapshot(engine, case_id) == before


def pending_clocks(session: Session, case_id: int) -> dict[str, datetime]:
    rows = session.scalars(
        select(Clock).where(Clock.case_id == case_id, Clock.status == "pending")
    ).all()
    names = [c.name for c in rows]
    assert len(names) == len(set(names)), f"a clock is pending twice: {sorted(names)}"
    return {c.name: c.due_at for c in rows}


def history(session: Session, case_id: int) -> list[tuple[int, str, str | None, str, str, str]]:
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()
    return [(e.seq, e.trigger, e.from_state, e.to_state, e.actor_id, e.role) for e in events]
