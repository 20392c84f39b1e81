"""Retention (RGPD): a case closed longer than the organisation keeps it stops naming anyone.

Setting `retention.closed_case_months` (default 24): after that many months from closure, the
case's free text (every payload field that is not declared structured), the resident's name
and contacts (once none of their cases is still kept), and the words of its messages are
erased. The case, its states, dates and structured facts stay, and so does its chain:

- each edited event keeps its chain hash (the next event still points to it, checkpoints and
  past exports still name it);
- an `anonymise` event is appended to the case, whose payload records, per erased event, the
  hash of its erased form. `audit verify` checks an erased event against that hash; the
  anonymisation event is itself chained after them, so it cannot be edited either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Notification
from models.directory import Resident
from processes.audit import hash_of
from processes.audit_verify import ANONYMISE_TRIGGER
from processes.calendar import add_months, at_local_time, local
from processes.disclosure import STRUCTURED, field_kinds, payload_model
from processes.engine import SYSTEM_ACTOR, SYSTEM_ROLE, Actor, _append_event, organisation_settings

DEFAULT_MONTHS = 24
ERASED = "[effacé]"
ANONYMOUS_NAME = "[résident anonymisé]"


def retention_months(settings: dict[str, Any]) -> int:
    value = (settings.get("retention") or {}).get("closed_case_months", DEFAULT_MONTHS)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"retention.closed_case_months : un nombre de mois ≥ 1 est attendu (reçu {value!r})"
        )
    return value


def cutoff(now: datetime, months: int) -> datetime:
    """Cases closed before this instant are past their period (Paris midnight)."""
    return at_local_time(add_months(local(now).date(), -months), time(0, 0))


@dataclass(frozen=True)
class Anonymised:
    case_id: int
    resident_id: str
    events_erased: int
    resident_erased: bool

    def as_dict(self) -> dict[str, Any]:
        return {"case": f"C-{self.case_id}", "resident": self.resident_id,
                "events_erased": self.events_erased, "resident_erased": self.resident_erased}


@dataclass
class RetentionReport:
    months: int
    cutoff: datetime
    dry_run: bool
    cases: list[Anonymised] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"months": self.months, "closed_before": self.cutoff.isoformat(),
                "dry_run": self.dry_run, "cases": [c.as_dict() for c in self.cases]}


def due(session: Session, now: datetime, months: int) -> list[Case]:
    """Closed before the cutoff and not yet anonymised."""
    done = select(CaseEvent.case_id).where(CaseEvent.trigger == ANONYMISE_TRIGGER)
    return list(session.scalars(
        select(Case).where(Case.closed_at.is_not(None), Case.closed_at < cutoff(now, months),
                           Case.id.not_in(done)).order_by(Case.id)
    ))


def apply_retention(session: Session, *, now: datetime, dry_run: bool = False) -> RetentionReport:
    months = retention_months(organisation_settings(session))
    report = RetentionReport(months, cutoff(now, months), dry_run)
    cases = due(session, now, months)
    for case in cases:
        if dry_run:
            report.cases.append(Anonymised(case.id, case.resident_id, 0, False))
        else:
            report.cases.append(anonymise_case(session, case, now=now, months=months))
    session.flush()
    return report


def _free_keys(process: str, version: int, trigger: str, payload: dict[str, Any]) -> list[str]:
    model = payload_model(process, version, trigger)
    kinds = field_kinds(model) if model is not None else {}
    return [k for k in payload if kinds.get(k) != STRUCTURED]


def _erase(value: Any) -> Any:
    if value is None or value == "" or isinstance(value, bool | int | float):
        return value
    return ERASED


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)


def _scrub(value: Any, texts: set[str]) -> Any:
    """The case data with every erased text replaced, wherever an effect copied it."""
    if isinstance(value, str):
        return ERASED if value in texts else value
    if isinstance(value, dict):
        return {k: _scrub(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, texts) for v in value]
    return value


def anonymise_case(session: Session, case: Case, *, now: datetime, months: int) -> Anonymised:
    events = list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ))
    erased: dict[str, str] = {}
    texts: set[str] = set()
    for event in events:
        payload = dict(event.payload or {})
        keys = [k for k in _free_keys(case.process, case.process_version, event.trigger, payload)
                if _erase(payload[k]) != payload[k]]
        if not keys:
            continue
        for key in keys:
            texts.update(_texts(payload[key]))
            payload[key] = _erase(payload[key])
        event.payload = payload
        erased[str(event.seq)] = hash_of(event)
    resident = session.get(Resident, case.resident_id)
    if resident is not None:
        texts.update(t for t in (resident.name, resident.email, resident.phone) if t)
    case.data = _scrub(case.data or {}, texts)
    _scrub_messages(session, case, resident, texts)
    _append_event(
        session, case, now=now, actor=Actor(SYSTEM_ACTOR, SYSTEM_ROLE, None),
        trigger=ANONYMISE_TRIGGER, from_state=case.state, to_state=case.state,
        payload={"erased": erased, "period_months": months},
    )
    session.flush()
    resident_erased = resident is not None and _erase_resident_if_done(session, resident, case)
    return Anonymised(case.id, case.resident_id, len(erased), resident_erased)


def _scrub_messages(
    session: Session, case: Case, resident: Resident | None, texts: set[str]
) -> None:
    """The words of the case's messages; the resident's name in any other (the agenda)."""
    clauses = [Notification.case_id == case.id]
    if resident is not None:
        clauses.append(Notification.recipient_resident_id == resident.id)
        clauses.append(Notification.body.contains(resident.name))
    for row in session.scalars(select(Notification).where(or_(*clauses))):
        if row.case_id == case.id or row.recipient_resident_id == case.resident_id:
            row.subject = ERASED if row.subject is not None else None
            row.body = ERASED if row.body is not None else None
            row.case_data = _scrub(row.case_data, texts) if row.case_data else row.case_data
            if row.recipient_resident_id is not None:
                row.channel_url = ERASED  # the resident's address or phone number
            row.note = None
        elif resident is not None:
            for attribute in ("subject", "body"):
                text = getattr(row, attribute)
                if text:
                    setattr(row, attribute, text.replace(resident.name, ERASED))


def _erase_resident_if_done(session: Session, resident: Resident, case: Case) -> bool:
    """Name and contacts go once no case of the resident is still open or kept."""
    others = session.scalars(select(Case).where(
        Case.resident_id == resident.id, Case.id != case.id
    ))
    done = select(CaseEvent.case_id).where(CaseEvent.trigger == ANONYMISE_TRIGGER)
    anonymised = set(session.scalars(done))
    if any(other.id not in anonymised for other in others):
        return False
    resident.name = ANONYMOUS_NAME
    resident.email = None
    resident.phone = None
    resident.consent = False
    return True
