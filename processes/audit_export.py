"""A landlord's audit export: what was done, when and by which role, on its properties' cases.

What goes in (and what never does) is decided here; `notifications.reports` only lays it out as
JSON, CSV or PDF. The content is:

- every case on a dwelling of the landlord (a dwelling's own landlord, else its site's), of any
  process except a sensitive one (asylum), that had an event in the period;
- each with its history up to the period's end: moment (Paris), states before and after and
  the trigger in French, the role (a person's name only when the organisation's setting
  `audit.export_actor_names` is true), the structured facts (`processes.disclosure`: never
  free text), the event's chain hash and the hash of the case's last exported event;
- a manifest (landlord, period, generated at and by, counts, the SHA-256 of the content, the
  latest signed checkpoint) signed with the organisation's Ed25519 key.

Residents appear by their id only: no name, no contact.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from models.audit import AuditExport
from models.cases import Case, CaseEvent
from models.directory import Dwelling, Landlord, Organisation, Site, Staff
from processes import registry
from processes.audit import canonical_json
from processes.audit_labels import (
    ROLE_LABELS_FR,
    facts_in_french,
    state_label,
    trigger_label,
)
from processes.calendar import at_local_time, local
from processes.checkpoints import CheckpointSummary, summary, write_checkpoint
from processes.checkpoints import latest as latest_checkpoint
from processes.disclosure import structured_facts
from processes.engine import load_actor
from processes.errors import Forbidden, InvalidPayload, NotFound
from processes.signing import Signer

EXPORT_FORMAT = "suivi-audit-export/1"

@dataclass(frozen=True)
class Period:
    start: date | None
    end: date

    @property
    def start_at(self) -> datetime | None:
        return at_local_time(self.start, time(0, 0)) if self.start else None

    @property
    def end_before(self) -> datetime:
        """The first instant after the period (midnight, Paris, after its last day)."""
        return at_local_time(self.end + timedelta(days=1), time(0, 0))

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat() if self.start else None, "to": self.end.isoformat()}


def period(start: date | None, end: date | None, *, now: datetime) -> Period:
    last = end or local(now).date()
    if start and start > last:
        raise InvalidPayload(f"période vide : du {start.isoformat()} au {last.isoformat()}")
    return Period(start, last)


def previous_month(now: datetime) -> Period:
    first_this_month = local(now).date().replace(day=1)
    last = first_this_month - timedelta(days=1)
    return Period(last.replace(day=1), last)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def event_digest(event: dict[str, Any]) -> str:
    """The hash of one exported event as written (every key but `digest`)."""
    return _sha(canonical_json({k: v for k, v in event.items() if k != "digest"}))


def case_digest(case: dict[str, Any]) -> str:
    return _sha(canonical_json({k: v for k, v in case.items() if k != "digest"}))


def content_hash(cases: list[dict[str, Any]]) -> str:
    return _sha(canonical_json(cases))


def manifest_message(manifest: dict[str, Any]) -> bytes:
    """What the signature covers: the manifest without its signature, canonical."""
    return canonical_json({k: v for k, v in manifest.items() if k != "signature"}).encode()


def landlord_cases(session: Session, landlord_id: str, window: Period) -> list[Case]:
    """Cases on the landlord's dwellings with an event in the period; no sensitive process."""
    sensitive = [c.definition.name for c in registry.latest_all() if c.definition.sensitive]
    owned = or_(
        Dwelling.landlord_id == landlord_id,
        and_(Dwelling.landlord_id.is_(None), Site.landlord_id == landlord_id),
    )
    in_period = [CaseEvent.case_id == Case.id, CaseEvent.at < window.end_before]
    if window.start_at is not None:
        in_period.append(CaseEvent.at >= window.start_at)
    query = (
        select(Case)
        .join(Dwelling, Dwelling.id == Case.dwelling_id)
        .join(Site, Site.id == Dwelling.site_id)
        .where(owned, Case.process.not_in(sensitive or ["-"]), exists().where(*in_period))
        .order_by(Case.id)
    )
    return list(session.scalars(query))


