"""`suivi demo`: a month of the demo organisation's follow-ups, simulated day by day.

The demo works on a database of its own, recreated at each run, never on the real one. The
stories of `suivi.demo_scenario` are played by the staff between 09:00 and 17:30 of each
working day; around them the organisation's automatic jobs run as they are scheduled in
prefect.yaml: the morning agenda at 07:30 on working days, the sweep at 08:00 and 20:00 every
day, the delivery after each sweep. The cases already running when the month starts are
replayed first with the same plain functions, without Prefect, so that their clocks and
messages are exactly what they would have been.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, func, select

from models.cases import Case, CaseEvent, Clock, Notification
from models.db import make_engine, session_scope
from models.directory_io import import_directory, parse_directory
from models.migrate import upgrade
from models.schemas import DirectoryFile
from notifications.render import scheme
from processes import engine as wf
from processes.audit import iter_breaks
from processes.calendar import at_local_time, is_working_day, local
from processes.insurance import record_first_certificate
from suivi.demo_scenario import Step, plan

DEMO_DB = Path("var") / "demo.db"
DEMO_CONSOLE_LOG = Path("var") / "demo-notifications.log"
DEFAULT_START = date(2026, 11, 2)
"""A Monday; the month holds Armistice Day (Wednesday 11 November) and four weekends."""
AGENDA_AT = time(7, 30)
SWEEPS_AT = (time(8, 0), time(20, 0))
DELIVERY_DELAY = timedelta(minutes=5)
WARNINGS = ("warning_1", "warning_2")


def demo_directory() -> DirectoryFile:
    """The demo organisation, shipped inside the package."""
    text = resources.files("suivi").joinpath("demo_data/directory.yaml").read_text("utf-8")
    return parse_directory(text, "suivi/demo_data/directory.yaml")


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def fresh_database(path: Path, directory: DirectoryFile) -> Engine:
    """An empty demo database with the schema and the directory; the last demo's is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    engine = make_engine(database_url(path))
    upgrade(engine)
    with session_scope(engine) as session:
        import_directory(session, directory)
    return engine


# --- The automatic jobs of a day ------------------------------------------------------------


class Routine(Protocol):
    """What runs without anyone: each returns the job's report."""

    def agenda(self, now: datetime) -> dict[str, Any]: ...
    def sweep(self, now: datetime) -> dict[str, Any]: ...
    def deliver(self, now: datetime) -> dict[str, Any]: ...


@dataclass
class PlainRoutine:
    """The jobs as plain function calls: the replay of the weeks before the month."""

    engine: Engine

    def agenda(self, now: datetime) -> dict[str, Any]:
        from notifications.agenda import queue_daily_agendas

        with session_scope(self.engine) as session:
            return queue_daily_agendas(session, now).model_dump(mode="json")

    def sweep(self, now: datetime) -> dict[str, Any]:
        from processes.sweep import sweep_due_clocks

        return sweep_due_clocks(self.engine, now).model_dump(mode="json")

    def deliver(self, now: datetime) -> dict[str, Any]:
        from notifications.delivery import deliver_pending

        return deliver_pending(self.engine, now).model_dump(mode="json")


class FlowRoutine:
    """The jobs as the Prefect flows that production deploys (the database is the flows' own,
    named by SUIVI_DATABASE_URL, which the caller points at the demo's file)."""

    def __init__(self) -> None:
        from flows.digest import daily_agenda
        from flows.notify import deliver_notifications
        from flows.sweep import followup_sweep

        self._agenda = daily_agenda
        self._sweep = followup_sweep
        self._deliver = deliver_notifications

    def agenda(self, now: datetime) -> dict[str, Any]:
        return dict(self._agenda(now=now))

    def sweep(self, now: datetime) -> dict[str, Any]:
        return dict(self._sweep(now=now))

    def deliver(self, now: datetime) -> dict[str, Any]:
        return dict(self._deliver(now=now))


# --- Playing the stories --------------------------------------------------------------------


