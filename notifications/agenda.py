"""The morning agenda: one message per staff member with what is late, due today, the visits
of the day and the deadlines of the coming week, on the sites they cover.

Who sees an item is what the routing would send it to (the clock's recipients resolved on the
case's site), so the agenda never shows someone a case they would not be told about. Items
of a sensitive process (asylum) carry only the case reference, a neutral kind (« Échéance »,
never the clock's own label: « Dossier OFPRA à introduire » is itself asylum detail) and the
date, in every block and whatever the channel.

Late work is of two sorts: a clock still pending past its day (the sweep has not reached it)
and, because the sweep fires every reminder on time, a reminder already sent whose work is
still undone: the case is in the same state and nobody has acted on it since. A reminder
that announces a planned visit (set from the visit date and due at or before it) is never
late work: the visit itself is listed on its day. Those set from the same date but due after
the visit (record its report, then the escalation) are, until the report is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Dwelling, Organisation, Resident, Site, Staff, StaffSite
from notifications.outbox import base_url_of, queue_staff_notice
from notifications.routing import resolve
from processes import registry
from processes.calendar import at_local_time, format_local, local, parse_moment, to_utc
from processes.definition import ClockDef, ProcessDefinition
from processes.engine import CASE_SCOPE

KIND = "daily_agenda"
DEADLINE_DAYS = 7
Group = Literal["overdue", "today", "visit", "deadline"]
GROUPS: tuple[Group, ...] = ("overdue", "today", "visit", "deadline")
# Who is told of a planned visit: whoever planned it and the site's managers.
VISIT_RECIPIENTS = ("planner", "gs")
VISIT_KEY = "visit_at"
VISIT_ANCHOR = f"data.{VISIT_KEY}"
MODES = {"home": ("à domicile", "home visit"), "office": ("au bureau", "office appointment")}
# The only kind a sensitive item shows, as its per-case notices say « échéance ».
NEUTRAL_KIND = {"kind": "Échéance", "kind_en": "Deadline"}


class AgendaItem(BaseModel):
    group: Group
    case_id: int
    case_ref: str
    kind: str
    kind_en: str
    due_at: datetime
    sensitive: bool
    # Sensitive cases: the kind is NEUTRAL_KIND and these stay empty, so their details never
    # enter the message at all.
    resident: str = ""
    dwelling: str = ""
    site: str = ""
    link: str = ""


class StaffAgenda(BaseModel):
    staff_id: str
    name: str
    role: str
    counts: dict[str, int]
    status: Literal["queued", "already_queued"]


class AgendaReport(BaseModel):
    now: datetime
    day: date
    recipients: int = 0
    """Staff members whose agenda was queued by this run."""
    items: int = 0
    """Items in the agendas queued by this run."""
    skipped: int = 0
    """Staff members whose agenda for the day was already queued (a second run)."""
    nothing_due: int = 0
    """Staff members with nothing today: nobody gets an empty agenda."""
    agendas: list[StaffAgenda] = Field(default_factory=list)


class Window(BaseModel):
    """The local day of `now`, as UTC instants."""

    day: date
    start: datetime
    end: datetime
    horizon: datetime

    @classmethod
    def of(cls, now: datetime) -> Window:
        day = local(now).date()
        midnight = time(0, 0)
        return cls(
            day=day,
            start=at_local_time(day, midnight),
            end=at_local_time(day + timedelta(days=1), midnight),
            horizon=at_local_time(day + timedelta(days=DEADLINE_DAYS + 1), midnight),
        )

    def group_of(self, due_at: datetime) -> Group:
        if due_at < self.start:
            return "overdue"
        return "today" if due_at < self.end else "deadline"


class _Collector:
    """Items per staff id; routing answers cached per site, recipients and planner."""

    def __init__(self, session: Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.items: dict[str, list[AgendaItem]] = defaultdict(list)
        self._routes: dict[tuple[str, tuple[str, ...], str | None], list[str]] = {}

    def staff_for(self, case: Case, recipients: tuple[str, ...]) -> list[str]:
        planner = case.data.get("visit_planned_by") if "planner" in recipients else None
        key = (case.site_id, recipients, planner)
        if key not in self._routes:
            found = resolve(self.session, case, recipients)
            self._routes[key] = [r.staff.id for r in found if r.staff is not None]
        return self._routes[key]

    def add(self, case: Case, recipients: tuple[str, ...], item: dict[str, Any]) -> None:
        definition = registry.get(case.process, case.process_version).definition
        entry = AgendaItem(
            case_id=case.id, case_ref=case.reference, sensitive=definition.sensitive, **item
        )
        if definition.sensitive:
            entry = entry.model_copy(update=NEUTRAL_KIND)
        else:
            entry = entry.model_copy(update=self._details(case))
        for staff_id in self.staff_for(case, recipients):
            self.items[staff_id].append(entry)

    def _details(self, case: Case) -> dict[str, str]:
        resident = self.session.get(Resident, case.resident_id)
        dwelling = self.session.get(Dwelling, case.dwelling_id) if case.dwelling_id else None
        site = self.session.get(Site, case.site_id)
        return {
            "resident": resident.name if resident else case.resident_id,
            "dwelling": dwelling.label if dwelling else "",
            "site": site.name if site else case.site_id,
            "link": f"{self.base_url}/cases/{case.id}",
        }


def _clock_def(definition: ProcessDefinition, clock: Clock) -> ClockDef | None:
    return next((c for c in definition.all_clocks() if c.name == clock.name), None)


def _labels(known: ClockDef | None, clock: Clock) -> tuple[str, str]:
    english = clock.name.replace("_", " ").capitalize()
    if known is not None:
        return known.label, english
    return clock.rule.split(" : ", 1)[0] or clock.name, english


def _announces_visit(known: ClockDef | None, clock: Clock, case: Case) -> bool:
    """A clock set from the planned visit and due at or before it (the reminder of the day
    before): the visit is listed on its day. Due after it, it asks for the visit's report."""
    if known is None or known.anchor != VISIT_ANCHOR:
        return False
    planned = case.data.get(VISIT_KEY)
    return bool(planned) and clock.due_at <= parse_moment(str(planned))