def build_export(
    session: Session,
    landlord_id: str,
    window: Period,
    *,
    now: datetime,
    actor_id: str,
) -> dict[str, Any]:
    """The export as a JSON-able dict with its manifest (unsigned: see `sign_export`)."""
    landlord = session.get(Landlord, landlord_id)
    if landlord is None:
        raise NotFound(f"bailleur inconnu : « {landlord_id} »")
    org = session.scalars(select(Organisation).limit(1)).first()
    settings = dict(org.settings or {}) if org else {}
    with_names = bool((settings.get("audit") or {}).get("export_actor_names", False))
    names = dict(session.execute(select(Staff.id, Staff.name)).tuples().all()) if with_names else {}
    cases = landlord_cases(session, landlord_id, window)
    exported = [case_timeline(session, case, window, names) for case in cases]
    cp = latest_checkpoint(session)
    manifest: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "organisation": org.name if org else None,
        "landlord": {"id": landlord.id, "name": landlord.name},
        "period": window.as_dict(),
        "generated_at": local(now).isoformat(),
        "generated_by": actor_id,
        "counts": _counts(exported),
        "content_sha256": content_hash(exported),
        "checkpoint": _checkpoint_ref(summary(cp)) if cp else None,
    }
    return {"manifest": manifest, "cases": exported}


def _checkpoint_ref(cp: CheckpointSummary) -> dict[str, Any]:
    return {"id": cp.id, "at": local(cp.at).isoformat(), "digest": cp.digest,
            "key_id": cp.key_id, "signature": cp.signature}


def sign_export(export: dict[str, Any], signer: Signer) -> dict[str, Any]:
    manifest = dict(export["manifest"])
    manifest["key_id"] = signer.key_id
    manifest["public_key"] = signer.public_pem
    manifest["signature"] = signer.sign(manifest_message(manifest))
    return {"manifest": manifest, "cases": export["cases"]}


def case_timeline(
    session: Session, case: Case, window: Period, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """One case as a landlord may see it: its history up to the period's end, redacted."""
    names = names or {}
    definition = registry.get(case.process, case.process_version).definition
    events = list(session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.at < window.end_before)
        .order_by(CaseEvent.seq)
    ))
    dwelling = session.get(Dwelling, case.dwelling_id) if case.dwelling_id else None
    site = session.get(Site, case.site_id)
    rows = [_event(case, definition, e, names) for e in events]
    last = events[-1]
    state = last.to_state
    closed = definition.state(state).final
    item: dict[str, Any] = {
        "case": case.reference,
        "id": case.id,
        "process": case.process,
        "process_label": definition.label,
        "site": {"id": site.id, "name": site.name} if site else None,
        "dwelling": {"id": dwelling.id, "label": dwelling.label} if dwelling else None,
        "resident": case.resident_id,
        "opened_at": local(case.opened_at).isoformat(),
        "state": state,
        "state_label": state_label(definition, state),
        "closed": closed,
        "events": rows,
        "head": {"seq": last.seq, "hash": last.hash},
    }
    item["digest"] = case_digest(item)
    return item


def _event(
    case: Case, definition: Any, event: CaseEvent, names: dict[str, str]
) -> dict[str, Any]:
    facts = structured_facts(case.process, case.process_version, event.trigger, event.payload)
    row: dict[str, Any] = {
        "seq": event.seq,
        "at": local(event.at).isoformat(),
        "trigger": event.trigger,
        "trigger_label": trigger_label(definition, event.trigger),
        "from": event.from_state,
        "from_label": state_label(definition, event.from_state),
        "to": event.to_state,
        "to_label": state_label(definition, event.to_state),
        "role": event.role,
        "role_label": ROLE_LABELS_FR.get(event.role, event.role),
        "actor_name": names.get(event.actor_id) if names else None,
        "facts": facts,
        "facts_fr": facts_in_french(facts),
        "hash": event.hash,
    }
    row["digest"] = event_digest(row)
    return row


def _counts(cases: list[dict[str, Any]]) -> dict[str, Any]:
    by_process = Counter(c["process"] for c in cases)
    return {
        "cases": len(cases),
        "events": sum(len(c["events"]) for c in cases),
        "by_process": dict(sorted(by_process.items())),
    }


