"""`audit verify-export`: was this export edited since it was made, and does it still match?

Without the database (what a landlord can run): each event's digest, each case's digest, the
content hash of the manifest and the manifest's Ed25519 signature. With the database: every
exported event still there, with the same chain hash, in a chain that still verifies.
`docs/verify_export.py` does the first part with the standard library and `cryptography`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import CaseEvent
from processes.audit_export import (
    EXPORT_FORMAT,
    case_digest,
    content_hash,
    event_digest,
    manifest_message,
)
from processes.audit_verify import check_chain
from processes.signing import key_id, load_public, verify


@dataclass
class ExportCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: int = 0
    events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events,
                "problems": self.problems, "notes": self.notes}


def verify_document(doc: Any, public_key: Ed25519PublicKey | None = None) -> ExportCheck:
    """The file alone: digests, content hash, signature. The first problem names where."""
    try:
        return _verify_document(doc, public_key)
    except (KeyError, TypeError, AttributeError, ValueError):
        # Keys removed or values of another type: the file was edited by hand.
        return ExportCheck(problems=["fichier modifié : structure de l'export altérée"])


def _verify_document(doc: Any, public_key: Ed25519PublicKey | None) -> ExportCheck:
    check = ExportCheck()
    if not isinstance(doc, dict) or not isinstance(doc.get("manifest"), dict) or not isinstance(
        doc.get("cases"), list
    ):
        check.problems.append("fichier illisible : pas d'export suivi (manifest, cases)")
        return check
    manifest, cases = doc["manifest"], doc["cases"]
    if manifest.get("format") != EXPORT_FORMAT:
        check.problems.append(f"format inconnu : {manifest.get('format')!r}")
        return check
    for case in cases:
        where = f"dossier {case.get('case', '?')}"
        for event in case.get("events", []):
            if event_digest(event) != event.get("digest"):
                check.problems.append(f"{where}, événement n° {event.get('seq')} : modifié")
        if not check.problems and case_digest(case) != case.get("digest"):
            check.problems.append(f"{where} : modifié (hors événements)")
        if check.problems:
            break
        check.cases += 1
        check.events += len(case.get("events", []))
    if not check.problems and content_hash(cases) != manifest.get("content_sha256"):
        check.problems.append("contenu modifié : dossier ajouté, retiré ou réordonné")
    if check.problems:
        return check
    counts = manifest.get("counts") or {}
    if (counts.get("cases"), counts.get("events")) != (check.cases, check.events):
        check.problems.append("manifeste : les nombres de dossiers ou d'événements diffèrent")
        return check
    _check_signature(manifest, public_key, check)
    return check


def _check_signature(
    manifest: dict[str, Any], public_key: Ed25519PublicKey | None, check: ExportCheck
) -> None:
    if public_key is None:
        try:
            public_key = load_public(str(manifest.get("public_key", "")))
        except Exception:
            check.problems.append("manifeste : pas de clé publique lisible")
            return
        check.notes.append(
            "signature vérifiée avec la clé jointe au fichier : comparez son identifiant "
            f"({manifest.get('key_id')}) à celui que l'association vous a remis"
        )
    if key_id(public_key) != manifest.get("key_id"):
        check.problems.append("manifeste : signé avec une autre clé que celle fournie")
    elif not verify(public_key, manifest_message(manifest), str(manifest.get("signature", ""))):
        check.problems.append("manifeste : signature invalide (manifeste modifié)")


def verify_file_digest(sidecar: dict[str, Any], content: bytes) -> str | None:
    """A CSV or PDF against its signed sidecar manifest: the file's SHA-256."""
    if hashlib.sha256(content).hexdigest() != sidecar.get("manifest", {}).get("file_sha256"):
        return "fichier modifié : son empreinte SHA-256 diffère de celle du manifeste signé"
    return None


def verify_against_database(session: Session, doc: dict[str, Any]) -> list[str]:
    """Every exported event still in the database, same hash, in an intact chain."""
    problems: list[str] = []
    for case in doc["cases"]:
        events = list(session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.seq)
        ))
        stored = {e.seq: e for e in events}
        for exported in case["events"]:
            found = stored.get(exported["seq"])
            where = f"dossier {case['case']}, événement n° {exported['seq']}"
            if found is None:
                problems.append(f"{where} : supprimé de la base depuis l'export")
            elif found.hash != exported["hash"]:
                problems.append(f"{where} : différent dans la base (empreinte)")
        broken = check_chain(case["id"], events)
        if broken is not None:
            problems.append(f"dossier {case['case']}, base : {broken.describe().split(' : ', 1)[1]}"
                            + (f" (événement n° {broken.seq})" if broken.seq else ""))
    return problems
