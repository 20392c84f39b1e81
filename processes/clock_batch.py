"""Fire a batch of claimed clocks with a few queries per batch instead of a dozen per clock.

It does for each clock what `engine.fire_clock` does (stale check, a `clock:<name>` event
chained on its case, notifications routed, their text left to delivery: notifications.compose),
but loads the cases and the directory once per batch and writes events, notifications, case
heads and clock statuses with one executemany each. `fire:` clocks run a trigger: they go
through the engine one by one.

Each clock's outcome is its own. A clock whose preparation raises is marked failed and the
others go on; if the bulk write itself fails, the batch is redone clock by clock through the
engine, each in a SAVEPOINT, so one bad row cannot take the batch down with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BigInteger,
    Table,
    Text,
    any_,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import NullType

from models.cases import Case, CaseEvent, Clock, Notification
from models.directory import Organisation, Resident, Staff
from notifications.outbox import channels_for
from notifications.routing import Recipient, admins, planner_of, resolve_with, staff_with_role
from processes.audit import GENESIS, canonical_json, hash_from_text, moment_text
from processes.engine import CASE_SCOPE, CLOCK_VERBS, SYSTEM_ACTOR, SYSTEM_ROLE, fire_clock
from processes.errors import Conflict, Refusal

CLOCKS = cast(Table, Clock.__table__)
CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)


class DueClock(NamedTuple):
    """A claimed clock row, as the sweep read it."""

    id: int
    case_id: int
    name: str
    kind: str
    state: str
    due_at: datetime
    action: str
    recipients: tuple[str, ...]


class Outcome(NamedTuple):
    clock_id: int
    case_id: int
    result: str
    """`fired`, `stale` (its case moved on: cancelled), `deferred` (left pending), `failed`."""
    kind: str
    error: str | None = None


@dataclass(slots=True)
class CaseHead:
    id: int
    state: str
    site_id: str
    resident_id: str
    data_json: str | None
    """The case's data as stored: kept on its notices as is, decoded only to find a planner."""
    closed: bool
    last_seq: int
    last_hash: str
    version: int
    events: int = 0

    @property
    def data(self) -> dict[str, Any]:
        return dict(json.loads(self.data_json)) if self.data_json else {}


_Channel = tuple[str | None, str | None, str, str, str, str | None]
"""(staff id, resident id, role, channel URL, idempotency key suffix, routing note)."""


EVENT_COLUMNS = (
    "case_id", "seq", "trigger", "from_state", "to_state", "payload", "prev_hash", "hash",
)
"""A clock event's own values, in the order of its row tuple; `at`, `actor_id` and `role` are
the batch's (`_write`)."""
NOTICE_COLUMNS = (
    "case_id", "clock_id", "case_state", "case_data", "recipient_staff_id",
    "recipient_resident_id", "recipient_role", "channel_url", "kind", "idempotency_key", "note",
)
"""A clock notice's own values, in the order of its row tuple; no text: delivery writes it."""
_HEAD_COLUMNS = ("b_id", "b_version", "b_seq", "b_hash", "b_new_version")


@dataclass
class _Writes:
    now: datetime
    worker: str
    events: list[tuple[Any, ...]] = field(default_factory=list)
    """Rows in `EVENT_COLUMNS` order: tuples, because a batch writes thousands of them."""
    notifications: list[tuple[Any, ...]] = field(default_factory=list)
    """Rows in `NOTICE_COLUMNS` order."""
    fired: list[int] = field(default_factory=list)
    """Fired clocks share every written value but their id."""
    clocks: list[dict[str, Any]] = field(default_factory=list)
    """The others (stale, failed), one parameter set each."""


def describe_error(error: BaseException) -> str:
    """What went wrong, for the clock's `error` column: a refusal speaks for itself."""
    if isinstance(error, Refusal):
        return error.full_message()
    return f"{type(error).__name__} : {error}"


