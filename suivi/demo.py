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

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.cases import Case
from models.db import make_engine, session_scope
from models.directory_io import import_directory, parse_directory
from models.migrate import upgrade
from models.schemas import DirectoryFile
from processes import engine as wf
from processes.calendar import at_local_time, format_local, is_working_day, local
from processes.errors import NotFound, Refusal
from processes.insurance import record_first_certificate
from suivi.demo_scenario import Step, plan

DEMO_DB = Path("var") / "demo.db"
DEMO_CONSOLE_LOG = Path("var") / "demo-notifications.log"
DEFAULT_START = date(2026, 11, 2)
"""A Monday; the month holds Armistice Day (Wednesday 11 November) and four weekends."""
AGENDA_AT = time(7, 30)
SWEEPS_AT = (time(8, 0), time(20, 0))
DELIVERY_DELAY = timedelta(minutes=5)


def demo_directory() -> DirectoryFile:
    """The demo organisation, shipped inside the package."""
    text = resources.files("suivi").joinpath("demo_data/directory.yaml").read_text("utf-8")
    return parse_directory(text, "suivi/demo_data/directory.yaml")


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


class NotADemoDatabase(RuntimeError):
    """The file named for the demo holds something else: it is left untouched."""


def is_demo_database(path: Path) -> bool:
    """True when the file is a database a previous demo wrote (its organisation says so)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT settings FROM organisation").fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0] and json.loads(row[0]).get("demo") is True)


def fresh_database(path: Path, directory: DirectoryFile) -> Engine:
    """An empty demo database with the schema and the directory; the last demo's is removed.

    Never another file: whatever `--base` names, real data is not erased by a demo.
    """
    if path.exists() and path.stat().st_size and not is_demo_database(path):
        raise NotADemoDatabase(
            f"{path} n'est pas une base de démonstration : la démo ne l'efface pas "
            "(choisissez un autre fichier avec --base)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    engine = make_engine(database_url(path))
    # A rehearsal: the demo replays weeks with --now and the system actor.
    upgrade(engine, rehearsal=True)
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


@contextmanager
def fast_flows() -> Iterator[None]:
    """Settings for many short flow runs in one process, on whatever API is configured."""
    from prefect.context import SyncClientContext
    from prefect.settings import temporary_settings

    # A sync flow otherwise waits ~1 s on exit for its heartbeat: 150 flow runs here. One
    # client for them all: each run would otherwise build its own (and its TLS context).
    with (
        temporary_settings(updates={"flows.heartbeat_frequency": None}),
        SyncClientContext.get_or_create(),
    ):
        yield


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


def open_case_of(session: Session, process: str, resident: str) -> int:
    case_id = session.scalar(
        select(Case.id).where(
            Case.process == process, Case.resident_id == resident, Case.closed_at.is_(None)
        )
    )
    if case_id is None:
        raise NotFound(f"aucun dossier {process} ouvert pour {resident}")
    return int(case_id)


class StepRefused(RuntimeError):
    """A step of the storyboard no longer fits the processes: the demo needs updating."""


def play(engine: Engine, step: Step) -> None:
    """One staff action, in its own transaction as at the counter."""
    try:
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
    except Refusal as refusal:
        raise StepRefused(
            f"scénario de la démo refusé le {format_local(step.at)} ({step.process}, "
            f"{step.resident}, {step.trigger} par {step.actor}) : {refusal.full_message()}"
        ) from refusal


@dataclass
class DayReport:
    day: date
    working: bool
    steps: int = 0
    fired: int = 0
    sent: int = 0
    agendas: int = 0


def run_day(
    engine: Engine, day: date, steps: Iterable[Step], routine: Routine, *, agenda: bool = True
) -> DayReport:
    """One day: agenda, morning sweep and delivery, the staff's actions, evening sweep and
    delivery. Nobody works on a weekend or a public holiday; the sweeps run every day."""
    report = DayReport(day=day, working=is_working_day(day))
    if report.working and agenda:
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
    routine = PlainRoutine(engine)
    day = min(by_day, default=start)
    count = 0
    while day < start:
        run_day(engine, day, by_day.get(day, []), routine, agenda=False)
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


def use_demo_database(path: Path = DEMO_DB) -> None:
    """Point everything this process opens (the flows included) at the demo's own files.

    Must run before anything connects: `get_engine()` caches the engine of its URL.
    """
    os.environ["SUIVI_DATABASE_URL"] = database_url(path)
    console_log = path.parent / DEMO_CONSOLE_LOG.name
    console_log.unlink(missing_ok=True)
    os.environ["SUIVI_CONSOLE_LOG"] = str(console_log)