def open_case_of(session: Any, process: str, resident: str) -> int:
    case_id = session.scalar(
        select(Case.id).where(
            Case.process == process, Case.resident_id == resident, Case.closed_at.is_(None)
        )
    )
    if case_id is None:
        raise LookupError(f"aucun dossier {process} ouvert pour {resident}")
    return int(case_id)


def play(engine: Engine, step: Step) -> None:
    """One staff action, in its own transaction as at the counter."""
    with session_scope(engine) as session:
        if step.trigger == "first_certificate":
            record_first_certificate(
                session, step.resident, actor_id=step.actor, certificate=step.payload,
                now=step.at,
            )
        elif step.trigger == "open":
            wf.open_case(
                session, step.process, resident_id=step.resident, actor_id=step.actor,
                payload=step.payload, now=step.at,
            )
        else:
            case_id = open_case_of(session, step.process, step.resident)
            wf.fire(
                session, case_id, step.trigger, actor_id=step.actor, payload=step.payload,
                now=step.at,
            )


@dataclass
class DayReport:
    day: date
    working: bool
    steps: int = 0
    fired: int = 0
    sent: int = 0
    agendas: int = 0


def run_day(engine: Engine, day: date, steps: Iterable[Step], routine: Routine) -> DayReport:
    """One day: agenda, morning sweep and delivery, the staff's actions, evening sweep and
    delivery. Nobody works on a weekend or a public holiday; the sweeps run every day."""
    report = DayReport(day=day, working=is_working_day(day))
    if report.working:
        report.agendas = int(routine.agenda(at_local_time(day, AGENDA_AT))["recipients"])
    morning, evening = (at_local_time(day, moment) for moment in SWEEPS_AT)
    report.fired += int(routine.sweep(morning)["fired"])
    report.sent += int(routine.deliver(morning + DELIVERY_DELAY)["sent"])
    for step in steps:
        play(engine, step)
        report.steps += 1
    report.fired += int(routine.sweep(evening)["fired"])
    report.sent += int(routine.deliver(evening + DELIVERY_DELAY)["sent"])
    return report


def steps_by_day(steps: Iterable[Step]) -> dict[date, list[Step]]:
    days: dict[date, list[Step]] = {}
    for step in steps:
        days.setdefault(local(step.at).date(), []).append(step)
    return days


def replay_history(engine: Engine, start: date, steps: list[Step]) -> int:
    """The weeks before the month, day by day with the plain jobs; returns the days replayed.

    No agenda: those mornings are gone, nobody would read them.
    """
    by_day = steps_by_day(s for s in steps if s.at < at_local_time(start, time()))
    if not by_day:
        return 0
    routine = PlainRoutine(engine)
    day = min(by_day)
    count = 0
    while day < start:
        morning, evening = (at_local_time(day, moment) for moment in SWEEPS_AT)
        routine.sweep(morning)
        routine.deliver(morning + DELIVERY_DELAY)
        for step in by_day.get(day, []):
            play(engine, step)
        routine.sweep(evening)
        routine.deliver(evening + DELIVERY_DELAY)
        day += timedelta(days=1)
        count += 1
    return count


def run_month(
    engine: Engine,
    steps: list[Step],
    *,
    start: date,
    days: int,
    routine: Routine,
    on_day: Callable[[DayReport], None] | None = None,
) -> list[DayReport]:
    """`days` days from `start`, each with its jobs and its staff actions."""
    by_day = steps_by_day(steps)
    reports = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        report = run_day(engine, day, by_day.get(day, []), routine)
        reports.append(report)
        if on_day is not None:
            on_day(report)
    return reports


def simulate(
    engine: Engine,
    directory: DirectoryFile,
    *,
    start: date = DEFAULT_START,
    days: int = 30,
    routine: Routine,
    on_day: Callable[[DayReport], None] | None = None,
) -> list[DayReport]:
    """Replay the cases already running, then simulate `days` days from `start`."""
    steps = plan(start, directory)
    replay_history(engine, start, steps)
    return run_month(engine, steps, start=start, days=days, routine=routine, on_day=on_day)