class Directory:
    """The directory as one batch sees it: each person and place read at most once."""

    def __init__(self, session: Session, cases: Iterable[CaseHead]) -> None:
        self.session = session
        org = session.scalars(select(Organisation).limit(1)).first()
        self.settings: dict[str, Any] = dict(org.settings or {}) if org else {}
        # Residents are read only if a clock of the batch writes to one, then all at once.
        self._resident_ids = {c.resident_id for c in cases}
        self._residents: dict[str, Resident] | None = None
        self._roles: dict[tuple[str, str], list[Staff]] = {}
        self._admins: dict[str, list[Staff]] = {}
        self._channels: dict[tuple[str, tuple[str, ...], str | None, str | None],
                             list[_Channel]] = {}

    def staff_with_role(self, role: str, site_id: str) -> list[Staff]:
        key = (role, site_id)
        if key not in self._roles:
            self._roles[key] = staff_with_role(self.session, role, site_id)
        return self._roles[key]

    def admins(self, site_id: str) -> list[Staff]:
        if site_id not in self._admins:
            self._admins[site_id] = admins(self.session, site_id)
        return self._admins[site_id]

    def resident(self, resident_id: str) -> Resident | None:
        if self._residents is None:
            self._residents = _by_id(self.session, Resident, self._resident_ids)
        return self._residents.get(resident_id)

    def staff(self, staff_id: str) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def resolve(self, case: CaseHead, recipients: Iterable[str]) -> list[Recipient]:
        """`notifications.routing.resolve` for the system actor, from the batch's cache."""
        return resolve_with(
            self,
            site_id=case.site_id,
            resident_id=case.resident_id,
            data=case.data,
            recipients=recipients,
            actor_id=None,
        )

    def channels(self, case: CaseHead, recipients: tuple[str, ...]) -> list[_Channel]:
        """Who a clock's notice goes to, by which channel: one outbox row each.

        Clocks of a batch mostly share their site and recipient names: routed once for all.
        A resident or a planner makes the answer the case's own.
        """
        key = (
            case.site_id,
            recipients,
            case.resident_id if "resident" in recipients else None,
            planner_of(case.data) if "planner" in recipients else None,
        )
        found = self._channels.get(key)
        if found is None:
            found = self._channels[key] = [
                (
                    r.staff.id if r.staff else None,
                    r.resident.id if r.resident else None,
                    r.role,
                    url,
                    f"{r.key}:{index}",
                    r.note,
                )
                for r in self.resolve(case, recipients)
                for index, url in enumerate(channels_for(r, self.settings))
            ]
        return found


def _by_id(session: Session, model: Any, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def cast_to_text(column: Any) -> Any:
    """A JSON column read as its text: decoded only where needed (see `names`)."""
    return sa_cast(column, Text).label(column.name)


def load_heads(
    session: Session, case_ids: Iterable[int], *, skip_locked: bool
) -> dict[int, CaseHead]:
    """The cases of a batch; on PostgreSQL locked for the batch, skipping those staff hold."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    c = CASES.c
    query = (
        select(*HEAD_COLUMNS)
        .where(among(c.id, ids, session.get_bind().dialect.name))
        .order_by(c.id)
    )
    if skip_locked:
        # Ordered locks, never waiting: a case a colleague is changing right now keeps its
        # clock pending for the next sweep instead of making either side wait or deadlock.
        query = query.with_for_update(skip_locked=True, of=CASES)
    # Core on the session's connection: an ORM execution would add nothing but its cost.
    return {row[0]: case_head(row) for row in session.connection().execute(query).all()}


# `closed` is asked of the database: the batch needs no closing date, only whether.
HEAD_COLUMNS = (
    CASES.c.id, CASES.c.state, CASES.c.site_id, CASES.c.resident_id, cast_to_text(CASES.c.data),
    CASES.c.closed_at.is_not(None).label("closed"), CASES.c.last_seq, CASES.c.last_hash,
    CASES.c.version,
)


def case_head(row: Sequence[Any]) -> CaseHead:
    """A case head from the values of `HEAD_COLUMNS`, in that order."""
    id, state, site, resident, data, closed, seq, last, version = row
    return CaseHead(id, state, site, resident, data, bool(closed), seq, last or "", version)


def among(column: Any, ids: list[int], dialect: str) -> Any:
    """`column IN ids` with the ids as one parameter: an array on PostgreSQL, JSON text for
    SQLite's json_each. A thousand bound parameters cost more to expand than to look up."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
    values = func.json_each(bindparam("ids", json.dumps(ids), type_=Text)).table_valued("value")
    return column.in_(select(values.c.value))


@cache
def names(text: str | None) -> tuple[str, ...]:
    """A stored JSON list of names (a clock's recipients), decoded once per distinct value."""
    return tuple(json.loads(text)) if text else ()


def as_read(column: Any) -> Any:
    """A column read as the driver gives it, to be converted by `reader` (cached)."""
    return type_coerce(column, NullType()).label(column.name)


@lru_cache(maxsize=16)
def reader(column: Any, dialect: Any) -> Callable[[Any], Any]:
    """The column type's own conversion of a driver value, once per distinct value.

    Due dates repeat (clocks fall due at 09:00 on working days): on SQLite each one is text
    that SQLAlchemy would parse anew for every row.
    """
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if convert is None:
        return lambda value: value
    return lru_cache(maxsize=4096)(convert)


def fire_batch(
    session: Session, clocks: Sequence[DueClock], now: datetime, *, worker: str,
    skip_locked: bool = False, heads: dict[int, CaseHead] | None = None,
) -> list[Outcome]:
    """Fire claimed clocks in the caller's transaction; one outcome per clock, in due order.

    `heads`: the clocks' cases when the claim read them too (SQLite); else read here.
    """
    ordered = sorted(clocks, key=lambda c: (c.due_at, c.id))
    if heads is None:
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
    clock: DueClock, case: CaseHead, directory: Directory, writes: _Writes, now: datetime,
    worker: str,
) -> Outcome:
    """Prepare one clock's rows; nothing of it is kept if any step raises."""
    if case.closed or clock.state not in (CASE_SCOPE, case.state):
        writes.clocks.append(_clock_done(clock, worker, now, "cancelled", cancelled_at=now))
        return Outcome(clock.id, clock.case_id, "stale", clock.kind)
    try:
        event, notifications = _rows_for(clock, case, directory, now)
    except Exception as error:  # noqa: BLE001 - a bug or a bad row fails this clock only
        message = describe_error(error)
        writes.clocks.append(_clock_done(clock, worker, now, "failed", error=message))
        return Outcome(clock.id, clock.case_id, "failed", clock.kind, message)
    writes.events.append(event)
    writes.notifications.extend(notifications)
    writes.fired.append(clock.id)
    case.last_seq = event[_SEQ]
    case.last_hash = event[_HASH]
    case.events += 1
    return Outcome(clock.id, clock.case_id, "fired", clock.kind)


