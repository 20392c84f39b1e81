"""The sweep: claim due clocks in batches and fire each exactly once, as the `system` actor.

A batch is one transaction: claim, fire, commit. PostgreSQL claims with `FOR UPDATE SKIP
LOCKED` (two sweeps at once take disjoint batches); SQLite by reading the due rows inside a
`BEGIN IMMEDIATE` transaction, which holds the database's only write lock (one writer at a
time: a second sweep waits, then finds those clocks fired). Because the claim and the fire commit
together, a sweep killed half-way leaves its batch exactly as it found it: pending. A
`claimed` row left by anything else is released after `CLAIM_LEASE`.
"""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, Field
from sqlalchemy import Engine, Table, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.cases import Clock
from models.db import session_factory
from processes.calendar import to_utc
from processes.clock_batch import (
    CASES,
    HEAD_COLUMNS,
    CaseHead,
    DueClock,
    Outcome,
    as_read,
    case_head,
    cast_to_text,
    fire_batch,
    names,
    reader,
)

CLOCKS = cast(Table, Clock.__table__)
CLAIM_LEASE = timedelta(minutes=15)
DEFAULT_BATCH = 500

SessionSource = Engine | sessionmaker[Session] | Callable[[], Session]
ClaimHook = Callable[[int, list[int]], None]
"""Called with the batch number and the claimed clock ids, before they are fired (tests)."""


class SweepError(BaseModel):
    clock_id: int
    case_id: int
    message: str


class SweepSummary(BaseModel):
    """What a sweep did; batches add up with `plus`."""

    now: datetime | None = None
    worker: str = ""
    batches: int = 0
    claimed: int = 0
    fired: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    stale: int = 0
    """Clocks whose case had moved on or closed: cancelled, not fired."""
    deferred: int = 0
    """Clocks whose case a colleague was changing at that moment: left for the next sweep."""
    released: int = 0
    """Stale `claimed` rows put back to pending."""
    insurance_opened: int = 0
    errors: list[SweepError] = Field(default_factory=list)
    last_batch_claimed: int = 0
    last_batch_done: int = 0

    @property
    def failed(self) -> int:
        return len(self.errors)

    def plus(self, batch: SweepSummary) -> SweepSummary:
        kinds = Counter(self.by_kind)
        kinds.update(batch.by_kind)
        return self.model_copy(update={
            "batches": self.batches + batch.batches,
            "claimed": self.claimed + batch.claimed,
            "fired": self.fired + batch.fired,
            "by_kind": dict(sorted(kinds.items())),
            "stale": self.stale + batch.stale,
            "deferred": self.deferred + batch.deferred,
            "released": self.released + batch.released,
            "insurance_opened": self.insurance_opened + batch.insurance_opened,
            "errors": [*self.errors, *batch.errors],
            "last_batch_claimed": batch.last_batch_claimed,
            "last_batch_done": batch.last_batch_done,
        })

    def wants_more(self, batch_size: int) -> bool:
        """Another batch, while the last one was full and moved something."""
        if self.batches == 0:
            return True
        return self.last_batch_claimed >= batch_size and self.last_batch_done > 0

    @classmethod
    def of_batch(
        cls, outcomes: Sequence[Outcome], *, now: datetime, worker: str
    ) -> SweepSummary:
        fired = [o for o in outcomes if o.result == "fired"]
        done = [o for o in outcomes if o.result != "deferred"]
        return cls(
            now=now,
            worker=worker,
            batches=1,
            claimed=len(outcomes),
            fired=len(fired),
            by_kind=dict(sorted(Counter(o.kind for o in fired).items())),
            stale=sum(o.result == "stale" for o in outcomes),
            deferred=sum(o.result == "deferred" for o in outcomes),
            errors=[
                SweepError(clock_id=o.clock_id, case_id=o.case_id, message=o.error or "")
                for o in outcomes
                if o.result == "failed"
            ],
            last_batch_claimed=len(outcomes),
            last_batch_done=len(done),
        )


