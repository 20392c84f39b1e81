"""Delivering the outbox: claim due rows, send each once through Apprise, record what happened.

A row is claimed (`sending`, plus an open attempt row) and that claim is committed *before*
anything is sent, so two delivery runs never take the same row: PostgreSQL claims with
`FOR UPDATE SKIP LOCKED`, SQLite inside the engine's `BEGIN IMMEDIATE` transaction. A run
claims one row at a time, just before sending it, so a run killed mid-send strands only the
message in flight. The send happens outside any transaction and its result is recorded right
after.
A run that dies between a send and its record leaves the row `sending`; the next run calls it
`unknown` and does not send it again, because an email cannot be taken back: staff requeue
it explicitly (`suivi notifications retry ID`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, func, select, update
from sqlalchemy.orm import Session

from models.cases import Case, Notification, NotificationAttempt
from models.db import session_factory
from models.directory import Organisation, Staff
from notifications.channels import SendResult, send
from notifications.compose import ComposeError, compose
from notifications.outbox import DEFAULT_BASE_URL, channels_for
from notifications.render import kind_label, privacy_for, render, scheme
from notifications.routing import Recipient, admins, staff_with_role
from processes.calendar import to_utc
from processes.errors import Forbidden, Refusal

DEFAULT_BATCH = 200
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
"""Waits after failed attempts 1 to 4; after that, every `LATER`."""
LATER = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=3)
SENDING_LEASE = timedelta(minutes=10)
"""A row `sending` for longer than this was left by a run that died (a send takes seconds)."""
DUE = ("pending", "retry")
REQUEUED = "remis en file par "
"""Starts the error text of the attempt row that audits a requeue; a requeue restarts the
three days of retries."""
INTERRUPTED = (
    "interrompu pendant l'envoi : remise incertaine, non renvoyé "
    "(relancer avec « suivi notifications retry ID »)"
)
NOT_SENT = "non envoyé : lot trop long, déclaré interrompu par un autre passage ; repris"
FAILED_KIND = "delivery_failed"
# Who hears that someone's channel is broken: the person who supervises them.
MANAGER_OF = {
    "agent": "rgls",
    "gs": "rgls",
    "social_worker": "rgls",
    "rgls": "dgls",
    "juriste": "dgls",
    "cada_manager": "dgls",
    # A resident's reminder that never arrives: the site manager can still phone them.
    "resident": "gs",
}


ClaimHook = Callable[[list[int]], None]
"""Called with a batch's claimed ids once the claim is committed, before sending (tests)."""


class DeliveryError(BaseModel):
    notification_id: int
    case_ref: str
    scheme: str
    status: str
    message: str


class DeliveryReport(BaseModel):
    """What a delivery run did; batches add up with `plus`."""

    now: datetime | None = None
    batches: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    """Rows found `sending` from a run that died: not resent, to be requeued by staff."""
    escalated: int = 0
    """`delivery_failed` notices queued for managers."""
    by_scheme: dict[str, int] = Field(default_factory=dict)
    """Sent rows per channel scheme (mailto, json, console…)."""
    errors: list[DeliveryError] = Field(default_factory=list)
    last_batch_claimed: int = 0

    def plus(self, other: DeliveryReport) -> DeliveryReport:
        schemes = Counter(self.by_scheme)
        schemes.update(other.by_scheme)
        return self.model_copy(update={
            "batches": self.batches + other.batches,
            "claimed": self.claimed + other.claimed,
            "sent": self.sent + other.sent,
            "retried": self.retried + other.retried,
            "failed": self.failed + other.failed,
            "unknown": self.unknown + other.unknown,
            "escalated": self.escalated + other.escalated,
            "by_scheme": dict(sorted(schemes.items())),
            "errors": [*self.errors, *other.errors],
            "last_batch_claimed": other.last_batch_claimed,
        })

    def wants_more(self) -> bool:
        # Until a claim comes back empty: a batch may have queued managers' notices due now.
        return self.batches == 0 or self.last_batch_claimed > 0


@dataclass(frozen=True)
class Claimed:
    id: int
    attempt_id: int
    case_id: int | None
    channel_url: str
    subject: str
    body: str
    problem: str | None = None
    recipient: str | None = None
    """The staff member's or resident's id (the console log says for whom each line was)."""
    """Why the row could not be composed: recorded as a failed attempt, nothing sent."""


