"""Fire a batch of claimed clocks with a few queries per batch instead of a dozen per clock.

It does for each clock what `engine.fire_clock` does (stale check, a `clock:<name>` event
chained on its case, notifications routed and rendered), but loads the cases and the
directory once per batch and writes events, notifications, case heads and clock statuses with
one executemany each. `fire:` clocks run a trigger: they go through the engine one by one.

Each clock's outcome is its own. A clock whose preparation raises is marked failed and the
others go on; if the bulk write itself fails, the batch is redone clock by clock through the
engine, each in a SAVEPOINT, so one bad row cannot take the batch down with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from jinja2 import Template
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Dwelling, Organisation, Resident, Site, Staff
from notifications.outbox import base_url_of, channels_for, context_of
from notifications.render import prepared_context, privacy_for, render_prepared, template_for
from notifications.routing import Recipient, admins, resolve_with, staff_with_role
from processes import registry
from processes.audit import GENESIS, event_hash
from processes.calendar import format_local
from processes.engine import CASE_SCOPE, CLOCK_VERBS, SYSTEM_ACTOR, SYSTEM_ROLE, fire_clock
from processes.errors import Conflict, Refusal

CLOCKS = cast(Table, Clock.__table__)
CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)
# Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
IN_LIST_MAX = 5000


@dataclass(frozen=True)
class DueClock:
    """A claimed clock row, as the sweep read it."""

    id: int
    case_id: int
    name: str
    kind: str
    state: str
    due_at: datetime
    action: str
    recipients: tuple[str, ...]
    rule: str


@dataclass(frozen=True)
class Outcome:
    clock_id: int
    case_id: int
    result: str
    """`fired`, `stale` (its case moved on: cancelled), `deferred` (left pending), `failed`."""
    kind: str
    error: str | None = None


@dataclass
class _CaseHead:
    id: int
    process: str
    process_version: int
    state: str
    site_id: str
    resident_id: str
    dwelling_id: str | None
    data: dict[str, Any]
    closed: bool
    last_seq: int
    last_hash: str
    version: int
    events: int = 0

    @property
    def reference(self) -> str:
        return f"C-{self.id}"


@dataclass
class _Writes:
    now: datetime
    worker: str
    events: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)
    """Fired clocks share every written value: one UPDATE ... IN for all of them."""
    clocks: list[dict[str, Any]] = field(default_factory=list)
    """The others (stale, failed), one parameter set each."""


def describe_error(error: BaseException) -> str:
    """What went wrong, for the clock's `error` column: a refusal speaks for itself."""
    if isinstance(error, Refusal):
        return error.full_message()
    return f"{type(error).__name__} : {error}"


class Directory:
    """The directory as one batch sees it: each person and place read at most once."""

    def __init__(self, session: Session, cases: Iterable[_CaseHead]) -> None:
        self.session = session
        org = session.scalars(select(Organisation).limit(1)).first()
        self.settings: dict[str, Any] = dict(org.settings or {}) if org else {}
        self.language = org.language if org else "fr"
        self.organisation = org.name if org else ""
        self.base_url = base_url_of(org)
        heads = list(cases)
        self.residents = _by_id(session, Resident, {c.resident_id for c in heads})
        self.dwellings = _by_id(session, Dwelling, {c.dwelling_id for c in heads if c.dwelling_id})
        self.sites = _by_id(session, Site, {c.site_id for c in heads})
        self._roles: dict[tuple[str, str], list[Staff]] = {}
        self._admins: list[Staff] | None = None

    def staff_with_role(self, role: str, site_id: str) -> list[Staff]:
        key = (role, site_id)
        if key not in self._roles:
            self._roles[key] = staff_with_role(self.session, role, site_id)
        return self._roles[key]

    def admins(self) -> list[Staff]:
        if self._admins is None:
            self._admins = admins(self.session)
        return self._admins

    def resident(self, resident_id: str) -> Resident | None:
        return self.residents.get(resident_id)

    def staff(self, staff_id: str) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def resolve(self, case: _CaseHead, recipients: Iterable[str]) -> list[Recipient]:
        """`notifications.routing.resolve` for the system actor, from the batch's cache."""
        return resolve_with(
            self,
            site_id=case.site_id,
            resident_id=case.resident_id,
            data=case.data,
            recipients=recipients,
            actor_id=None,
        )


