"""What the case page shows: where the case stands, how it got there, what is due, what I may
do now, and the letters it calls for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Dwelling, Resident, Site, Staff
from notifications.letters import KINDS, fits
from notifications.render import kind_label
from processes import registry
from processes.definition import ProcessDefinition
from processes.disclosure import structured_facts
from suivi.web.svg import process_diagram
from suivi.web.views.common import clock_label, rule_text, when
from suivi.web.views.forms import Field, form_fields
from suivi.web.views.words import (
    english,
    field_label,
    kind_word,
    label_of,
    role_word,
    status_word,
    value_word,
)

# Engine bookkeeping in a payload, not something a person recorded.
HIDDEN_DETAILS = {"clock", "kind", "due_at", "dwelling"}


@dataclass
class Detail:
    label: str
    value: str


@dataclass
class Notice:
    kind: str
    recipient: str
    status: str
    channel: str


@dataclass
class TimelineEntry:
    at: str
    title: str
    who: str
    moved: str
    details: list[Detail] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    automatic: bool = False


@dataclass
class ClockRow:
    label: str
    kind: str
    due: str
    rule: str
    recipients: str
    late: bool


@dataclass
class TriggerForm:
    name: str
    label: str
    fields: list[Field]


@dataclass
class Move:
    trigger: str
    condition: str
    dest: str


@dataclass
class CasePage:
    id: int
    reference: str
    process: str
    process_label: str
    state: str
    state_label: str
    closed: bool
    record_version: int
    resident_id: str
    resident_name: str
    dwelling: str
    site: str
    opened_at: str
    sensitive: bool
    diagram: str
    next_moves: list[Move]
    timeline: list[TimelineEntry]
    clocks: list[ClockRow]
    forms: list[TriggerForm]
    letters: list[tuple[str, str]]


def _details(payload: dict[str, Any]) -> list[Detail]:
    return [
        Detail(field_label(key), value_word(value))
        for key, value in payload.items()
        if key not in HIDDEN_DETAILS and value not in (None, "", [])
    ]


def _channel(url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    return {"mailto": "courriel", "mailtos": "courriel", "console": "console"}.get(scheme, scheme)


def _notices(session: Session, case: Case, names: dict[str, str]) -> dict[str, list[Notice]]:
    """The case's messages by what caused them: `event:<id>` or `clock:<id>`."""
    grouped: dict[str, list[Notice]] = {}
    rows = session.scalars(
        select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
    )
    for row in rows:
        source = ":".join(row.idempotency_key.split(":", 2)[:2])
        if row.clock_id is not None:
            source = f"clock:{row.clock_id}"
        who = names.get(row.recipient_staff_id or "", "")
        if row.recipient_resident_id:
            who = "le résident"
        grouped.setdefault(source, []).append(
            Notice(
                kind=kind_label(row.kind, "en" if english() else "fr"),
                recipient=who or role_word(row.recipient_role or ""),
                status=status_word(row.status),
                channel=_channel(row.channel_url),
            )
        )
    return grouped


Redact = Callable[[dict[str, Any]], dict[str, Any]]


def _timeline(
    session: Session,
    case: Case,
    definition: ProcessDefinition,
    events: list[CaseEvent],
    redact: Redact,
    show_messages: bool,
    structured_only: bool = False,
) -> list[TimelineEntry]:
    actors = {e.actor_id for e in events}
    names = {s.id: s.name for s in session.scalars(select(Staff).where(Staff.id.in_(actors)))}
    staff_ids = session.scalars(
        select(Notification.recipient_staff_id).where(Notification.case_id == case.id)
    ).all()
    missing = {s for s in staff_ids if s and s not in names}
    if missing:
        names.update(
            {s.id: s.name for s in session.scalars(select(Staff).where(Staff.id.in_(missing)))}
        )
    notices = _notices(session, case, names) if show_messages else {}
    clocks = {
        c.id: c for c in session.scalars(select(Clock).where(Clock.case_id == case.id))
    }
    labels = {s.id: label_of(s) for s in definition.states}
    entries = []
    for event in reversed(events):
        automatic = event.actor_id == "system"
        who = role_word("system") if automatic else names.get(event.actor_id, event.actor_id)
        if not automatic:
            who += f" ({role_word(event.role)})"
        moved = ""
        if event.from_state is None:
            moved = f"→ {labels.get(event.to_state, event.to_state)}"
        elif event.from_state != event.to_state:
            moved = (
                f"{labels.get(event.from_state, event.from_state)} → "
                f"{labels.get(event.to_state, event.to_state)}"
            )
        if event.trigger.startswith("clock:"):
            clock = clocks.get(int(event.payload.get("clock", 0) or 0))
            what = clock_label(definition, clock) if clock else event.trigger[6:]
            kind = kind_word(str(event.payload.get("kind", "reminder")))
            title = f"{kind.capitalize()} : {what}"
            found = notices.get(f"clock:{clock.id}", []) if clock else []
        else:
            try:
                title = label_of(definition.trigger(event.trigger))
            except KeyError:
                title = event.trigger.replace("_", " ")
            found = notices.get(f"event:{event.id}", [])
        entries.append(
            TimelineEntry(
                at=when(event.at),
                title=title,
                who=who,
                moved=moved,
                details=(
                    [] if event.trigger.startswith("clock:")
                    else _details(redact(_facts(case, event, structured_only)))
                ),
                notices=found,
                automatic=automatic,
            )
        )
    return entries


