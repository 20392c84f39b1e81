"""The audit trail: each event carries the hash of the one before it in its case.

Editing, removing or reordering an event breaks the chain, and `verify` says where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent

GENESIS = "0" * 64
# The canonical form of an event: `json.dumps` with these options, minus building an encoder
# per call (the sweep hashes thousands of events a second). Same bytes, same hashes.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


moment_text = _iso
"""A moment as the canonical form writes it (for `hash_from_text`)."""
canonical_json = _CANONICAL.encode
"""A value in the canonical form: a payload stored this way hashes without a second encoding."""
_string = json.encoder.encode_basestring  # what _CANONICAL writes for a str (no ASCII escaping)


def event_hash(
    *,
    case_id: int,
    seq: int,
    at: datetime,
    actor_id: str,
    role: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    body = _CANONICAL.encode(
        {
            "case": case_id,
            "seq": seq,
            "at": _iso(at),
            "actor": actor_id,
            "role": role,
            "trigger": trigger,
            "from": from_state,
            "to": to_state,
            "payload": payload,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


def hash_from_text(
    *,
    case_id: int,
    seq: int,
    at_text: str,
    actor_id: str,
    role: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    payload_text: str,
    prev_hash: str,
) -> str:
    """`event_hash` from the moment's `moment_text` and the payload's `canonical_json`.

    The same bytes as `event_hash` writes (keys in sorted order, compact separators), joined
    instead of encoded: the sweep hashes a batch's events with the moment and each payload
    encoded once, and stores that payload text as it is.
    """
    from_text = _string(from_state) if from_state is not None else "null"
    body = (
        f'{{"actor":{_string(actor_id)},"at":{_string(at_text)},"case":{int(case_id)},'
        f'"from":{from_text},"payload":{payload_text},"prev":{_string(prev_hash)},'
        f'"role":{_string(role)},"seq":{int(seq)},"to":{_string(to_state)},'
        f'"trigger":{_string(trigger)}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def hash_of(event: CaseEvent) -> str:
    return event_hash(
        case_id=event.case_id,
        seq=event.seq,
        at=event.at,
        actor_id=event.actor_id,
        role=event.role,
        trigger=event.trigger,
        from_state=event.from_state,
        to_state=event.to_state,
        payload=event.payload,
        prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class ChainBreak:
    case_id: int
    seq: int | None
    reason: str

    def describe(self) -> str:
        where = f"dossier C-{self.case_id}"
        if self.seq is not None:
            where += f", événement n° {self.seq}"
        return f"{where} : {self.reason}"


def check_case(case: Case, events: Iterable[CaseEvent]) -> ChainBreak | None:
    """The first break in one case's chain, or None when it is intact."""
    prev = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            return ChainBreak(
                case.id, expected_seq, f"événement manquant ou déplacé (trouvé n° {event.seq})"
            )
        if event.prev_hash != prev:
            return ChainBreak(
                case.id, event.seq, "ne suit pas l'événement précédent (ordre modifié)"
            )
        if hash_of(event) != event.hash:
            return ChainBreak(case.id, event.seq, "contenu modifié (empreinte invalide)")
        prev = event.hash
        expected_seq += 1
    if expected_seq - 1 != case.last_seq or prev != (case.last_hash or GENESIS):
        return ChainBreak(
            case.id,
            case.last_seq,
            f"la chaîne s'arrête au n° {expected_seq - 1} alors que le dossier en compte "
            f"{case.last_seq} (événement supprimé)",
        )
    return None


def iter_breaks(session: Session, case_id: int | None = None) -> Iterator[ChainBreak]:
    query = select(Case).order_by(Case.id)
    if case_id is not None:
        query = query.where(Case.id == case_id)
    for case in session.scalars(query).yield_per(500):
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
        broken = check_case(case, events)
        if broken:
            yield broken