def next_attempt_at(failures: int, now: datetime, window_start: datetime) -> datetime | None:
    """When to try again after `failures` failed attempts, or None: give up."""
    wait = BACKOFF[failures - 1] if 0 < failures <= len(BACKOFF) else LATER
    later = now + wait
    return later if later <= window_start + GIVE_UP_AFTER else None


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def mark_interrupted(session: Session, now: datetime) -> list[Notification]:
    """Rows left `sending` past the lease become `unknown`: maybe sent, never sent twice."""
    query = select(Notification).where(Notification.status == "sending").order_by(Notification.id)
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    found = []
    for row in session.scalars(query):
        started = session.scalar(
            select(func.max(NotificationAttempt.at)).where(
                NotificationAttempt.notification_id == row.id
            )
        )
        if (started or row.created_at) > now - SENDING_LEASE:
            continue  # another run is sending it right now
        row.status = "unknown"
        row.last_error = INTERRUPTED
        session.execute(
            update(NotificationAttempt)
            .where(NotificationAttempt.notification_id == row.id, NotificationAttempt.ok.is_(None))
            .values(error=INTERRUPTED)
        )
        found.append(row)
    return found


def claim_batch(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Take up to `limit` due rows: `sending`, with an open attempt. Commit before sending."""
    query = (
        select(
            Notification.id, Notification.case_id, Notification.channel_url,
            Notification.subject, Notification.body,
            func.coalesce(Notification.recipient_staff_id, Notification.recipient_resident_id),
        )
        .where(Notification.status.in_(DUE), Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if _is_postgres(session):
        # The row locks are the claim until commit; a second run skips them.
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return []
    session.execute(
        update(Notification)
        .where(Notification.id.in_([r.id for r in rows]), Notification.status.in_(DUE))
        .values(status="sending")
    )
    attempts = [NotificationAttempt(notification_id=r.id, at=now, ok=None) for r in rows]
    session.add_all(attempts)
    session.flush()
    return [
        Claimed(r.id, a.id, r.case_id, r.channel_url, r.subject or "", r.body, recipient=r[5])
        if r.body is not None else _with_text(session, r.id, a.id, r[5])
        for r, a in zip(rows, attempts, strict=True)
    ]


def _with_text(
    session: Session, notification_id: int, attempt_id: int, recipient: str | None
) -> Claimed:
    """A clock's row composed now, its text stored with the claim, before it is sent."""
    row = session.get(Notification, notification_id)
    assert row is not None
    try:
        subject, body = compose(session, row)
    except Exception as error:  # noqa: BLE001 - one row that cannot be written fails alone
        problem = str(error) if isinstance(error, ComposeError) else (
            f"notification n° {row.id} : {type(error).__name__} : {error}"
        )
        return Claimed(
            row.id, attempt_id, row.case_id, row.channel_url, "", "", problem, recipient
        )
    row.subject, row.body = subject, body
    return Claimed(
        row.id, attempt_id, row.case_id, row.channel_url, subject, body, recipient=recipient
    )


def window_start(session: Session, row: Notification) -> datetime:
    """Retries run for three days from the row's creation, or from its latest requeue."""
    requeued = session.scalar(
        select(func.max(NotificationAttempt.at)).where(
            NotificationAttempt.notification_id == row.id,
            NotificationAttempt.error.startswith(REQUEUED),
        )
    )
    return requeued or row.created_at


def record_result(
    session: Session, claimed: Claimed, result: SendResult, now: datetime
) -> tuple[str, int]:
    """Write one send's outcome; (status after it, managers' notices queued)."""
    row = session.get(Notification, claimed.id)
    attempt = session.get(NotificationAttempt, claimed.attempt_id)
    assert row is not None and attempt is not None
    attempt.ok = result.ok
    attempt.error = result.error
    row.attempts += 1
    if result.ok:
        row.status, row.sent_at, row.last_error = "sent", now, None
        return "sent", 0
    row.last_error = result.error
    if row.status not in ("sending", "unknown"):
        return row.status, 0  # staff moved it meanwhile; their decision stands
    later = next_attempt_at(row.attempts, now, window_start(session, row))
    if later is not None:
        row.status, row.next_attempt_at = "retry", later
        return "retry", 0
    row.status = "failed"
    return "failed", len(tell_manager(session, row, now))


def _case_ref(case_id: int | None) -> str:
    return f"C-{case_id}" if case_id is not None else "—"


def still_ours(session: Session, item: Claimed, now: datetime) -> bool:
    """Whether a claimed row may still be sent by this run.

    A batch against a slow server can outlast `SENDING_LEASE`; another run then calls its
    rows `unknown`. Those not sent yet are known not to have gone: they become due again
    instead of waiting for staff, and this run leaves them to whoever claims them next.
    """
    row = session.get(Notification, item.id)
    assert row is not None
    if row.status == "sending":
        return True
    if row.status == "unknown":
        row.status, row.next_attempt_at, row.last_error = "retry", now, NOT_SENT
        attempt = session.get(NotificationAttempt, item.attempt_id)
        assert attempt is not None
        attempt.ok, attempt.error = False, NOT_SENT
    return False


def deliver_batch(
    engine: Engine,
    now: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
    on_claimed: ClaimHook | None = None,
) -> DeliveryReport:
    """Up to `batch_size` rows, each claimed (committed) just before it is sent, its result
    recorded in its own transaction."""
    now = to_utc(now)
    session = session_factory(engine)()
    try:
        report = DeliveryReport(now=now, batches=1)
        schemes: Counter[str] = Counter()
        for _ in range(batch_size):
            with session.begin():
                claimed = claim_batch(session, now, 1)
            if not claimed:
                break
            (item,) = claimed
            report.claimed += 1
            if on_claimed is not None:
                on_claimed([item.id])
            with session.begin():
                if not still_ours(session, item, now):
                    report.retried += 1
                    continue
            result = (
                send(item.channel_url, item.subject, item.body, recipient=item.recipient)
                if item.problem is None
                else SendResult(ok=False, scheme=scheme(item.channel_url), error=item.problem)
            )
            with session.begin():
                status, escalated = record_result(session, item, result, now)
            report.escalated += escalated
            if status == "sent":
                report.sent += 1
                schemes[result.scheme] += 1
                continue
            report.retried += status == "retry"
            report.failed += status == "failed"
            report.errors.append(DeliveryError(
                notification_id=item.id, case_ref=_case_ref(item.case_id), scheme=result.scheme,
                status=status, message=result.error or "",
            ))
        report.by_scheme = dict(sorted(schemes.items()))
        report.last_batch_claimed = report.claimed
        return report
    finally:
        session.close()


def prepare_delivery(engine: Engine, now: datetime) -> DeliveryReport:
    """Before the batches: call `unknown` what a dead run left `sending`."""
    now = to_utc(now)
    with session_factory(engine)() as session, session.begin():
        lost = mark_interrupted(session, now)
        errors = [
            DeliveryError(
                notification_id=row.id, case_ref=_case_ref(row.case_id),
                scheme=scheme(row.channel_url), status="unknown", message=INTERRUPTED,
            )
            for row in lost
        ]
    return DeliveryReport(now=now, unknown=len(lost), errors=errors)


def deliver_pending(
    engine: Engine, now: datetime, *, batch_size: int = DEFAULT_BATCH
) -> DeliveryReport:
    """Deliver every row due at `now`, batch after batch."""
    report = prepare_delivery(engine, now)
    while report.wants_more():
        report = report.plus(deliver_batch(engine, now, batch_size=batch_size))
    return report


# --- Telling a manager that a channel is broken ------------------------------------------


def managers_of(session: Session, row: Notification, site_id: str | None) -> list[Recipient]:
    """The supervisor of the person a failed row was for; the admins when there is none."""
    role = row.recipient_role or ""
    if row.recipient_staff_id is not None:
        staff = session.get(Staff, row.recipient_staff_id)
        role = staff.role if staff is not None else role
    elif row.recipient_resident_id is not None:
        role = "resident"
    manager = MANAGER_OF.get(role)
    if manager is not None and site_id is not None:
        people = [s for s in staff_with_role(session, manager, site_id)
                  if s.id != row.recipient_staff_id]
        if people:
            return [Recipient(manager, staff=s) for s in people]
    note = f"pas de responsable « {manager or role} » trouvé : envoyé à l'administration"
    return [Recipient("admin", staff=s, note=note) for s in admins(session, site_id)]


def tell_manager(session: Session, row: Notification, now: datetime) -> list[Notification]:
    """Queue a `delivery_failed` notice: case reference, kind and scheme, no personal data."""
    if row.kind == FAILED_KIND:
        return []  # a broken manager's channel would otherwise start an endless chain
    org = session.scalars(select(Organisation).limit(1)).first()
    settings: dict[str, Any] = dict(org.settings or {}) if org else {}
    base_url = (org.base_url if org and org.base_url else DEFAULT_BASE_URL).rstrip("/")
    case = session.get(Case, row.case_id) if row.case_id is not None else None
    context: dict[str, Any] = {
        "case_ref": _case_ref(row.case_id),
        "link": f"{base_url}/cases/{row.case_id}" if row.case_id is not None else "",
        "notification_id": row.id,
        "failed_kind": row.kind,
        "failed_scheme": scheme(row.channel_url),
        "attempts": row.attempts,
    }
    sensitive = _sensitive(case)
    queued = []
    for recipient in managers_of(session, row, case.site_id if case else None):
        staff = recipient.staff
        assert staff is not None
        language = staff.language or (org.language if org else "fr")
        for index, url in enumerate(channels_for(recipient, settings)):
            key = f"{FAILED_KIND}:{row.id}:{recipient.key}:{index}"
            if session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
                continue
            subject, body = render(
                FAILED_KIND, language, dict(context, recipient=staff.name),
                privacy=privacy_for(url, sensitive_process=sensitive),
            )
            notice = Notification(
                case_id=row.case_id, recipient_staff_id=staff.id,
                recipient_role=recipient.role, channel_url=url, kind=FAILED_KIND,
                subject=subject, body=body, status="pending", attempts=0, next_attempt_at=now,
                idempotency_key=key, created_at=now, note=recipient.note,
            )
            session.add(notice)
            queued.append(notice)
    return queued


def _sensitive(case: Case | None) -> bool:
    """Even a kind's name (`asylum_…`) says too much about an asylum case on a chat channel."""
    if case is None:
        return False
    # Imported when a row fails, not when delivery starts: it compiles every process.
    from processes import registry
    from processes.errors import NotFound

    try:
        return registry.get(case.process, case.process_version).definition.sensitive
    except NotFound:
        return True


# --- What staff see and do ---------------------------------------------------------------


class NotificationLine(BaseModel):
    id: int
    case_ref: str
    recipient: str
    role: str
    scheme: str
    kind: str
    kind_label: str
    kind_label_en: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    note: str | None


def list_notifications(
    session: Session,
    *,
    case_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
    visible: ColumnElement[bool] | None = None,
) -> list[NotificationLine]:
    """The latest rows; `visible` is the reader's policy (processes.read_policy)."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if visible is not None:
        query = query.where(visible)
    if case_id is not None:
        query = query.where(Notification.case_id == case_id)
    if status is not None:
        query = query.where(Notification.status == status)
    return [_line(n) for n in reversed(session.scalars(query).all())]


def _line(n: Notification) -> NotificationLine:
    return NotificationLine(
        id=n.id, case_ref=_case_ref(n.case_id),
        recipient=n.recipient_staff_id or n.recipient_resident_id or "",
        role=n.recipient_role or "", scheme=scheme(n.channel_url), kind=n.kind,
        kind_label=kind_label(n.kind, "fr"), kind_label_en=kind_label(n.kind, "en"),
        status=n.status, attempts=n.attempts,
        next_attempt_at=n.next_attempt_at if n.status in (*DUE, "sending") else None,
        sent_at=n.sent_at, last_error=n.last_error, note=n.note,
    )


class NotificationMessage(BaseModel):
    """One row and its words: those it was sent with, or those delivery would write now."""

    line: NotificationLine
    subject: str | None
    body: str | None
    written: bool
    """True when the text is stored (sent, or written by a claim); False for a preview."""
    problem: str | None = None
    """Why the words cannot be written (what delivery would record as a failed attempt)."""


def show_notification(
    session: Session, notification_id: int, *, visible: ColumnElement[bool] | None = None
) -> NotificationMessage:
    """A row with its text; a clock's row not yet claimed is previewed, nothing stored.
    A row the reader may not see (`visible`) answers as one that does not exist."""
    query = select(Notification).where(Notification.id == notification_id)
    row = session.scalar(query.where(visible) if visible is not None else query)
    if row is None:
        raise Refusal(f"notification n° {notification_id} introuvable")
    line = _line(row)
    if row.subject is not None and row.body is not None:
        return NotificationMessage(line=line, subject=row.subject, body=row.body, written=True)
    try:
        subject, body = compose(session, row)
    except ComposeError as error:
        return NotificationMessage(
            line=line, subject=None, body=None, written=False, problem=str(error)
        )
    return NotificationMessage(line=line, subject=subject, body=body, written=False)


def _check_may_requeue(session: Session, actor: Staff, row: Notification) -> None:
    """A case's message is resent by staff of its site (as they act on the case); a message
    without a case (an agenda, a delivery failure) by its recipient or staff of every site."""
    case = session.get(Case, row.case_id) if row.case_id is not None else None
    if case is not None:
        if not actor.covers(case.site_id):
            raise Forbidden(
                f"notification n° {row.id} (dossier C-{case.id}) : {actor.id} n'intervient pas "
                f"sur le site « {case.site_id} » ; renvoi réservé à l'équipe de ce site"
            )
    elif not actor.all_sites and row.recipient_staff_id != actor.id:
        raise Forbidden(
            f"notification n° {row.id} (sans dossier, pour {row.recipient_staff_id}) : renvoi "
            "réservé à son destinataire ou à un membre de l'équipe de tous les sites"
        )


REQUEUABLE = ("unknown", "failed")
MAX_REQUEUE = 10_000
"""One requeue touches at most this many rows: a wider filter is refused, not truncated."""


def requeue_candidates(
    session: Session, *, status: str, since: datetime | None, case_id: int | None = None
) -> list[int]:
    """Ids of the rows a filter names (`--status unknown --since …`), oldest first."""
    if status not in REQUEUABLE:
        raise Refusal(
            f"statut « {status} » : seules les notifications « unknown » ou « failed » "
            "peuvent être renvoyées"
        )
    query = select(Notification.id).where(Notification.status == status)
    if since is not None:
        query = query.where(Notification.created_at >= to_utc(since))
    if case_id is not None:
        query = query.where(Notification.case_id == case_id)
    ids = list(session.scalars(query.order_by(Notification.id).limit(MAX_REQUEUE + 1)))
    if len(ids) > MAX_REQUEUE:
        raise Refusal(
            f"plus de {MAX_REQUEUE} notifications « {status} » : précisez --since ou --case"
        )
    return ids


def requeue_many(
    session: Session, ids: list[int], *, actor_id: str, now: datetime
) -> list[Notification]:
    """Several rows at once, all or nothing: one refusal and none is requeued."""
    return [requeue(session, i, actor_id=actor_id, now=now) for i in dict.fromkeys(ids)]


def requeue(
    session: Session, notification_id: int, *, actor_id: str, now: datetime
) -> Notification:
    """Staff send an `unknown` or `failed` row again, knowingly; an attempt row says who."""
    now = to_utc(now)
    actor = session.get(Staff, actor_id)
    if actor is None or not actor.active or actor.role == "landlord":
        raise Refusal(f"« {actor_id} » n'est pas un membre actif de l'équipe : renvoi refusé")
    query = select(Notification).where(Notification.id == notification_id)
    if _is_postgres(session):
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise Refusal(f"notification n° {notification_id} introuvable")
    _check_may_requeue(session, actor, row)
    if row.status not in ("unknown", "failed"):
        raise Refusal(
            f"notification n° {notification_id} (statut « {row.status} ») : seules les "
            "notifications « unknown » ou « failed » peuvent être renvoyées"
        )
    previous = row.status
    row.status, row.next_attempt_at, row.attempts = "pending", now, 0
    session.add(NotificationAttempt(
        notification_id=row.id, at=now, ok=False,
        error=f"{REQUEUED}{actor_id} (statut précédent : {previous})",
    ))
    return row