def _clock_done(
    clock: DueClock, worker: str, now: datetime, status: str, *,
    cancelled_at: datetime | None = None, error: str | None = None,
) -> dict[str, Any]:
    """A clock's own outcome row, for those not fired (`_CLOCK_DONE`)."""
    return {"b_id": clock.id, "b_status": status, "b_claimed_by": worker, "b_claimed_at": now,
            "b_fired_at": None, "b_cancelled_at": cancelled_at, "b_error": error}


@lru_cache(maxsize=4096)
def _payload_tail(due_at: datetime, kind: str) -> str:
    """The canonical JSON of a clock event's payload after its clock id (keys sorted).

    Clocks fall due together (09:00 on working days): written once per moment and kind.
    """
    return canonical_json({"due_at": due_at.isoformat(), "kind": kind})[1:]


_moment_text = lru_cache(maxsize=64)(moment_text)


_SEQ, _HASH = EVENT_COLUMNS.index("seq"), EVENT_COLUMNS.index("hash")


def _rows_for(
    clock: DueClock, case: CaseHead, directory: Directory, now: datetime
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The clock's event row and its notices' rows (`EVENT_COLUMNS`, `NOTICE_COLUMNS`)."""
    verb, _, template = clock.action.partition(":")
    if verb not in CLOCK_VERBS or not template:
        raise ValueError(
            f"action inconnue « {clock.action} » (attendu : notify:<modèle> ou fire:<déclencheur>)"
        )
    seq = case.last_seq + 1
    prev = case.last_hash or GENESIS
    trigger = f"clock:{clock.name}"
    # The payload `engine.fire_clock` writes, in the canonical form: hashed and stored as is.
    payload = f'{{"clock":{int(clock.id)},{_payload_tail(clock.due_at, clock.kind)}'

    digest = hash_from_text(
        case_id=case.id, seq=seq, at_text=_moment_text(now), actor_id=SYSTEM_ACTOR,
        role=SYSTEM_ROLE, trigger=trigger, from_state=case.state, to_state=case.state,
        payload_text=payload, prev_hash=prev,
    )
    event = (case.id, seq, trigger, case.state, case.state, payload, prev, digest)
    return event, _notifications(clock, template, case, directory)


def _notifications(
    clock: DueClock, template: str, case: CaseHead, directory: Directory
) -> list[tuple[Any, ...]]:
    """The outbox rows `notifications.outbox.queue_notice` would write for this clock.

    No text: delivery composes it from the clock (notifications.compose).
    """
    return [
        (
            case.id, clock.id, case.state, case.data_json, staff_id, resident_id, role, url,
            template, f"clock:{clock.id}:{key}", note,
        )
        for staff_id, resident_id, role, url, key, note in directory.channels(
            case, clock.recipients
        )
    ]


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


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    processors: dict[str, Any]
    positional: bool


@lru_cache(maxsize=64)
def _compiled(statement: Any, dialect: Any, keys: tuple[str, ...] | None) -> _Compiled:
    """A statement compiled once per dialect and column set, with its values' processors."""
    compiled = statement.compile(
        dialect=dialect, column_keys=list(keys) if keys else None, for_executemany=True
    )
    # Our column and parameter names are plain words: the driver sees them unchanged.
    assert not compiled.escaped_bind_names, compiled.escaped_bind_names
    names = tuple(compiled.positiontup or compiled.binds)
    assert len(names) > 1, "itemgetter of one name returns a value, not a tuple"
    return _Compiled(
        sql=compiled.string,
        names=names,
        processors={
            name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        },
        positional=compiled.positiontup is not None,
    )


class _Executemany:
    """A Core INSERT or UPDATE sent with the driver's executemany, its values typed once.

    `session.execute(statement, rows)` builds and types every value of every row; for the
    sweep's rows that was a fifth of its time, mostly the same `now` converted to UTC (and on
    SQLite formatted as text) a few times per row. Here `shared` values are typed once per
    batch with the dialect's own processors, and row values need none (JSON comes as its
    canonical text): the driver receives what SQLAlchemy would have sent. Rows come as tuples
    in `columns` order, put in the statement's order by one `itemgetter` each.
    """

    def __init__(
        self, session: Session, statement: Any, columns: Sequence[str],
        shared: dict[str, Any] | None = None, *, as_given: Iterable[str] = (),
    ) -> None:
        """`columns`: the order of each row's values (for an UPDATE, its parameter names);
        `as_given`: those whose values are already what the driver takes (JSON as text)."""
        shared = shared or {}
        self.connection = session.connection()
        keys = (*columns, *shared) if statement.is_insert else None
        compiled = _compiled(statement, self.connection.dialect, keys)
        self.sql = compiled.sql
        processors = compiled.processors
        # Each row is extended with the shared values, then picked in the statement's order.
        layout = (*columns, *shared)
        self.shared = tuple(
            processors[name](value) if processors[name] else value
            for name, value in shared.items()
        )
        self.pick = itemgetter(*(layout.index(name) for name in compiled.names))
        given = set(as_given)
        converted = [name for name in columns if name not in given and processors.get(name)]
        if converted:
            # Row values reach the driver as they are: one the type would convert (a date,
            # JSON) must be shared, or given already converted.
            raise TypeError(f"valeurs à convertir ligne par ligne : {', '.join(converted)}")
        self.names = None if compiled.positional else compiled.names

    def __call__(self, rows: Iterable[tuple[Any, ...]]) -> Any:
        shared, pick = self.shared, self.pick
        parameters: list[Any] = [pick(row + shared) for row in rows]
        if self.names is not None:
            # Named parameters (psycopg's pyformat): one dict per row.
            names = self.names
            parameters = [dict(zip(names, values, strict=True)) for values in parameters]
        return self.connection.exec_driver_sql(self.sql, parameters)


_INSERT_EVENT = insert(EVENTS)
_INSERT_NOTIFICATION = insert(NOTIFICATIONS)


def _write(session: Session, writes: _Writes, heads: dict[int, CaseHead]) -> None:
    if writes.events:
        shared = {"at": writes.now, "actor_id": SYSTEM_ACTOR, "role": SYSTEM_ROLE}
        # Payloads come as canonical JSON text, which SQLite stores and PostgreSQL casts.
        _Executemany(session, _INSERT_EVENT, EVENT_COLUMNS, shared, as_given=("payload",))(
            writes.events
        )
    if writes.notifications:
        shared = {"next_attempt_at": writes.now, "created_at": writes.now, "status": "pending",
                  "attempts": 0, "subject": None, "body": None, "sent_at": None,
                  "last_error": None}
        _Executemany(
            session, _INSERT_NOTIFICATION, NOTICE_COLUMNS, shared, as_given=("case_data",)
        )(writes.notifications)
    moved = [
        (h.id, h.version, h.last_seq, h.last_hash, h.version + h.events)
        for h in heads.values() if h.events
    ]
    if moved:
        result = _Executemany(session, _CASE_HEAD, _HEAD_COLUMNS)(moved)
        if result.rowcount not in (-1, len(moved)):
            raise StaleDataError(f"{len(moved)} dossiers attendus, {result.rowcount} mis à jour")
    if writes.fired:
        # One statement: the fired clocks share every value but their id.
        session.connection().execute(
            update(CLOCKS)
            .where(among(CLOCKS.c.id, writes.fired, session.get_bind().dialect.name))
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