def report_summary(export: dict[str, Any]) -> dict[str, Any]:
    """What the PDF's first page says: cases by process and outcome, and the key steps."""
    by_outcome: Counter[tuple[str, str]] = Counter()
    steps = Counter[str]()
    for case in export["cases"]:
        by_outcome[(case["process_label"], case["state_label"] or "")] += 1
        for ev in case["events"]:
            moved = ev["from"] != ev["to"]
            if ev["trigger"] == "record_visit":
                steps["visits"] += 1
            if moved and str(ev["to"]).startswith("warning"):
                steps["warnings"] += 1
            if moved and ev["to"] == "terminated":
                steps["terminations"] += 1
            if "notice" in ev["trigger"]:
                steps["notices"] += 1
    return {
        "by_outcome": [
            {"process": p, "state": s, "count": n} for (p, s), n in sorted(by_outcome.items())
        ],
        "visits": steps["visits"], "warnings": steps["warnings"],
        "terminations": steps["terminations"], "notices": steps["notices"],
    }


def record_export(
    session: Session, export: dict[str, Any], *, fmt: str, file_sha256: str, now: datetime,
    actor_id: str, path: str | None,
) -> AuditExport:
    manifest = export["manifest"]
    window = manifest["period"]
    record = AuditExport(
        at=now, actor_id=actor_id, landlord_id=manifest["landlord"]["id"],
        period_from=date.fromisoformat(window["from"]) if window["from"] else date(1970, 1, 1),
        period_to=date.fromisoformat(window["to"]), format=fmt,
        cases=manifest["counts"]["cases"], events=manifest["counts"]["events"],
        content_sha256=manifest["content_sha256"], file_sha256=file_sha256,
        checkpoint_id=(manifest["checkpoint"] or {}).get("id"), path=path,
    )
    session.add(record)
    session.flush()
    return record



@dataclass(frozen=True)
class MadeExport:
    content: bytes
    """The file: JSON, CSV or PDF."""
    export: dict[str, Any]
    """The signed export (its manifest is inside a JSON file)."""
    sidecar: dict[str, Any] | None
    """For CSV and PDF: the signed manifest with the file's SHA-256, kept beside the file."""
    record_id: int
    checkpoint: CheckpointSummary


def make_export(
    session: Session,
    landlord_id: str,
    window: Period,
    fmt: str,
    *,
    now: datetime,
    actor_id: str,
    signer: Signer,
    render: Callable[[dict[str, Any], str], bytes],
    path: str | None = None,
    checkpoint: CheckpointSummary | None = None,
) -> MadeExport:
    """Checkpoint, build, sign, render, record: one export, in the caller's transaction.

    A checkpoint is written first so that the export carries the digest of every case head
    as it stood: the digest leaves the database with the file. Several formats of one
    export share the checkpoint of the first.
    """
    _may_export(session, actor_id, landlord_id)
    if checkpoint is None:
        checkpoint = write_checkpoint(session, signer, now=now, reason="export")
    export = sign_export(
        build_export(session, landlord_id, window, now=now, actor_id=actor_id), signer
    )
    content = render(export, fmt)
    file_sha256 = hashlib.sha256(content).hexdigest()
    sidecar = None
    if fmt != "json":
        manifest = {k: v for k, v in export["manifest"].items() if k != "signature"}
        manifest.update(file_format=fmt, file_sha256=file_sha256)
        manifest["signature"] = signer.sign(manifest_message(manifest))
        sidecar = {"manifest": manifest}
    record = record_export(
        session, export, fmt=fmt, file_sha256=file_sha256, now=now, actor_id=actor_id, path=path
    )
    return MadeExport(content, export, sidecar, record.id, checkpoint)


def _may_export(session: Session, actor_id: str, landlord_id: str) -> None:
    """Staff and the monthly run export any landlord; a landlord's user, its own only."""
    actor = load_actor(session, actor_id)
    if actor.role == "landlord" and (actor.staff is None or actor.staff.landlord_id != landlord_id):
        raise Forbidden(f"{actor_id} ne peut exporter que la piste de son propre bailleur")


def already_exported(session: Session, landlord_id: str, window: Period, fmt: str) -> bool:
    """Whether the flow already made this landlord's export of this period (a re-run)."""
    return session.scalar(
        select(AuditExport.id).where(
            AuditExport.landlord_id == landlord_id, AuditExport.actor_id == "system",
            AuditExport.period_from == (window.start or date(1970, 1, 1)),
            AuditExport.period_to == window.end, AuditExport.format == fmt,
        ).limit(1)
    ) is not None
