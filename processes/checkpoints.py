"""Signed checkpoints: every case's head, written daily and with each export.

A per-case chain proves that what is there was not edited; it cannot prove that nothing was
taken away, nor that a chain was not recomputed by someone with write access (the hash
function is public). A checkpoint records, for every case, its event count and last hash, what
must never change (process, resident, dwelling, site, opening) and what changes only with an
event (state, closure, data); the whole is hash-chained to the previous checkpoint and signed
with the organisation's Ed25519 key, which is not in the database. Its digest also leaves the
database (an Apprise target, the monthly exports), so that deleting the latest checkpoint
shows as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text
from sqlalchemy.orm import Session

from models.audit import AuditCheckpoint, AuditCheckpointHead
from models.cases import Case
from processes.audit import GENESIS, canonical_json, moment_text
from processes.signing import Signer

HEADS_KEPT = 31
"""Checkpoints whose heads are kept in full (a month of daily ones); older ones keep their
signed digest only: verification compares with the latest."""

CHECKPOINT_LOCK = 1_100_001
"""PostgreSQL advisory lock held while a checkpoint is written (issue 11)."""

CASE_COLUMNS = (
    Case.id, Case.process, Case.process_version, Case.state, Case.resident_id, Case.dwelling_id,
    Case.site_id, Case.data, Case.opened_at, Case.closed_at, Case.last_seq, Case.last_hash,
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def identity_hash(row: Row[Any] | Case) -> str:
    """What a case never changes: its process, resident, dwelling, site and opening."""
    return _sha(canonical_json([
        row.process, row.resident_id, row.dwelling_id, row.site_id, moment_text(row.opened_at),
    ]))


def row_hash(row: Row[Any] | Case) -> str:
    """What changes only with an event: state, version, closure, data."""
    closed = moment_text(row.closed_at) if row.closed_at is not None else None
    return _sha(canonical_json([row.state, row.process_version, closed, row.data or {}]))


def head_line(case_id: int, last_seq: int, last_hash: str, identity: str, row: str) -> str:
    return f"{case_id}:{last_seq}:{last_hash}:{identity}:{row}\n"


def checkpoint_digest(cp: AuditCheckpoint) -> str:
    """The hash a checkpoint is signed by: its counts, its heads and the previous digest."""
    return _sha(canonical_json({
        "id": cp.id, "at": moment_text(cp.at), "reason": cp.reason, "cases": cp.cases,
        "events": cp.events, "max_case_id": cp.max_case_id, "heads": cp.heads_digest,
        "prev": cp.prev_digest, "key": cp.key_id,
    }))


@dataclass(frozen=True)
class CheckpointSummary:
    id: int
    at: datetime
    reason: str
    cases: int
    events: int
    digest: str
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at.isoformat(), "reason": self.reason, "cases": self.cases,
            "events": self.events, "digest": self.digest, "key_id": self.key_id,
            "signature": self.signature,
        }

    def message(self) -> str:
        """The words sent out of the database: enough to compare later, nothing personal."""
        return (
            f"Point de contrôle n° {self.id} de la piste d'audit, {moment_text(self.at)} : "
            f"{self.cases} dossiers, {self.events} événements. Empreinte {self.digest} "
            f"(clé {self.key_id}). Signature {self.signature}"
        )


def summary(cp: AuditCheckpoint) -> CheckpointSummary:
    return CheckpointSummary(
        cp.id, cp.at, cp.reason, cp.cases, cp.events, cp.digest, cp.key_id, cp.signature
    )


def _stream_cases(session: Session) -> Iterator[Row[Any]]:
    result = session.execute(
        select(*CASE_COLUMNS).order_by(Case.id).execution_options(yield_per=2000)
    )
    yield from result


def write_checkpoint(
    session: Session, signer: Signer, *, now: datetime, reason: str = "daily"
) -> CheckpointSummary:
    """Write and sign a checkpoint of every case head (one transaction, the caller's)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two checkpoints at once (the night's and an export's) would both chain to the same
        # previous one; the second waits for the first. SQLite serialises writers already.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHECKPOINT_LOCK})
    previous = latest(session)
    cp = AuditCheckpoint(
        at=now, reason=reason, cases=0, events=0, max_case_id=0, heads_digest="",
        prev_digest=previous.digest if previous else GENESIS, digest="", key_id=signer.key_id,
        signature="",
    )
    session.add(cp)
    session.flush()
    digest = hashlib.sha256()
    batch: list[dict[str, Any]] = []
    for row in _stream_cases(session):
        head = {
            "checkpoint_id": cp.id, "case_id": row.id, "last_seq": row.last_seq,
            "last_hash": row.last_hash or GENESIS, "identity": identity_hash(row),
            "row": row_hash(row),
        }
        digest.update(head_line(
            row.id, row.last_seq, head["last_hash"], head["identity"], head["row"]
        ).encode())
        batch.append(head)
        cp.cases += 1
        cp.events += row.last_seq
        cp.max_case_id = row.id
        if len(batch) >= 5000:
            session.execute(insert(AuditCheckpointHead), batch)
            batch = []
    if batch:
        session.execute(insert(AuditCheckpointHead), batch)
    cp.heads_digest = digest.hexdigest()
    cp.digest = checkpoint_digest(cp)
    cp.signature = signer.sign(cp.digest.encode())
    _prune_heads(session, keep_from=cp.id)
    session.flush()
    return summary(cp)


def _prune_heads(session: Session, keep_from: int) -> None:
    kept = list(session.scalars(
        select(AuditCheckpoint.id).where(AuditCheckpoint.id <= keep_from)
        .order_by(AuditCheckpoint.id.desc()).limit(HEADS_KEPT)
    ))
    if len(kept) == HEADS_KEPT:
        session.execute(
            delete(AuditCheckpointHead).where(AuditCheckpointHead.checkpoint_id < min(kept))
        )


def latest(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).first()


def record_sent(session: Session, checkpoint_id: int, target: str, ok: bool) -> None:
    cp = session.get(AuditCheckpoint, checkpoint_id)
    if cp is not None:
        cp.sent_to = target
        cp.sent_ok = ok


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0