def new_worker() -> str:
    """Who claimed a clock, as written in `clocks.claimed_by`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _sessions(source: SessionSource) -> Callable[[], Session]:
    if isinstance(source, Engine):
        return session_factory(source)
    return source


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# In DueClock's order. The rule's text is not read: the sweep writes no message.
_COLUMNS = (
    CLOCKS.c.id, CLOCKS.c.case_id, CLOCKS.c.name, CLOCKS.c.kind, CLOCKS.c.state,
    as_read(CLOCKS.c.due_at), CLOCKS.c.action, cast_to_text(CLOCKS.c.recipients),
)


def claim_due(session: Session, now: datetime, limit: int, worker: str) -> list[DueClock]:
    """Claim up to `limit` due pending clocks for this transaction, oldest first.

    Nothing is written here: `worker` goes on each row with its outcome, in the same commit.
    """
    due = (
        select(*_COLUMNS)
        .where(CLOCKS.c.status == "pending", CLOCKS.c.due_at <= now)
        .order_by(CLOCKS.c.due_at, CLOCKS.c.id)
        .limit(limit)
    )
    if _is_postgres(session):
        # The row locks are the claim: a second sweep skips them and takes the next ones.
        due = due.with_for_update(skip_locked=True)
    # SQLite: BEGIN IMMEDIATE took the database's write lock when the transaction began, so
    # the rows read here are this batch's until it commits. Marking them `claimed` as well
    # would cost an index update per clock and be seen by nobody: the mark would commit
    # together with the outcome that overwrites it, or roll back with it.
    moment = reader(CLOCKS.c.due_at, session.get_bind().dialect)
    return [_due_clock(row, moment) for row in session.connection().execute(due).all()]


def claim_due_with_heads(
    session: Session, now: datetime, limit: int
) -> tuple[list[DueClock], dict[int, CaseHead]]:
    """SQLite: `claim_due` and the clocks' case heads in one query.

    The write lock taken by BEGIN IMMEDIATE makes the join exact: nobody changes a case
    between this read and the batch's commit. PostgreSQL reads its heads apart, to lock
    them while skipping those staff hold (clock_batch.load_heads).
    """
    due = (
        select(*_COLUMNS, *HEAD_COLUMNS)
        .join_from(CLOCKS, CASES, CASES.c.id == CLOCKS.c.case_id)
        .where(CLOCKS.c.status == "pending", CLOCKS.c.due_at <= now)
        .order_by(CLOCKS.c.due_at, CLOCKS.c.id)
        .limit(limit)
    )
    moment = reader(CLOCKS.c.due_at, session.get_bind().dialect)
    clocks: list[DueClock] = []
    heads: dict[int, CaseHead] = {}
    width = len(_COLUMNS)
    for row in session.connection().execute(due).all():
        clock = _due_clock(row[:width], moment)
        clocks.append(clock)
        if clock.case_id not in heads:
            heads[clock.case_id] = case_head(row[width:])
    return clocks, heads


def _due_clock(row: Sequence[Any], moment: Callable[[Any], Any]) -> DueClock:
    """A claimed clock from the values of `_COLUMNS`, in that order."""
    id, case_id, name, kind, state, due_at, action, recipients = row
    return DueClock(id, case_id, name, kind, state, moment(due_at), action, names(recipients))


def release_stale_claims(session: Session, now: datetime) -> int:
    """Put back to pending the clocks claimed more than `CLAIM_LEASE` ago and never finished.

    Our own claims commit only together with their outcome, so none should exist; this
    catches a claim written by anything that does it in two steps, so that no clock stays
    stuck as `claimed` for ever.
    """
    result = session.execute(
        update(CLOCKS)
        .where(CLOCKS.c.status == "claimed", CLOCKS.c.claimed_at < now - CLAIM_LEASE)
        .values(status="pending", claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_expiring(session: Session, now: datetime) -> int:
    """Insurance cases due to open (processes.insurance), when that process is installed."""
    try:
        insurance = importlib.import_module("processes.insurance")
    except ModuleNotFoundError as missing:
        if missing.name != "processes.insurance":
            raise
        return 0
    opener = getattr(insurance, "open_expiring_insurance", None)
    return int(opener(session, now)) if opener is not None else 0


def prepare_sweep(
    source: SessionSource, now: datetime, *, worker: str | None = None
) -> SweepSummary:
    """What a sweep does before its batches: release stale claims, open insurance cases."""
    now = to_utc(now)
    with _sessions(source)() as session, session.begin():
        released = release_stale_claims(session, now)
        opened = open_expiring(session, now)
    return SweepSummary(now=now, worker=worker or "", released=released, insurance_opened=opened)


def sweep_batch(
    source: SessionSource,
    now: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
    worker: str | None = None,
    on_claimed: ClaimHook | None = None,
    number: int = 1,
) -> SweepSummary:
    """Claim and fire one batch in one transaction."""
    now = to_utc(now)
    worker = worker or new_worker()
    with _sessions(source)() as session, session.begin():
        postgres = _is_postgres(session)
        heads = None
        if postgres:
            claimed = claim_due(session, now, batch_size, worker)
        else:
            claimed, heads = claim_due_with_heads(session, now, batch_size)
        if on_claimed is not None:
            on_claimed(number, [c.id for c in claimed])
        outcomes = fire_batch(
            session, claimed, now, worker=worker, skip_locked=postgres, heads=heads
        )
    return SweepSummary.of_batch(outcomes, now=now, worker=worker)


def sweep_due_clocks(
    source: SessionSource,
    now: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
    worker: str | None = None,
    on_claimed: ClaimHook | None = None,
) -> SweepSummary:
    """Fire every clock due at `now`, batch after batch, and say what happened."""
    worker = worker or new_worker()
    summary = prepare_sweep(source, now, worker=worker)
    while summary.wants_more(batch_size):
        summary = summary.plus(
            sweep_batch(
                source, now, batch_size=batch_size, worker=worker, on_claimed=on_claimed,
                number=summary.batches + 1,
            )
        )
    return summary
