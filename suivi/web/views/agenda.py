"""The home page: what is late, due today and this week for me, on my sites.

The morning message's own collection (notifications/agenda.py) decides what is on a person's
plate (the clock's recipients resolved on the case's site): the page asks it for a week
instead of a day, and shows the visits of the whole week, not only today's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from models.cases import Case
from models.directory import Organisation, Staff
from notifications.agenda import (
    AgendaItem,
    Window,
    _Collector,
    collect_clocks,
    collect_undone,
    collect_visits,
)
from notifications.outbox import base_url_of
from suivi.web.views.common import day_text, when
from suivi.web.views.words import english


@dataclass
class Line:
    case_id: int
    reference: str
    kind: str
    when: str
    resident: str
    dwelling: str
    site: str
    visit: bool
    sensitive: bool


@dataclass
class Day:
    title: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class AgendaPage:
    today: str
    overdue: list[Line]
    today_lines: list[Line]
    week: list[Day]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today_lines or self.week)


def _line(item: AgendaItem, day_only: bool) -> Line:
    moment = when(item.due_at)
    return Line(
        case_id=item.case_id,
        reference=item.case_ref,
        kind=item.kind_en if english() else item.kind,
        when=moment[-5:] if day_only else moment,
        resident=item.resident,
        dwelling=item.dwelling,
        site=item.site,
        visit=item.group == "visit",
        sensitive=item.sensitive,
    )


class _OnePerson(_Collector):
    """The morning collection for one person only: an item is routed and worded only when
    it is on one of their sites and routed to them (the page's time goes nowhere else)."""

    def __init__(
        self, session: Session, base_url: str, staff: Staff, scope: ColumnElement[bool] | None
    ) -> None:
        super().__init__(session, base_url, scope)
        self.staff = staff

    def add(self, case: Case, recipients: tuple[str, ...], item: dict[str, Any]) -> None:
        if not (self.staff.covers(case.site_id) and self._may_be_for(case, recipients)):
            return
        if self.staff.id not in self.staff_for(case, recipients):
            return
        super().add(case, recipients, item)


    def _may_be_for(self, case: Case, recipients: tuple[str, ...]) -> bool:
        """What routing needs to reach this person: their role named, their own planned
        visit, or the administration standing in for a role nobody holds on the site."""
        if self.staff.role in recipients or self.staff.role == "admin":
            return True
        return "planner" in recipients and case.data.get("visit_planned_by") == self.staff.id


def items_for(
    session: Session, staff: Staff, now: datetime, scope: ColumnElement[bool] | None = None
) -> list[AgendaItem]:
    """Everything on `staff`'s plate until the end of the coming week, as the morning
    message would route it; `scope` (the cases they may read) narrows the search."""
    day = Window.of(now)
    week = Window(day=day.day, start=day.start, end=day.horizon, horizon=day.horizon)
    org = session.query(Organisation).first()
    collector = _OnePerson(session, base_url_of(org), staff, scope)
    collect_clocks(collector, week)
    collect_undone(collector, week)
    collect_visits(collector, week)
    return collector.items.get(staff.id, [])


def agenda_page(
    session: Session, staff: Staff, now: datetime, scope: ColumnElement[bool] | None = None
) -> AgendaPage:
    day = Window.of(now)
    found = items_for(session, staff, now, scope)
    items = sorted(found, key=lambda i: (i.due_at, i.case_id, i.kind))
    seen: set[tuple[int, str, datetime]] = set()
    overdue, today = [], []
    week: dict[str, Day] = {}
    for item in items:
        key = (item.case_id, item.kind, item.due_at)
        if key in seen:  # a pending clock and a fired reminder of the same moment
            continue
        seen.add(key)
        if item.due_at < day.start:
            overdue.append(_line(item, day_only=False))
        elif item.due_at < day.end:
            today.append(_line(item, day_only=True))
        else:
            title = day_text(item.due_at)
            if item.due_at < day.end + timedelta(days=1):
                title = f"{'tomorrow' if english() else 'demain'}, {title}"
            week.setdefault(title, Day(title)).lines.append(_line(item, day_only=True))
    return AgendaPage(
        today=day_text(now), overdue=overdue, today_lines=today, week=list(week.values())
    )
