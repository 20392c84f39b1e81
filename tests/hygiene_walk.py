"""A hygiene case walked through its visits, dates written out (migration, letters, residents)."""

from __future__ import annotations

from conftest import at
from sqlalchemy.orm import Session

from models.cases import Case
from processes import engine

GS_OF_SITE = {"r-0001": "gs-viala", "r-0002": "gs-viala", "r-0003": "gs-chartreux"}


def report_breach(
    session: Session, resident: str, day: str, *, version: int | None = None
) -> Case:
    """An agent-less report by the site manager, at 09:00 on `day`, observed at 08:30."""
    return engine.open_case(
        session, "hygiene", resident_id=resident, actor_id=GS_OF_SITE[resident],
        payload={"observed_at": f"{day}T08:30", "description": "Odeurs, déchets accumulés"},
        now=at(f"{day} 09:00"), version=version,
    )


def hold_visit(
    session: Session, case: Case, day: str, outcome: str = "unsatisfactory", **notes: str
) -> Case:
    """Planned at 09:15 for 10:00 on `day` (after a report at 09:00 that day: a history is
    written in order), recorded as held at 10:00 by 17:00."""
    notes.setdefault("obstacles", "Isolement, fatigue")
    gs = GS_OF_SITE[case.resident_id]
    engine.fire(session, case.id, "schedule_visit", actor_id=gs, now=at(f"{day} 09:15"),
                payload={"visit_at": f"{day}T10:00", "mode": "home"})
    return engine.fire(session, case.id, "record_visit", actor_id=gs, now=at(f"{day} 17:00"),
                       payload={"held_at": f"{day}T10:00", "outcome": outcome, **notes})


def to_first_warning(
    session: Session, resident: str, visit_days: list[str], *, version: int | None = None
) -> Case:
    """Reported the morning of the first visit; three failed visits; warning_1 at 17:00 on
    the last visit day."""
    case = report_breach(session, resident, visit_days[0], version=version)
    for day in visit_days:
        case = hold_visit(session, case, day)
    assert case.state == "warning_1"
    return case


def evaluate(session: Session, case: Case, moment: str, outcome: str = "unsatisfactory") -> Case:
    return engine.fire(session, case.id, "record_evaluation", actor_id="rgls-sud",
                       now=at(moment), payload={"held_at": moment.replace(" ", "T"),
                                                "outcome": outcome})