def _add_clocks(
    collector: _Collector, window: Window, rows: Sequence[tuple[Clock, Case]]
) -> None:
    for clock, case in rows:
        if not clock.recipients:
            continue  # a clock that moves the case by itself asks nothing of anyone
        definition = registry.get(case.process, case.process_version).definition
        known = _clock_def(definition, clock)
        group = window.group_of(clock.due_at)
        if group == "overdue" and _announces_visit(known, clock, case):
            continue
        kind, kind_en = _labels(known, clock)
        item = {"group": group, "kind": kind, "kind_en": kind_en, "due_at": clock.due_at}
        collector.add(case, tuple(clock.recipients), item)


def collect_clocks(collector: _Collector, window: Window) -> None:
    """Pending clocks late or due today, and deadlines of the coming week."""
    rows = collector.session.execute(
        select(Clock, Case)
        .join(Case, Case.id == Clock.case_id)
        .where(
            Clock.status == "pending",
            Case.closed_at.is_(None),
            Clock.due_at < window.horizon,
            or_(Clock.due_at < window.end, Clock.kind == "deadline"),
        )
        .order_by(Clock.due_at, Clock.id)
    ).tuples().all()
    _add_clocks(collector, window, rows)


def collect_undone(collector: _Collector, window: Window) -> None:
    """Reminders already sent whose case has not moved and nobody has touched since."""
    last_action = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("at"))
        .where(CaseEvent.trigger.not_like("clock:%"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    rows = collector.session.execute(
        select(Clock, Case)
        .join(Case, Case.id == Clock.case_id)
        .join(last_action, last_action.c.case_id == Case.id)
        .where(
            Clock.status == "fired",
            Case.closed_at.is_(None),
            or_(Clock.state == Case.state, Clock.state == CASE_SCOPE),
            Clock.fired_at > last_action.c.at,
            Clock.due_at < window.end,
        )
        .order_by(Clock.due_at, Clock.id)
    ).tuples().all()
    _add_clocks(collector, window, rows)


def collect_visits(collector: _Collector, window: Window) -> None:
    """Visits planned today (hygiene keeps the planned visit in `data.visit_at`)."""
    planned = collector.session.scalars(
        select(Case)
        .where(Case.closed_at.is_(None), Case.data[VISIT_KEY].as_string().is_not(None))
        .order_by(Case.id)
    )
    for case in planned:
        visit_at = parse_moment(str(case.data[VISIT_KEY]))
        if not window.start <= visit_at < window.end:
            continue
        number = case.data.get("visit_number", "")
        mode_fr, mode_en = MODES.get(str(case.data.get("visit_mode")), ("", ""))
        item = {
            "group": "visit", "due_at": visit_at,
            "kind": f"Visite n° {number} {mode_fr}".strip(),
            "kind_en": f"Visit no. {number} {mode_en}".strip(),
        }
        collector.add(case, VISIT_RECIPIENTS, item)


def agenda_staff(session: Session) -> list[Staff]:
    """Active staff who cover sites; landlords' users read audit trails, not agendas."""
    covering = select(StaffSite.staff_id)
    return list(
        session.scalars(
            select(Staff)
            .where(
                Staff.active.is_(True),
                Staff.role != "landlord",
                or_(Staff.all_sites.is_(True), Staff.id.in_(covering)),
            )
            .order_by(Staff.id)
        )
    )


def _when(item: AgendaItem, day_only: bool) -> str:
    moment = local(item.due_at)
    return moment.strftime("%H:%M") if day_only else format_local(item.due_at)


def agenda_context(
    staff: Staff, items: list[AgendaItem], window: Window, base_url: str
) -> dict[str, Any]:
    grouped: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS}
    for item in sorted(items, key=lambda i: (i.due_at, i.case_id, i.kind)):
        entry = item.model_dump()
        entry["when"] = _when(item, day_only=item.group in ("today", "visit"))
        grouped[item.group].append(entry)
    return {
        "recipient": staff.name,
        "day": window.day.strftime("%d/%m/%Y"),
        "link": base_url,
        "deadline_days": DEADLINE_DAYS,
        **grouped,
    }


def queue_daily_agendas(session: Session, now: datetime) -> AgendaReport:
    """Queue today's agenda for every staff member with something on it, once a day."""
    now = to_utc(now)
    window = Window.of(now)
    org = session.scalars(select(Organisation).limit(1)).first()
    base_url = base_url_of(org)
    collector = _Collector(session, base_url)
    collect_clocks(collector, window)
    collect_undone(collector, window)
    collect_visits(collector, window)
    report = AgendaReport(now=now, day=window.day)
    for staff in agenda_staff(session):
        items = collector.items.get(staff.id, [])
        if not items:
            report.nothing_due += 1
            continue
        key = f"agenda:{window.day.isoformat()}:{staff.id}"
        counts = {group: sum(i.group == group for i in items) for group in GROUPS}
        line = StaffAgenda(
            staff_id=staff.id, name=staff.name, role=staff.role, counts=counts,
            status="already_queued",
        )
        context = agenda_context(staff, items, window, base_url)
        if _already_queued(session, key) or not _queue(session, staff, context, key, now):
            report.skipped += 1
        else:
            line.status = "queued"
            report.recipients += 1
            report.items += len(items)
        report.agendas.append(line)
    return report


def _already_queued(session: Session, key: str) -> bool:
    return session.scalar(
        select(Notification.id).where(
            Notification.idempotency_key.startswith(f"{key}:", autoescape=True)
        )
    ) is not None


def _queue(
    session: Session, staff: Staff, context: dict[str, Any], key: str, now: datetime
) -> bool:
    """False when a run at the same moment queued it first (the key is unique)."""
    try:
        with session.begin_nested():
            queue_staff_notice(
                session, staff=staff, template=KIND, context=context, source_key=key, now=now
            )
    except IntegrityError:
        return False
    return True


def agenda_of(session: Session, staff_id: str, now: datetime) -> tuple[Window, list[AgendaItem]]:
    """One person's agenda at `now`, computed as the morning message computes it (the web's
    agenda page and `GET /api/agenda`): nothing is queued."""
    now = to_utc(now)
    window = Window.of(now)
    org = session.scalars(select(Organisation).limit(1)).first()
    collector = _Collector(session, base_url_of(org))
    collect_clocks(collector, window)
    collect_undone(collector, window)
    collect_visits(collector, window)
    items = sorted(collector.items.get(staff_id, []), key=lambda i: (i.due_at, i.case_id, i.kind))
    return window, items