def _by_id(session: Session, model: Any, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def load_heads(
    session: Session, case_ids: Iterable[int], *, skip_locked: bool
) -> dict[int, _CaseHead]:
    """The cases of a batch; on PostgreSQL locked for the batch, skipping those staff hold."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    c = CASES.c
    # `closed` is asked of the database: the batch needs no closing date, only whether.
    query = select(
        c.id, c.process, c.process_version, c.state, c.site_id, c.resident_id, c.dwelling_id,
        c.data, c.closed_at.is_not(None).label("closed"), c.last_seq, c.last_hash, c.version,
    ).where(c.id.in_(ids)).order_by(c.id)
    if skip_locked:
        # Ordered locks, never waiting: a case a colleague is changing right now keeps its
        # clock pending for the next sweep instead of making either side wait or deadlock.
        query = query.with_for_update(skip_locked=True, of=CASES)
    heads: dict[int, _CaseHead] = {}
    for row in session.execute(query).all():
        heads[row.id] = _CaseHead(
            id=row.id, process=row.process, process_version=row.process_version,
            state=row.state, site_id=row.site_id, resident_id=row.resident_id,
            dwelling_id=row.dwelling_id, data=dict(row.data or {}),
            closed=bool(row.closed), last_seq=row.last_seq,
            last_hash=row.last_hash or "", version=row.version,
        )
    return heads


def fire_batch(
    session: Session, clocks: Sequence[DueClock], now: datetime, *, worker: str,
    skip_locked: bool = False,
) -> list[Outcome]:
    """Fire claimed clocks in the caller's transaction; one outcome per clock, in due order."""
    ordered = sorted(clocks, key=lambda c: (c.due_at, c.id))
    heads = load_heads(session, (c.case_id for c in ordered), skip_locked=skip_locked)
    # A case with a `fire:` clock in this batch changes state: the engine handles all of it.
    slow_cases = {c.case_id for c in ordered if c.action.startswith("fire:")}
    fast = [c for c in ordered if c.case_id in heads and c.case_id not in slow_cases]
    slow = [c for c in ordered if c.case_id in heads and c.case_id in slow_cases]
    outcomes = [
        Outcome(c.id, c.case_id, "deferred", c.kind) for c in ordered if c.case_id not in heads
    ]
    directory = Directory(session, heads.values())
    writes = _Writes(now=now, worker=worker)
    fast_outcomes = [_plan(c, heads[c.case_id], directory, writes, now, worker) for c in fast]
    try:
        with session.begin_nested():
            _write(session, writes, heads)
    except Exception:  # noqa: BLE001 - any bulk failure: redo one by one, isolated
        fast_outcomes = [_through_engine(session, c, now, worker) for c in fast]
    outcomes += fast_outcomes
    outcomes += [_through_engine(session, c, now, worker) for c in slow]
    # Deferred clocks were never marked: they are still pending for the next sweep.
    return outcomes


def _plan(
    clock: DueClock, case: _CaseHead, directory: Directory, writes: _Writes, now: datetime,
    worker: str,
) -> Outcome:
    """Prepare one clock's rows; nothing of it is kept if any step raises."""
    done = {"b_id": clock.id, "b_claimed_by": worker, "b_claimed_at": now, "b_fired_at": None,
            "b_cancelled_at": None, "b_error": None}
    if case.closed or clock.state not in (CASE_SCOPE, case.state):
        writes.clocks.append(dict(done, b_status="cancelled", b_cancelled_at=now))
        return Outcome(clock.id, clock.case_id, "stale", clock.kind)
    try:
        event, notifications = _rows_for(clock, case, directory, now)
    except Exception as error:  # noqa: BLE001 - a bug or a bad row fails this clock only
        message = describe_error(error)
        writes.clocks.append(dict(done, b_status="failed", b_error=message))
        return Outcome(clock.id, clock.case_id, "failed", clock.kind, message)
    writes.events.append(event)
    writes.notifications.extend(notifications)
    writes.fired.append(clock.id)
    case.last_seq = event["seq"]
    case.last_hash = event["hash"]
    case.events += 1
    return Outcome(clock.id, clock.case_id, "fired", clock.kind)


def _rows_for(
    clock: DueClock, case: _CaseHead, directory: Directory, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    verb, _, template = clock.action.partition(":")
    if verb not in CLOCK_VERBS or not template:
        raise ValueError(
            f"action inconnue « {clock.action} » (attendu : notify:<modèle> ou fire:<déclencheur>)"
        )
    definition = registry.get(case.process, case.process_version).definition
    seq = case.last_seq + 1
    prev = case.last_hash or GENESIS
    trigger = f"clock:{clock.name}"
    payload = {"clock": clock.id, "kind": clock.kind, "due_at": clock.due_at.isoformat()}
    digest = event_hash(
        case_id=case.id, seq=seq, at=now, actor_id=SYSTEM_ACTOR, role=SYSTEM_ROLE,
        trigger=trigger, from_state=case.state, to_state=case.state, payload=payload,
        prev_hash=prev,
    )
    event = {
        # `at` is the batch's `now`, added when written (`_write`).
        "case_id": case.id, "seq": seq, "actor_id": SYSTEM_ACTOR, "role": SYSTEM_ROLE,
        "trigger": trigger, "from_state": case.state, "to_state": case.state,
        "payload": payload, "prev_hash": prev, "hash": digest,
    }
    return event, _notifications(clock, template, case, definition, directory, now)


def _notifications(
    clock: DueClock, template: str, case: _CaseHead, definition: Any, directory: Directory,
    now: datetime,
) -> list[dict[str, Any]]:
    """The outbox rows `notifications.outbox.queue_notice` would write for this clock."""
    context = _case_context(clock, case, definition, directory)
    prepared: dict[str, tuple[Template, dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for recipient in directory.resolve(case, clock.recipients):
        staff, person = recipient.staff, recipient.resident
        language = staff.language if staff and staff.language else directory.language
        if language not in prepared:
            compiled = template_for(template, language)
            prepared[language] = (compiled, prepared_context(compiled, template, context))
        compiled, shared = prepared[language]
        name = staff.name if staff is not None else (person.name if person else "")
        values = dict(shared, recipient=name, recipient_role=recipient.role)
        # Two channels of one privacy level get the same message: render it once.
        messages: dict[str, tuple[str, str]] = {}
        for index, url in enumerate(channels_for(recipient, directory.settings)):
            privacy = privacy_for(url, sensitive_process=definition.sensitive)
            if privacy not in messages:
                messages[privacy] = render_prepared(compiled, values, privacy=privacy)
            subject, body = messages[privacy]
            rows.append({
                "case_id": case.id,
                "recipient_staff_id": staff.id if staff else None,
                "recipient_resident_id": person.id if person else None,
                "recipient_role": recipient.role,
                "channel_url": url,
                "kind": template,
                "subject": subject,
                "body": body,
                "status": "pending",
                "attempts": 0,
                "idempotency_key": f"clock:{clock.id}:{recipient.key}:{index}",
                # next_attempt_at, created_at: the batch's `now`, added when written (`_write`).
                "sent_at": None,
                "last_error": None,
                "note": recipient.note,
            })
    return rows


def _case_context(
    clock: DueClock, case: _CaseHead, definition: Any, directory: Directory
) -> dict[str, Any]:
    """`notifications.outbox.case_context` plus the clock's values, from the batch's cache."""
    context = context_of(
        case,
        definition,
        organisation=directory.organisation,
        base_url=directory.base_url,
        resident=directory.residents.get(case.resident_id),
        dwelling=directory.dwellings.get(case.dwelling_id) if case.dwelling_id else None,
        site=directory.sites.get(case.site_id),
    )
    context["clock_label"] = clock.rule.split(" : ", 1)[0]
    context["due_at"] = _local_time(clock.due_at)
    context["clock_kind"] = clock.kind
    return context


@lru_cache(maxsize=4096)
def _local_time(moment: datetime) -> str:
    # Clocks fall due together (09:00 on working days): one calendar conversion per moment.
    return format_local(moment)


_CASE_HEAD = (
    update(CASES)
    .where(CASES.c.id == bindparam("b_id"), CASES.c.version == bindparam("b_version"))
    .values(last_seq=bindparam("b_seq"), last_hash=bindparam("b_hash"),
            version=bindparam("b_new_version"))
)
_CLOCK_DONE = (
    update(CLOCKS)
    .where(CLOCKS.c.id == bindparam("b_id"))
    .values(status=bindparam("b_status"), claimed_by=bindparam("b_claimed_by"),
            claimed_at=bindparam("b_claimed_at"), fired_at=bindparam("b_fired_at"),
            cancelled_at=bindparam("b_cancelled_at"), error=bindparam("b_error"))
)


class _Executemany:
    """A Core INSERT or UPDATE sent with the driver's executemany, its values typed once.

    `session.execute(statement, rows)` builds and types every value of every row; for the
    sweep's rows that was a fifth of its time, mostly the same `now` converted to UTC (and on
    SQLite formatted as text) a few times per row. Here `shared` values are typed once per
    batch, and per row only the columns whose type has a processor (JSON), with the
    dialect's own processors: the driver receives what SQLAlchemy would have sent.
    """

    def __init__(
        self, session: Session, statement: Any, shared: dict[str, Any],
        columns: Iterable[str] = (),
    ) -> None:
        """`columns`: those an INSERT writes besides `shared` (an UPDATE names its own)."""
        self.connection = session.connection()
        dialect = self.connection.dialect
        keys = [*columns, *shared] if columns else None
        compiled = statement.compile(dialect=dialect, column_keys=keys, for_executemany=True)
        # Our column and parameter names are plain words: the driver sees them unchanged.
        assert not compiled.escaped_bind_names, compiled.escaped_bind_names
        self.sql = compiled.string
        self.names: list[str] = list(compiled.positiontup or compiled.binds)
        assert len(self.names) > 1, "itemgetter of one name returns a value, not a tuple"
        processors = {
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        }
        self.shared = {
            name: processors[name](value) if processors[name] else value
            for name, value in shared.items()
        }
        self.per_row = [(n, p) for n, p in processors.items() if p and n not in shared]
        self.positional = compiled.positiontup is not None
        self.pack = itemgetter(*self.names)

    def __call__(self, rows: list[dict[str, Any]]) -> Any:
        parameters = []
        for row in rows:
            values = {**row, **self.shared}
            for name, process in self.per_row:
                values[name] = process(values[name])
            parameters.append(self.pack(values) if self.positional else values)
        return self.connection.exec_driver_sql(self.sql, parameters)


def _write(session: Session, writes: _Writes, heads: dict[int, _CaseHead]) -> None:
    if writes.events:
        shared = {"at": writes.now}
        _Executemany(session, insert(EVENTS), shared, writes.events[0])(writes.events)
    if writes.notifications:
        shared = {"next_attempt_at": writes.now, "created_at": writes.now}
        rows = writes.notifications
        _Executemany(session, insert(NOTIFICATIONS), shared, rows[0])(rows)
    moved = [
        {"b_id": h.id, "b_version": h.version, "b_seq": h.last_seq, "b_hash": h.last_hash,
         "b_new_version": h.version + h.events}
        for h in heads.values() if h.events
    ]
    if moved:
        result = _Executemany(session, _CASE_HEAD, {})(moved)
        if result.rowcount not in (-1, len(moved)):
            raise StaleDataError(f"{len(moved)} dossiers attendus, {result.rowcount} mis à jour")
    for start in range(0, len(writes.fired), IN_LIST_MAX):
        session.execute(
            update(CLOCKS)
            .where(CLOCKS.c.id.in_(writes.fired[start:start + IN_LIST_MAX]))
            .values(status="fired", claimed_by=writes.worker, claimed_at=writes.now,
                    fired_at=writes.now, cancelled_at=None, error=None)
        )
    if writes.clocks:
        session.execute(_CLOCK_DONE, writes.clocks)


def _through_engine(session: Session, due: DueClock, now: datetime, worker: str) -> Outcome:
    """One clock through `engine.fire_clock`, in its own SAVEPOINT."""
    try:
        with session.begin_nested():
            clock = session.get(Clock, due.id)
            if clock is None:
                raise LookupError(f"horloge {due.id} introuvable")
            result = fire_clock(session, clock, now)
            clock.claimed_by = worker
            clock.claimed_at = now
            session.flush()
    except (Conflict, StaleDataError):
        return Outcome(due.id, due.case_id, "deferred", due.kind)
    except Exception as error:  # noqa: BLE001 - a bug or a bad row fails this clock only
        message = describe_error(error)
        session.execute(
            _CLOCK_DONE,
            [{"b_id": due.id, "b_status": "failed", "b_claimed_by": worker, "b_claimed_at": now,
              "b_fired_at": None, "b_cancelled_at": None, "b_error": message}],
        )
        return Outcome(due.id, due.case_id, "failed", due.kind, message)
    if result == "stale":
        return Outcome(due.id, due.case_id, "stale", due.kind)
    return Outcome(due.id, due.case_id, "fired", due.kind)

