"""A resident's right of access (RGPD art. 15): everything held about them, nobody else's.

Their directory entry, every case of theirs (asylum included: it is their own procedure) with
its full history and the words staff wrote, the clocks still pending, and the messages sent to
them. Messages to staff about their cases are listed by kind and date only: their words may
name staff or, in an agenda, other residents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Dwelling, Resident, Site
from processes import registry
from processes.audit_labels import ROLE_LABELS_FR, trigger_label
from processes.calendar import local
from processes.errors import NotFound


def _moment(value: datetime | None) -> str | None:
    return local(value).isoformat() if value is not None else None


def resident_record(session: Session, resident_id: str, *, now: datetime) -> dict[str, Any]:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotFound(f"résident inconnu : « {resident_id} »")
    dwelling = session.get(Dwelling, resident.dwelling_id) if resident.dwelling_id else None
    site = session.get(Site, dwelling.site_id) if dwelling else None
    cases = list(session.scalars(
        select(Case).where(Case.resident_id == resident.id).order_by(Case.id)
    ))
    return {
        "generated_at": local(now).isoformat(),
        "resident": {
            "id": resident.id, "name": resident.name, "email": resident.email,
            "phone": resident.phone, "consent": resident.consent,
            "dwelling": dwelling.label if dwelling else None,
            "site": site.name if site else None,
        },
        "cases": [_case(session, case) for case in cases],
        "messages_to_resident": _messages_to(session, resident.id),
    }


def _case(session: Session, case: Case) -> dict[str, Any]:
    definition = registry.get(case.process, case.process_version).definition

    def label(state: str | None) -> str | None:
        try:
            return definition.state(state).label if state else None
        except KeyError:
            return state

    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    )
    clocks = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.status == "pending")
        .order_by(Clock.due_at)
    )
    notices = session.execute(
        select(Notification.kind, Notification.created_at, Notification.recipient_role)
        .where(Notification.case_id == case.id, Notification.recipient_resident_id.is_(None))
        .order_by(Notification.id)
    ).all()
    return {
        "case": case.reference, "process": definition.label, "state": label(case.state),
        "opened_at": _moment(case.opened_at), "closed_at": _moment(case.closed_at),
        "data": case.data,
        "events": [{
            "seq": e.seq, "at": _moment(e.at), "action": trigger_label(definition, e.trigger),
            "from": label(e.from_state), "to": label(e.to_state),
            "role": ROLE_LABELS_FR.get(e.role, e.role), "details": e.payload,
        } for e in events],
        "pending_deadlines": [{"due_at": _moment(c.due_at), "rule": c.rule} for c in clocks],
        "messages_to_staff": [
            {"kind": kind, "at": _moment(at), "role": ROLE_LABELS_FR.get(role or "", role)}
            for kind, at, role in notices
        ],
    }


def _messages_to(session: Session, resident_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Notification).where(or_(Notification.recipient_resident_id == resident_id))
        .order_by(Notification.id)
    )
    return [{"at": _moment(r.created_at), "kind": r.kind, "subject": r.subject, "body": r.body,
             "status": r.status} for r in rows]