def _facts(case: Case, event: CaseEvent, structured_only: bool) -> dict[str, Any]:
    # Outside the association only what the definition declares structured: a field nobody
    # declared is not shown (processes.disclosure), whatever its name.
    if not structured_only:
        return dict(event.payload)
    return structured_facts(case.process, case.process_version, event.trigger, event.payload)


def _clocks(
    session: Session, case: Case, definition: ProcessDefinition, now: datetime
) -> list[ClockRow]:
    rows = session.scalars(
        select(Clock)
        .where(Clock.case_id == case.id, Clock.status == "pending")
        .order_by(Clock.due_at, Clock.id)
    )
    return [
        ClockRow(
            label=clock_label(definition, c),
            kind=kind_word(c.kind),
            due=when(c.due_at),
            rule=rule_text(c.rule),
            recipients=", ".join(role_word(r) for r in c.recipients) or _moves_alone(),
            late=c.due_at < now,
        )
        for c in rows
    ]


def _stays() -> str:
    return "stays in this state" if english() else "reste à l'état actuel"


def _moves_alone() -> str:
    return "the case moves by itself" if english() else "le dossier avance seul"


def _next_moves(definition: ProcessDefinition, state: str) -> list[Move]:
    labels = {s.id: label_of(s) for s in definition.states}
    moves = []
    for tr in definition.transitions:
        if state in tr.sources:
            dest = state if tr.dest == "=" else tr.dest
            roles = set(definition.trigger(tr.trigger).roles)
            moves.append(
                Move(
                    trigger=label_of(definition.trigger(tr.trigger)),
                    condition=tr.when_label or "",
                    dest=_stays() if dest == state else labels[dest],
                )
            )
            if roles == {"system"}:
                moves[-1].trigger += f" ({role_word('system')})"
    return moves


def forms_for(
    case: Case, role: str, covers_site: bool, now: datetime, answers: dict[str, dict[str, str]]
) -> list[TriggerForm]:
    """A form per trigger this person may fire now: their role is listed and the site theirs.

    The engine checks the same again when the form is sent; this only spares people a form
    they would be refused."""
    if case.closed_at is not None or not covers_site:
        return []
    process = registry.get(case.process, case.process_version)
    definition = process.definition
    result = []
    for name in process.triggers_for(case.state, role):
        trigger = definition.trigger(name)
        result.append(
            TriggerForm(
                name=name,
                label=label_of(trigger),
                fields=form_fields(trigger.payload, now, answers.get(name)),
            )
        )
    return result


def case_page(
    session: Session,
    case: Case,
    *,
    role: str,
    covers_site: bool,
    now: datetime,
    answers: dict[str, dict[str, str]] | None = None,
    redact: Redact = dict,
    show_messages: bool = True,
    outsider: bool = False,
) -> CasePage:
    """Everything the case page shows, for a person of `role` (forms only where they act).

    An `outsider` (a landlord's user) gets only the declared structured facts of each event
    and no letters (they hold the resident's address and are not theirs to print)."""
    definition = registry.get(case.process, case.process_version).definition
    events = list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )
    resident = session.get(Resident, case.resident_id)
    dwelling = session.get(Dwelling, case.dwelling_id) if case.dwelling_id else None
    site = session.get(Site, case.site_id)
    visited = {e.to_state for e in events} | {e.from_state for e in events if e.from_state}
    return CasePage(
        id=case.id,
        reference=case.reference,
        process=case.process,
        process_label=label_of(definition),
        state=case.state,
        state_label=label_of(definition.state(case.state)),
        closed=case.closed_at is not None,
        record_version=case.version,
        resident_id=case.resident_id,
        resident_name=resident.name if resident else case.resident_id,
        dwelling=dwelling.label if dwelling else "",
        site=site.name if site else case.site_id,
        opened_at=when(case.opened_at),
        sensitive=definition.sensitive,
        diagram=process_diagram(definition, current=case.state, visited=visited),
        next_moves=[] if case.closed_at else _next_moves(definition, case.state),
        timeline=_timeline(session, case, definition, events, redact, show_messages, outsider),
        clocks=_clocks(session, case, definition, now),
        forms=forms_for(case, role, covers_site, now, answers or {}),
        letters=[] if outsider else [
            (k.kind, k.title) for k in KINDS.values() if fits(k, case) is None
        ],
    )
