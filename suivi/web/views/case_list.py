"""The case list: the cases I may see, filtered by process, state and site, searched by
resident name or reference, each with its next deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from models.directory import Resident, Site
from processes import registry
from suivi.web.views.common import clock_label, definition_of, when
from suivi.web.views.words import label_of

PAGE_SIZE = 200


@dataclass
class Filters:
    process: str = ""
    state: str = ""
    site: str = ""
    q: str = ""
    closed: bool = False


@dataclass
class Row:
    id: int
    reference: str
    process_label: str
    state_label: str
    resident_id: str
    resident: str
    site: str
    next_label: str
    next_due: str
    late: bool
    closed: bool


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class CaseList:
    rows: list[Row]
    filters: Filters
    processes: list[Choice]
    states: list[Choice]
    sites: list[Choice]
    truncated: bool


def _reference_id(text: str) -> int | None:
    cleaned = text.strip().upper().removeprefix("C-")
    return int(cleaned) if cleaned.isdigit() else None


def case_list(
    session: Session, visible: ColumnElement[bool], filters: Filters, now: datetime
) -> CaseList:
    """`visible` is the read policy's condition on `Case` for the person asking."""
    query = select(Case, Resident.name, Site.name).join(
        Resident, Resident.id == Case.resident_id
    ).join(Site, Site.id == Case.site_id).where(visible)
    if filters.process:
        query = query.where(Case.process == filters.process)
    if filters.state:
        query = query.where(Case.state == filters.state)
    elif not filters.closed:
        query = query.where(Case.closed_at.is_(None))
    if filters.site:
        query = query.where(Case.site_id == filters.site)
    if filters.q:
        number = _reference_id(filters.q)
        pattern = f"%{filters.q.strip().lower()}%"
        match = func.lower(Resident.name).like(pattern)
        query = query.where(or_(match, Case.id == number) if number is not None else match)
    found = session.execute(query.order_by(Case.id.desc()).limit(PAGE_SIZE + 1)).all()
    truncated = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    next_clocks = _next_clocks(session, [case.id for case, _, _ in found])
    rows = []
    for case, resident_name, site_name in found:
        definition = definition_of(case)
        clock = next_clocks.get(case.id)
        rows.append(
            Row(
                id=case.id,
                reference=case.reference,
                process_label=label_of(definition),
                state_label=label_of(definition.state(case.state)),
                resident_id=case.resident_id,
                resident=resident_name,
                site=site_name,
                next_label=clock_label(definition, clock) if clock else "",
                next_due=when(clock.due_at) if clock else "",
                late=bool(clock and clock.due_at < now),
                closed=case.closed_at is not None,
            )
        )
    return CaseList(
        rows=rows,
        filters=filters,
        processes=[Choice(p.name, label_of(p.definition)) for p in registry.latest_all()],
        states=_state_choices(filters.process),
        sites=_site_choices(session, visible),
        truncated=truncated,
    )


def _state_choices(process: str) -> list[Choice]:
    chosen = [registry.get(process)] if process in registry.names() else registry.latest_all()
    seen: dict[str, str] = {}
    for p in chosen:
        for st in p.definition.states:
            label = label_of(st)
            if len(chosen) > 1:
                label += f" ({label_of(p.definition)})"
            seen.setdefault(st.id, label)
    return [Choice(k, v) for k, v in seen.items()]


def _site_choices(session: Session, visible: ColumnElement[bool]) -> list[Choice]:
    ids = select(Case.site_id).where(visible).distinct()
    return [
        Choice(site.id, site.name)
        for site in session.scalars(select(Site).where(Site.id.in_(ids)).order_by(Site.name))
    ]


def _next_clocks(session: Session, case_ids: list[int]) -> dict[int, Clock]:
    if not case_ids:
        return {}
    result: dict[int, Clock] = {}
    for clock in session.scalars(
        select(Clock)
        .where(Clock.case_id.in_(case_ids), Clock.status == "pending")
        .order_by(Clock.due_at.desc(), Clock.id.desc())
    ):
        result[clock.case_id] = clock
    return result
