"""The smaller pages: a resident's cases, my messages, the direction's dashboard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Site
from models.residents_view import ResidentView, resident_view
from notifications.render import kind_label
from processes import registry
from suivi.web.svg import Series, stacked_bars
from suivi.web.views.common import clock_label, clock_label_of, definition_of, when
from suivi.web.views.words import english, kind_word, label_of, status_word

# --- Resident ---------------------------------------------------------------------------


@dataclass
class ResidentRow:
    id: int
    reference: str
    process_label: str
    state_label: str
    closed: bool
    opened_at: str
    closed_at: str
    next_label: str
    next_due: str
    late: bool


@dataclass
class ResidentPage:
    id: str
    name: str
    dwelling: str
    site: str
    cases: list[ResidentRow]


def _labels(case: Case) -> tuple[str, str]:
    definition = definition_of(case)
    return label_of(definition), label_of(definition.state(case.state))


def resident_page(
    session: Session, resident_id: str, visible: ColumnElement[bool], now: datetime
) -> ResidentPage | None:
    """None when there is no such resident or none of their cases is visible to me."""
    view: ResidentView | None = resident_view(session, resident_id, _labels)
    if view is None:
        return None
    allowed = set(
        session.scalars(select(Case.id).where(Case.resident_id == resident_id, visible))
    )
    if not allowed and view.cases:
        return None
    site = session.get(Site, view.site) if view.site else None
    rows = []
    for c in view.cases:
        if c.id not in allowed:
            continue
        label = ""
        if c.next_clock is not None:
            definition = registry.get(c.process, c.version).definition
            label = clock_label_of(definition, c.next_clock.name, c.state, c.next_clock.rule)
        rows.append(
            ResidentRow(
                id=c.id, reference=c.reference, process_label=c.process_label,
                state_label=c.state_label, closed=c.closed, opened_at=when(c.opened_at),
                closed_at=when(c.closed_at), next_label=label,
                next_due=when(c.next_clock.due_at) if c.next_clock else "",
                late=bool(c.next_clock and c.next_clock.due_at < now),
            )
        )
    return ResidentPage(
        id=view.id, name=view.name, dwelling=view.dwelling_label or "",
        site=site.name if site else "", cases=rows,
    )


# --- My messages ------------------------------------------------------------------------


@dataclass
class MessageRow:
    id: int
    created: str
    kind: str
    subject: str
    case_id: int | None
    reference: str
    status: str
    status_code: str
    attempts: int
    sent: str


def my_messages(session: Session, staff_id: str, limit: int = 200) -> list[MessageRow]:
    rows = session.scalars(
        select(Notification)
        .where(Notification.recipient_staff_id == staff_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return [
        MessageRow(
            id=n.id, created=when(n.created_at),
            kind=kind_label(n.kind, "en" if english() else "fr"),
            subject=n.subject or "", case_id=n.case_id,
            reference=f"C-{n.case_id}" if n.case_id else "",
            status=status_word(n.status), status_code=n.status,
            attempts=n.attempts, sent=when(n.sent_at),
        )
        for n in rows
    ]


# --- Direction dashboard ------------------------------------------------------------------


@dataclass
class StateCount:
    process_label: str
    state_label: str
    counts: dict[str, int]
    total: int


@dataclass
class Waiting:
    case_id: int
    reference: str
    site: str
    what: str
    since: str


@dataclass
class Overdue:
    case_id: int
    reference: str
    site: str
    label: str
    kind: str
    due: str


@dataclass
class Dashboard:
    sites: list[tuple[str, str]]
    by_state: list[StateCount]
    chart: str
    overdue: list[Overdue]
    waiting: list[Waiting] = field(default_factory=list)
    total_open: int = 0


# What waits for the direction's decision: (process, state) → what to say.
WAITING = {
    ("hygiene", "warning_2"): "2e avertissement : suivi par la direction",
    ("hygiene", "termination_review"): "Résiliation à décider",
    ("arrears", "termination_review"): "Résiliation à décider",
    ("insurance", "termination_review"): "Résiliation à décider",
}


WAITING_EN = {
    "warning_2": "Second warning: followed by the direction",
    "termination_review": "Termination to decide",
}


def _waiting(case: Case) -> str:
    if english():
        return WAITING_EN.get(case.state, case.state)
    return WAITING[(case.process, case.state)]


def dashboard(
    session: Session, visible: ColumnElement[bool], now: datetime, overdue_limit: int = 100
) -> Dashboard:
    counts = session.execute(
        select(Case.process, Case.process_version, Case.state, Case.site_id, func.count())
        .where(visible, Case.closed_at.is_(None))
        .group_by(Case.process, Case.process_version, Case.state, Case.site_id)
    ).all()
    site_names = dict(session.execute(select(Site.id, Site.name)).tuples().all())
    by_state: dict[tuple[str, str], StateCount] = {}
    by_site: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order: dict[tuple[str, str], tuple[str, int]] = {}
    for process, version, state, site, count in counts:
        definition = registry.get(process, version).definition
        key = (label_of(definition), label_of(definition.state(state)))
        order[key] = (process, [s.id for s in definition.states].index(state))
        row = by_state.setdefault(key, StateCount(key[0], key[1], {}, 0))
        row.counts[site] = row.counts.get(site, 0) + count
        row.total += count
        by_site[site][process] += count
    sites = sorted(by_site, key=lambda s: site_names.get(s, s))
    series = [Series(p.name, label_of(p.definition)) for p in registry.latest_all()
              if any(p.name in c for c in by_site.values())]
    chart = stacked_bars(
        [(site_names.get(s, s), dict(by_site[s])) for s in sites],
        series,
        title="Dossiers ouverts par site et par processus",
    )
    late = session.execute(
        select(Clock, Case)
        .join(Case, Case.id == Clock.case_id)
        .where(visible, Case.closed_at.is_(None), Clock.status == "pending", Clock.due_at < now)
        .order_by(Clock.due_at)
        .limit(overdue_limit)
    ).tuples().all()
    waiting_rows = session.execute(
        select(Case, func.max(CaseEvent.at))
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(visible, Case.closed_at.is_(None),
               Case.state.in_({state for _, state in WAITING}))
        .group_by(Case.id)
        .order_by(Case.state_entered_at)
    ).tuples().all()
    return Dashboard(
        sites=[(s, site_names.get(s, s)) for s in sites],
        by_state=sorted(by_state.values(),
                        key=lambda r: order[(r.process_label, r.state_label)]),
        chart=chart,
        overdue=[
            Overdue(case_id=case.id, reference=case.reference,
                    site=site_names.get(case.site_id, case.site_id),
                    label=clock_label(definition_of(case), clock),
                    kind=kind_word(clock.kind), due=when(clock.due_at))
            for clock, case in late
        ],
        waiting=[
            Waiting(case_id=case.id, reference=case.reference,
                    site=site_names.get(case.site_id, case.site_id),
                    what=_waiting(case), since=when(case.state_entered_at))
            for case, _ in waiting_rows if (case.process, case.state) in WAITING
        ],
        total_open=sum(r.total for r in by_state.values()),
    )
