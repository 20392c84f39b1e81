"""`audit verify` in bulk: every chain, every case row against its history, ids, the checkpoint.

Two streams read in case order (cases, events) and merged, so 100,000 cases cost two queries,
not one per case (bench/audit_verify.py). What it finds, each named:

- an event edited, removed, reordered (the chain: `processes.audit.check_case`);
- a case row that its history does not explain: a state with no event leading to it, a
  closure without a final state (or the reverse), an opening moved;
- against the latest signed checkpoint: a case deleted whole, events removed from the end
  with the head set back, a chain rewritten and recomputed, a case moved to another resident,
  dwelling or site, a state or data changed with no event;
- the checkpoints themselves: their chain, their digests, their signatures;
- events whose case row is gone, and gaps in case ids (a warning only when no checkpoint
  knew that id: PostgreSQL burns an id on every rolled-back insert).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from models.audit import AuditCheckpoint, AuditCheckpointHead
from models.cases import Case, CaseEvent
from processes import registry
from processes.audit import GENESIS, event_hash
from processes.checkpoints import (
    CASE_COLUMNS,
    checkpoint_digest,
    head_line,
    identity_hash,
    row_hash,
)
from processes.errors import NotFound
from processes.signing import verify as verify_signature

ANONYMISE_TRIGGER = "anonymise"

EVENT_COLUMNS = (
    CaseEvent.id, CaseEvent.case_id, CaseEvent.seq, CaseEvent.at, CaseEvent.actor_id,
    CaseEvent.role, CaseEvent.trigger, CaseEvent.from_state, CaseEvent.to_state,
    CaseEvent.payload, CaseEvent.prev_hash, CaseEvent.hash,
)


HEAD_COLUMNS = (
    AuditCheckpointHead.case_id, AuditCheckpointHead.last_seq, AuditCheckpointHead.last_hash,
    AuditCheckpointHead.identity, AuditCheckpointHead.row,
)


@dataclass(frozen=True)
class Finding:
    kind: str
    reason: str
    case_id: int | None = None
    seq: int | None = None
    warning: bool = False

    def describe(self) -> str:
        where = f"dossier C-{self.case_id}" if self.case_id is not None else "piste d'audit"
        if self.seq is not None:
            where += f", événement n° {self.seq}"
        return f"{where} : {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "case": self.case_id, "seq": self.seq, "reason": self.reason,
            "warning": self.warning, "text": self.describe(),
        }


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    checkpoint: dict[str, Any] | None = None
    signature_checked: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "cases": self.cases, "events": self.events,
            "checkpoint": self.checkpoint, "signature_checked": self.signature_checked,
            "errors": [f.as_dict() for f in self.errors],
            "warnings": [f.as_dict() for f in self.findings if f.warning],
        }


def check_chain(case_id: int, events: Sequence[Any]) -> Finding | None:
    """The first break in one case's chain (events in stored order), or None.

    Events whose free text retention erased are checked against the hash the anonymisation
    event recorded for their erased form (that event is itself chained after them).
    """
    erased: dict[int, str] = {}
    for ev in events:
        if ev.trigger == ANONYMISE_TRIGGER:
            erased.update({int(k): v for k, v in (ev.payload or {}).get("erased", {}).items()})
    prev = GENESIS
    for expected, ev in enumerate(events, start=1):
        if ev.seq != expected:
            return Finding("event_missing", f"événement manquant ou déplacé (trouvé n° {ev.seq})",
                           case_id, expected)
        if ev.prev_hash != prev:
            return Finding("event_reordered", "ne suit pas l'événement précédent (ordre modifié)",
                           case_id, ev.seq)
        computed = event_hash(
            case_id=ev.case_id, seq=ev.seq, at=ev.at, actor_id=ev.actor_id, role=ev.role,
            trigger=ev.trigger, from_state=ev.from_state, to_state=ev.to_state,
            payload=ev.payload, prev_hash=ev.prev_hash,
        )
        if computed != erased.get(ev.seq, ev.hash):
            return Finding("event_edited", "contenu modifié (empreinte invalide)", case_id, ev.seq)
        prev = ev.hash
    return None


def check_row(case: Any, events: Sequence[Any], *, chain_broken: bool = False) -> list[Finding]:
    """The case row as its history made it: head, state, closure, opening."""
    found: list[Finding] = []
    if not events:
        return [Finding("history_removed", "aucun événement : historique supprimé", case.id)]
    last = events[-1]
    # A broken chain already names the event; the head then says the same thing again.
    if not chain_broken and (
        case.last_seq != len(events) or (case.last_hash or GENESIS) != last.hash
    ):
        found.append(Finding(
            "head_mismatch",
            f"la chaîne s'arrête au n° {len(events)} alors que le dossier en compte "
            f"{case.last_seq} (événement supprimé)", case.id, case.last_seq,
        ))
    if case.state != last.to_state:
        found.append(Finding(
            "state_without_event",
            f"état « {case.state} » sans événement (le dernier événement mène à "
            f"« {last.to_state} »)", case.id,
        ))
    if events[0].at != case.opened_at:
        found.append(Finding("opening_moved", "date d'ouverture différente du premier événement",
                             case.id))
    final = _is_final(case.process, case.process_version, case.state)
    if final is not None and final != (case.closed_at is not None):
        found.append(Finding(
            "closure_mismatch",
            "clos sans être dans un état final" if case.closed_at is not None
            else f"dans l'état final « {case.state} » sans date de clôture", case.id,
        ))
    return found


@lru_cache(maxsize=256)
def _is_final(process: str, version: int, state: str) -> bool | None:
    try:
        return registry.get(process, version).definition.state(state).final
    except (KeyError, NotFound):  # an unknown process or state: the chain tells the rest
        return None


def _merge(
    cases: Iterator[Row[Any]], events: Iterator[Row[Any]]
) -> Iterator[tuple[Row[Any] | None, int, list[Row[Any]]]]:
    """(case row or None, case id, its events) in case order; None for orphaned events."""
    pending = next(events, None)
    for case in cases:
        while pending is not None and pending.case_id < case.id:
            orphan_id, orphans = pending.case_id, []
            while pending is not None and pending.case_id == orphan_id:
                orphans.append(pending)
                pending = next(events, None)
            yield None, orphan_id, orphans
        own: list[Row[Any]] = []
        while pending is not None and pending.case_id == case.id:
            own.append(pending)
            pending = next(events, None)
        yield case, case.id, own
    while pending is not None:
        orphan_id, orphans = pending.case_id, []
        while pending is not None and pending.case_id == orphan_id:
            orphans.append(pending)
            pending = next(events, None)
        yield None, orphan_id, orphans


def verify_trail(
    session: Session,
    *,
    public_key: Ed25519PublicKey | None = None,
    case_id: int | None = None,
) -> VerifyReport:
    report = VerifyReport()
    # One snapshot for everything read: on a live database the sweep commits while we read,
    # and a case row read before its new event would look truncated. PostgreSQL's default
    # (read committed) gives each statement its own snapshot; repeatable read gives one.
    # SQLite's read transaction is one snapshot already.
    fresh = not session.in_transaction()
    postgres = session.get_bind().dialect.name == "postgresql"
    connection = session.connection(
        execution_options={"isolation_level": "REPEATABLE READ"} if fresh and postgres else None
    )
    checkpoint, heads = _checked_checkpoint(session, public_key, report)
    case_query = select(*CASE_COLUMNS).order_by(Case.id)
    event_query = select(*EVENT_COLUMNS).order_by(CaseEvent.case_id, CaseEvent.id)
    if case_id is not None:
        case_query = case_query.where(Case.id == case_id)
        event_query = event_query.where(CaseEvent.case_id == case_id)
        heads = {k: v for k, v in heads.items() if k == case_id}
    # Two result streams open at once on the one connection (two cursors; on PostgreSQL two
    # server-side cursors of one transaction).
    cases = connection.execute(case_query.execution_options(yield_per=2000))
    events = connection.execute(event_query.execution_options(yield_per=5000))
    previous_id = 0
    for case, number, own in _merge(iter(cases), iter(events)):
        report.events += len(own)
        if case is None:
            report.findings.append(Finding(
                "case_removed", f"dossier supprimé ({len(own)} événements sans dossier)",
                number,
            ))
            continue
        report.cases += 1
        if case_id is None:
            for missing in range(previous_id + 1, number):
                _gap(report, missing, heads)
            previous_id = number
        chain = check_chain(number, own)
        if chain:
            report.findings.append(chain)
        report.findings += check_row(case, own, chain_broken=chain is not None)
        head = heads.pop(number, None)
        if head is not None and checkpoint is not None:
            report.findings += _against_head(case, own, head, checkpoint.id)
    for number in sorted(heads):  # known to the checkpoint, gone since
        report.findings.append(Finding(
            "case_removed",
            f"dossier supprimé depuis le dernier point de contrôle ({heads[number].last_seq} "
            "événements)", number,
        ))
    report.findings.sort(key=lambda f: (f.warning, f.case_id or 0, f.seq or 0))
    return report


def _gap(report: VerifyReport, missing: int, heads: dict[int, Any]) -> None:
    head = heads.pop(missing, None)
    if head is not None:
        report.findings.append(Finding(
            "case_removed",
            f"dossier supprimé depuis le dernier point de contrôle ({head.last_seq} événements)",
            missing,
        ))
    else:
        report.findings.append(Finding(
            "id_gap",
            "identifiant sans dossier (dossier supprimé, ou création annulée)", missing,
            warning=True,
        ))


def _against_head(
    case: Row[Any], events: Sequence[Any], head: Row[Any], checkpoint_id: int
) -> list[Finding]:
    where = f"depuis le point de contrôle n° {checkpoint_id}"
    if len(events) < head.last_seq or case.last_seq < head.last_seq:
        return [Finding(
            "events_removed",
            f"événements supprimés {where} : il en comptait {head.last_seq}, il en reste "
            f"{len(events)}", case.id, head.last_seq,
        )]
    found: list[Finding] = []
    if head.last_seq and events[head.last_seq - 1].hash != head.last_hash:
        found.append(Finding(
            "history_rewritten", f"historique réécrit {where} (empreinte différente)",
            case.id, head.last_seq,
        ))
    if identity_hash(case) != head.identity:
        found.append(Finding(
            "case_moved", f"résident, logement, site ou ouverture changés {where}", case.id,
        ))
    if case.last_seq == head.last_seq and row_hash(case) != head.row:
        found.append(Finding(
            "row_changed", f"état, clôture ou données changés sans événement {where}", case.id,
        ))
    return found


def _checked_checkpoint(
    session: Session, public_key: Ed25519PublicKey | None, report: VerifyReport
) -> tuple[AuditCheckpoint | None, dict[int, Row[Any]]]:
    """The latest checkpoint and its heads, after checking the checkpoints' own chain."""
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
    if not checkpoints:
        return None, {}
    prev = GENESIS
    for cp in checkpoints:
        problem = None
        if cp.prev_digest != prev:
            problem = "ne suit pas le point de contrôle précédent (supprimé ou réordonné)"
        elif checkpoint_digest(cp) != cp.digest:
            problem = "contenu modifié (empreinte invalide)"
        elif public_key is not None and not verify_signature(
            public_key, cp.digest.encode(), cp.signature
        ):
            problem = "signature invalide (clé différente ou point de contrôle réécrit)"
        if problem:
            report.findings.append(Finding(
                "checkpoint_invalid", f"point de contrôle n° {cp.id} : {problem}"
            ))
        prev = cp.digest
    last = checkpoints[-1]
    report.signature_checked = public_key is not None
    report.checkpoint = {
        "id": last.id, "at": last.at.isoformat(), "digest": last.digest, "cases": last.cases,
        "events": last.events,
    }
    # Plain rows, not ORM objects: a checkpoint holds a head per case (100,000 and more).
    heads = {h.case_id: h for h in session.execute(
        select(*HEAD_COLUMNS).where(AuditCheckpointHead.checkpoint_id == last.id)
    )}
    digest = hashlib.sha256()
    for number in sorted(heads):
        h = heads[number]
        digest.update(head_line(number, h.last_seq, h.last_hash, h.identity, h.row).encode())
    if digest.hexdigest() != last.heads_digest or len(heads) != last.cases:
        report.findings.append(Finding(
            "checkpoint_invalid",
            f"point de contrôle n° {last.id} : têtes de dossiers modifiées ou supprimées",
        ))
    return last, heads
