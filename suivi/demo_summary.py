"""What the demo's month did, counted from the database (the tables are the record, not the
jobs' reports)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock, Notification
from models.db import session_scope
from notifications.render import scheme
from processes.audit import iter_breaks
from processes.calendar import at_local_time

CLOCK_SOURCE = "clock:"
"""How the engine keys the notifications a clock queued: `clock:<id>:<recipient>:<n>`."""


@dataclass
class DemoSummary:
    start: date
    end: date
    """The last simulated day."""
    clocks_fired: dict[str, int] = field(default_factory=dict)
    """By kind: reminder, escalation, deadline (a deadline may only move the case)."""
    clock_messages: dict[str, int] = field(default_factory=dict)
    """Messages sent because a clock fired, by the clock's kind."""
    first_warnings: int = 0
    second_warnings: int = 0
    maintained: int = 0
    """Termination reviews where the direction gave one more chance (back to warning 2)."""
    direction_alerts: int = 0
    """Cases whose direction alert was queued during the month."""
    direction_alert_messages: int = 0
    alert_case: int | None = None
    opened: dict[str, int] = field(default_factory=dict)
    closed: dict[tuple[str, str], int] = field(default_factory=dict)
    open_by_state: dict[tuple[str, str], int] = field(default_factory=dict)
    sent_by_channel: dict[str, int] = field(default_factory=dict)
    sent_by_kind: dict[str, int] = field(default_factory=dict)
    not_sent: int = 0
    audit_breaks: list[str] = field(default_factory=list)
    asylum: AsylumSummary = field(default_factory=lambda: AsylumSummary())


ASYLUM_STEPS = {
    "open": "Arrivées enregistrées",
    "lodge_ofpra": "Dossiers introduits à l'OFPRA",
    "request_legal_aid": "Aides juridictionnelles demandées",
    "renew_attestation": "Attestations renouvelées",
    "record_end_of_care": "Fins de prise en charge de l'OFII enregistrées",
    "extend_stay": "Maintiens prolongés (accord de l'OFII)",
    "transfer_done": "Transferts Dublin effectués",
}
"""The CADA's steps the summary counts, in the order of the procedure, as staff say them."""


@dataclass
class AsylumSummary:
    """The CADA's month in counts only: asylum is sensitive (GDPR art. 9), so no name,
    nationality, member state or decision of a household is ever printed."""

    households: int = 0
    """Claims followed at the end of the month (open cases)."""
    closed: int = 0
    """Claims closed in the month (exit, transfer, withdrawal), whatever the way."""
    steps: dict[str, int] = field(default_factory=dict)
    """Steps recorded in the month, by trigger (`ASYLUM_STEPS`)."""
    deadline_messages: int = 0
    """Deadline messages (reminders, alerts) sent to the CADA's team in the month."""
    provisional_stays: int = 0
    """Exit stays still counted from a provisional end of care (OFII's date to record)."""


@dataclass(frozen=True)
class Period:
    begin: datetime
    finish: datetime


def _transitions(session: Session, period: Period, trigger: str | None, source: str | None,
                 dest: str) -> int:
    query = select(func.count()).select_from(CaseEvent).where(
        CaseEvent.to_state == dest, CaseEvent.at >= period.begin, CaseEvent.at < period.finish
    )
    if trigger is not None:
        query = query.where(CaseEvent.trigger == trigger)
    if source is not None:
        query = query.where(CaseEvent.from_state == source)
    return session.scalar(query) or 0


def _clock_messages(session: Session, sent: list[tuple[str, str, str]]) -> dict[str, int]:
    ids = [int(key.split(":")[1]) for _, _, key in sent if key.startswith(CLOCK_SOURCE)]
    kinds = dict(session.execute(select(Clock.id, Clock.kind).where(Clock.id.in_(ids))).all())
    return dict(Counter(kinds[i] for i in ids))


def _by_process_state(session: Session, *where: object) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Case.process, Case.state, func.count()).where(*where)  # type: ignore[arg-type]
        .group_by(Case.process, Case.state)
    ).tuples()
    return {(process, state): count for process, state, count in rows}


def summarise(engine: Engine, start: date, days: int) -> DemoSummary:
    period = Period(
        at_local_time(start, time()), at_local_time(start + timedelta(days=days), time())
    )
    summary = DemoSummary(start=start, end=start + timedelta(days=days - 1))
    with session_scope(engine) as session:
        summary.clocks_fired = dict(session.execute(
            select(Clock.kind, func.count())
            .where(Clock.status == "fired", Clock.fired_at >= period.begin,
                   Clock.fired_at < period.finish)
            .group_by(Clock.kind)
        ).tuples().all())
        summary.first_warnings = _transitions(session, period, "record_visit", None, "warning_1")
        summary.second_warnings = _transitions(session, period, None, "warning_1", "warning_2")
        summary.maintained = _transitions(session, period, "maintain", None, "warning_2")
        alerts = session.execute(
            select(Notification.case_id).where(
                Notification.kind == "direction_alert",
                Notification.created_at >= period.begin, Notification.created_at < period.finish,
            )
        ).scalars().all()
        summary.direction_alert_messages = len(alerts)
        alerted = sorted({case_id for case_id in alerts if case_id is not None})
        summary.direction_alerts = len(alerted)
        summary.alert_case = alerted[0] if alerted else None
        summary.opened = dict(session.execute(
            select(Case.process, func.count())
            .where(Case.opened_at >= period.begin, Case.opened_at < period.finish)
            .group_by(Case.process)
        ).tuples().all())
        summary.closed = _by_process_state(
            session, Case.closed_at >= period.begin, Case.closed_at < period.finish
        )
        summary.open_by_state = _by_process_state(session, Case.closed_at.is_(None))
        sent = list(session.execute(
            select(Notification.channel_url, Notification.kind, Notification.idempotency_key)
            .where(
                Notification.status == "sent",
                Notification.sent_at >= period.begin, Notification.sent_at < period.finish,
            )
        ).tuples())
        summary.sent_by_channel = dict(Counter(scheme(url) for url, _, _ in sent))
        summary.sent_by_kind = dict(Counter(kind for _, kind, _ in sent))
        summary.clock_messages = _clock_messages(session, sent)
        summary.not_sent = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.status != "sent")
        ) or 0
        summary.audit_breaks = [b.describe() for b in iter_breaks(session)]
        summary.asylum = _asylum(session, period, summary.sent_by_kind)
        summary.asylum.closed = sum(
            n for (process, _), n in summary.closed.items() if process == "asylum"
        )
    return summary


def _asylum(session: Session, period: Period, sent_by_kind: dict[str, int]) -> AsylumSummary:
    still_open = session.scalars(
        select(Case).where(Case.process == "asylum", Case.closed_at.is_(None))
    ).all()
    steps = dict(session.execute(
        select(CaseEvent.trigger, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            Case.process == "asylum", CaseEvent.trigger.in_(list(ASYLUM_STEPS)),
            CaseEvent.at >= period.begin, CaseEvent.at < period.finish,
        )
        .group_by(CaseEvent.trigger)
    ).tuples().all())
    return AsylumSummary(
        households=len(still_open),
        steps=steps,
        deadline_messages=sum(n for k, n in sent_by_kind.items() if k.startswith("asylum_")),
        provisional_stays=sum(
            1 for case in still_open
            if case.data.get("stay_due") and not case.data.get("care_end_recorded")
        ),
    )
