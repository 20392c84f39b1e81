"""Read side: a resident's page, every case across processes, open and closed.

The hygiene, arrears and insurance processes can run for the same resident at once; staff
and the direction need to see them side by side, with what is due next on each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from models.directory import Dwelling, Resident

Labels = Callable[[Case], tuple[str, str]]
"""(process label, state label) of a case, in French: the definitions know them, not us."""


class NextClock(BaseModel):
    name: str
    kind: str
    due_at: datetime
    rule: str


class ResidentCase(BaseModel):
    id: int
    reference: str
    process: str
    process_label: str
    version: int
    state: str
    state_label: str
    closed: bool
    opened_at: datetime
    closed_at: datetime | None
    site: str
    dwelling: str | None
    next_clock: NextClock | None


class ResidentView(BaseModel):
    id: str
    name: str
    dwelling: str | None
    dwelling_label: str | None
    site: str | None
    cases: list[ResidentCase]


def resident_view(session: Session, resident_id: str, labels: Labels) -> ResidentView | None:
    """None when there is no such resident. Open cases first, then closed, oldest first."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        return None
    dwelling = session.get(Dwelling, resident.dwelling_id) if resident.dwelling_id else None
    cases = session.scalars(
        select(Case).where(Case.resident_id == resident_id).order_by(Case.opened_at, Case.id)
    ).all()
    next_clocks = _next_pending(session, [c.id for c in cases])
    rows = []
    for case in sorted(cases, key=lambda c: c.closed_at is not None):
        process_label, state_label = labels(case)
        clock = next_clocks.get(case.id)
        rows.append(ResidentCase(
            id=case.id, reference=case.reference, process=case.process,
            process_label=process_label, version=case.process_version, state=case.state,
            state_label=state_label, closed=case.closed_at is not None,
            opened_at=case.opened_at, closed_at=case.closed_at, site=case.site_id,
            dwelling=case.dwelling_id,
            next_clock=NextClock(name=clock.name, kind=clock.kind, due_at=clock.due_at,
                                 rule=clock.rule) if clock else None,
        ))
    return ResidentView(
        id=resident.id, name=resident.name, dwelling=resident.dwelling_id,
        dwelling_label=dwelling.label if dwelling else None,
        site=dwelling.site_id if dwelling else None, cases=rows,
    )


def _next_pending(session: Session, case_ids: list[int]) -> dict[int, Clock]:
    """The earliest pending clock of each case, in one query for all of them."""
    if not case_ids:
        return {}
    result: dict[int, Clock] = {}
    for clock in session.scalars(
        select(Clock)
        .where(Clock.case_id.in_(case_ids), Clock.status == "pending")
        .order_by(Clock.due_at.desc(), Clock.id.desc())
    ):
        result[clock.case_id] = clock  # the last one written per case is the earliest
    return result
