"""Read side: cases as the command line, the API and the exports show them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock
from models.directory import Resident
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
