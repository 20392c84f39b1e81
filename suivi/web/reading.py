"""Cases, residents and agendas as a viewer may read them, with French labels: what the API
returns and the pages show. Visibility and redaction come from `processes.read_policy`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock
from models.directory import Dwelling, Resident
from notifications.agenda import agenda_of
from processes import registry
from processes.definition import ProcessDefinition
from processes.machine import CompiledProcess
from processes.read_policy import Viewer, redact, visible_cases
from suivi.web.schemas import (
    AgendaItemOut,
    AgendaOut,
    CaseDetail,
    CaseSummary,
    ClockOut,
    EventOut,
    ResidentOut,
    TriggerOut,
)

CLOCK_KINDS = {"reminder": "rappel", "escalation": "escalade", "deadline": "échéance"}


def _process(case: Case) -> CompiledProcess:
    return registry.get(case.process, case.process_version)


def _state_label(definition: ProcessDefinition, state: str | None) -> str | None:
    if state is None:
        return None
    known = {s.id: s.label for s in definition.states}
    return known.get(state, state)


def clock_label(definition: ProcessDefinition, name: str) -> str:
    return next((c.label for c in definition.all_clocks() if c.name == name), name)


def trigger_label(definition: ProcessDefinition, trigger: str) -> str:
    if trigger.startswith("clock:"):
        return clock_label(definition, trigger.removeprefix("clock:"))
    known = {t.name: t.label for t in definition.triggers}
    return known.get(trigger, trigger)


def next_clocks(session: Session, case_ids: Sequence[int]) -> dict[int, Clock]:
    """The earliest pending clock of each case, in one query."""
    if not case_ids:
        return {}
    found: dict[int, Clock] = {}
    for clock in session.scalars(
        select(Clock)
        .where(Clock.case_id.in_(list(case_ids)), Clock.status == "pending")
        .order_by(Clock.due_at.desc(), Clock.id.desc())
    ):
        found[clock.case_id] = clock
    return found


def case_query(
    viewer: Viewer,
    *,
    process: str | None = None,
    state: str | None = None,
    site: str | None = None,
    closed: bool = False,
    search: str | None = None,
) -> Select[tuple[Case]]:
    query = select(Case).where(visible_cases(viewer))
    if process:
        query = query.where(Case.process == process)
    if state:
        query = query.where(Case.state == state)
    elif not closed:
        query = query.where(Case.closed_at.is_(None))
    if site:
        query = query.where(Case.site_id == site)
    if search and search.strip():
        text = search.strip()
        number = text.upper().removeprefix("C-")
        by_name = Case.resident_id.in_(
            select(Resident.id).where(Resident.name.icontains(text, autoescape=True))
        )
        query = query.where(
            or_(by_name, Case.id == int(number)) if number.isdigit() and len(number) < 18
            else by_name
        )
    return query.order_by(Case.id)


def summaries(session: Session, cases: Sequence[Case]) -> list[CaseSummary]:
    names = dict(session.execute(
        select(Resident.id, Resident.name).where(Resident.id.in_({c.resident_id for c in cases}))
    ).tuples().all())
    clocks = next_clocks(session, [c.id for c in cases])
    return [summary(case, names.get(case.resident_id, ""), clocks.get(case.id))
            for case in cases]


def summary(case: Case, resident_name: str, clock: Clock | None) -> CaseSummary:
    definition = _process(case).definition
    state = definition.state(case.state)
    return CaseSummary(
        id=case.id, reference=case.reference, process=case.process,
        process_label=definition.label, version=case.process_version, state=case.state,
        state_label=state.label, state_label_en=state.label_en,
        closed=case.closed_at is not None, resident=case.resident_id,
        resident_name=resident_name, site=case.site_id, dwelling=case.dwelling_id,
        opened_at=case.opened_at, closed_at=case.closed_at,
        next_due_at=clock.due_at if clock else None,
        next_due_label=clock_label(definition, clock.name) if clock else None,
    )


def triggers_for(viewer: Viewer, case: Case) -> list[TriggerOut]:
    """What this person may fire now: the engine's roles and sites, nothing for a closed case
    or a landlord."""
    if case.closed_at is not None or not viewer.covers(case.site_id):
        return []
    process = _process(case)
    out = []
    for name in process.triggers_for(case.state, viewer.role):
        trigger = process.definition.trigger(name)
        fields = trigger.payload.model_fields
        out.append(TriggerOut(
            name=name, label=trigger.label, label_en=trigger.label_en, fields=list(fields),
            required=[f for f, info in fields.items() if info.is_required()],
        ))
    return out


def detail(session: Session, viewer: Viewer, case: Case) -> CaseDetail:
    definition = _process(case).definition
    resident = session.get(Resident, case.resident_id)
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    pending = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.status == "pending")
        .order_by(Clock.due_at, Clock.id)
    ).all()
    head = summary(case, resident.name if resident else "", pending[0] if pending else None)
    return CaseDetail(
        **head.model_dump(),
        record_version=case.version,
        data=redact(viewer, case.data or {}),
        history=[
            EventOut(
                seq=e.seq, at=e.at, recorded_at=e.recorded_at, trigger=e.trigger,
                trigger_label=trigger_label(definition, e.trigger), from_state=e.from_state,
                from_label=_state_label(definition, e.from_state), to_state=e.to_state,
                to_label=_state_label(definition, e.to_state) or e.to_state,
                actor=e.actor_id, role=e.role, payload=redact(viewer, e.payload or {}),
            )
            for e in events
        ],
        clocks=[
            ClockOut(name=c.name, kind=c.kind, kind_label=CLOCK_KINDS.get(c.kind, c.kind),
                     label=clock_label(definition, c.name), due_at=c.due_at, rule=c.rule)
            for c in pending
        ],
        triggers=triggers_for(viewer, case),
    )


def resident_out(session: Session, viewer: Viewer, resident: Resident) -> ResidentOut:
    dwelling = session.get(Dwelling, resident.dwelling_id) if resident.dwelling_id else None
    cases = session.scalars(
        select(Case).where(Case.resident_id == resident.id, visible_cases(viewer))
        .order_by(Case.closed_at.is_not(None), Case.opened_at, Case.id)
    ).all()
    return ResidentOut(
        id=resident.id, name=resident.name, dwelling=resident.dwelling_id,
        dwelling_label=dwelling.label if dwelling else None,
        site=dwelling.site_id if dwelling else None, cases=summaries(session, cases),
    )


def agenda(session: Session, viewer: Viewer, now: datetime) -> AgendaOut:
    """The person's agenda, as the morning message has it, limited to what they may read."""
    window, items = agenda_of(session, viewer.staff_id, now)
    ids = {i.case_id for i in items}
    readable = set(session.scalars(select(Case.id).where(Case.id.in_(ids), visible_cases(viewer))))
    return AgendaOut(
        now=now, day=window.day,
        items=[AgendaItemOut(**i.model_dump(exclude={"link"})) for i in items
               if i.case_id in readable],
    )