# --- What the month did ---------------------------------------------------------------------


@dataclass
class DemoSummary:
    start: date
    end: date
    """The last simulated day."""
    clocks: dict[str, int] = field(default_factory=dict)
    """Clocks fired during the month, by kind (reminder, escalation, deadline)."""
    warnings: dict[str, int] = field(default_factory=dict)
    direction_alerts: int = 0
    alert_case: int | None = None
    opened: dict[str, int] = field(default_factory=dict)
    closed: dict[tuple[str, str], int] = field(default_factory=dict)
    open_by_state: dict[tuple[str, str], int] = field(default_factory=dict)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    sent_by_kind: dict[str, int] = field(default_factory=dict)
    agendas: int = 0
    pending: int = 0
    audit_breaks: list[str] = field(default_factory=list)


def summarise(engine: Engine, start: date, days: int) -> DemoSummary:
    """Counted from the database, not from the jobs' reports: the tables are the record."""
    begin = at_local_time(start, time())
    finish = at_local_time(start + timedelta(days=days), time())
    summary = DemoSummary(start=start, end=start + timedelta(days=days - 1))
    with session_scope(engine) as session:
        summary.clocks = dict(session.execute(
            select(Clock.kind, func.count())
            .where(Clock.status == "fired", Clock.fired_at >= begin, Clock.fired_at < finish)
            .group_by(Clock.kind)
        ).tuples().all())
        summary.warnings = dict(session.execute(
            select(CaseEvent.to_state, func.count())
            .where(
                CaseEvent.to_state.in_(WARNINGS), CaseEvent.from_state != CaseEvent.to_state,
                CaseEvent.at >= begin, CaseEvent.at < finish,
            )
            .group_by(CaseEvent.to_state)
        ).tuples().all())
        alerted = session.scalars(
            select(Notification.case_id)
            .where(
                Notification.kind == "direction_alert",
                Notification.created_at >= begin, Notification.created_at < finish,
            )
            .distinct().order_by(Notification.case_id)
        ).all()
        summary.direction_alerts = len(alerted)
        summary.alert_case = alerted[0] if alerted else None
        summary.opened = dict(session.execute(
            select(Case.process, func.count())
            .where(Case.opened_at >= begin, Case.opened_at < finish)
            .group_by(Case.process)
        ).tuples().all())
        summary.closed = {
            (process, state): count
            for process, state, count in session.execute(
                select(Case.process, Case.state, func.count())
                .where(Case.closed_at >= begin, Case.closed_at < finish)
                .group_by(Case.process, Case.state)
            ).tuples()
        }
        summary.open_by_state = {
            (process, state): count
            for process, state, count in session.execute(
                select(Case.process, Case.state, func.count())
                .where(Case.closed_at.is_(None))
                .group_by(Case.process, Case.state)
            ).tuples()
        }
        sent = session.execute(
            select(Notification.channel_url, Notification.kind)
            .where(
                Notification.status == "sent",
                Notification.sent_at >= begin, Notification.sent_at < finish,
            )
        ).tuples().all()
        summary.sent_by_channel = dict(Counter(scheme(url) for url, _ in sent))
        summary.sent_by_kind = dict(Counter(kind for _, kind in sent))
        summary.agendas = summary.sent_by_kind.get("daily_agenda", 0)
        summary.pending = session.scalar(
            select(func.count()).select_from(Notification)
            .where(Notification.status.not_in(("sent",)))
        ) or 0
        summary.audit_breaks = [b.describe() for b in iter_breaks(session)]
    return summary


def use_demo_database(path: Path = DEMO_DB) -> None:
    """Point everything this process opens (the flows included) at the demo's own files.

    Must run before anything connects: `get_engine()` caches the engine of its URL.
    """
    os.environ["SUIVI_DATABASE_URL"] = database_url(path)
    console_log = path.parent / DEMO_CONSOLE_LOG.name
    console_log.unlink(missing_ok=True)
    os.environ["SUIVI_CONSOLE_LOG"] = str(console_log)
