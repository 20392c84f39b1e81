"""Read side: cases as the command line, the API and the exports show them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock
from models.directory import Dwelling, Resident, Site
from models.schemas import CaseView, ClockView, EventView


def events_of(session: Session, case_id: int) -> Sequence[CaseEvent]:
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    ).all()


def clocks_of(session: Session, case_id: int, *, pending_only: bool = False) -> Sequence[Clock]:
    query = select(Clock).where(Clock.case_id == case_id)
    if pending_only:
        query = query.where(Clock.status == "pending")
    return session.scalars(query.order_by(Clock.due_at, Clock.id)).all()


def case_view(
    session: Session,
    case: Case,
    *,
    state_label: str,
    allowed: list[str],
    pending_only: bool = True,
) -> CaseView:
    resident = session.get(Resident, case.resident_id)
    return CaseView(
        id=case.id,
        reference=case.reference,
        process=case.process,
        version=case.process_version,
        state=case.state,
        state_label=state_label,
        closed=case.closed_at is not None,
        resident=case.resident_id,
        resident_name=resident.name if resident else "",
        dwelling=case.dwelling_id,
        site=case.site_id,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        record_version=case.version,
        data=case.data,
        allowed_triggers=allowed,
        history=[
            EventView(
                seq=e.seq,
                trigger=e.trigger,
                from_=e.from_state,
                to=e.to_state,
                actor=e.actor_id,
                role=e.role,
                at=e.at,
                payload=e.payload,
                hash=e.hash,
            )
            for e in events_of(session, case.id)
        ],
        clocks=[
            ClockView(
                id=c.id,
                name=c.name,
                kind=c.kind,
                due_at=c.due_at,
                action=c.action,
                status=c.status,
                rule=c.rule,
                recipients=list(c.recipients),
            )
            for c in clocks_of(session, case.id, pending_only=pending_only)
        ],
    )


def next_clocks(session: Session, case_ids: Sequence[int]) -> dict[int, Clock]:
    """The earliest pending clock of each case, in one query."""
    if not case_ids:
        return {}
    found: dict[int, Clock] = {}
    query = (
        select(Clock)
        .where(Clock.case_id.in_(list(case_ids)), Clock.status == "pending")
        .order_by(Clock.due_at.desc(), Clock.id.desc())
    )
    for clock in session.scalars(query):
        found[clock.case_id] = clock
    return found


def directory_names(session: Session, cases: Sequence[Case]) -> dict[str, dict[str, str]]:
    """Residents', sites' and dwellings' names for a page of cases, one query each."""
    residents = {c.resident_id for c in cases}
    sites = {c.site_id for c in cases}
    dwellings = {c.dwelling_id for c in cases if c.dwelling_id}
    return {
        "resident": dict(session.execute(
            select(Resident.id, Resident.name).where(Resident.id.in_(residents))
        ).tuples().all()),
        "site": dict(session.execute(
            select(Site.id, Site.name).where(Site.id.in_(sites))
        ).tuples().all()),
        "dwelling": dict(session.execute(
            select(Dwelling.id, Dwelling.label).where(Dwelling.id.in_(dwellings))
        ).tuples().all()),
    }
