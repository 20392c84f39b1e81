"""What the audit flows and commands do with the database, the key and the outside world:
a checkpoint written then its digest sent out; each landlord's monthly export written to the
exports folder and announced to the landlord's users.

The decisions (what a checkpoint holds, what an export contains) are in `processes/`; here
they are run one transaction at a time and their results leave the database.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.db import session_scope
from models.directory import Landlord, Organisation, Staff
from models.private import private_dir, write_private
from notifications.channels import send
from notifications.letters import MONTHS_FR
from notifications.outbox import base_url_of, queue_staff_notice
from notifications.render import scheme
from notifications.reports import render
from processes.audit_export import Period, already_exported, make_export, previous_month
from processes.checkpoints import CheckpointSummary, record_sent, write_checkpoint
from processes.signing import Signer

TARGET_VARIABLE = "SUIVI_AUDIT_CHECKPOINT_URL"
FOLDER_VARIABLE = "SUIVI_EXPORT_DIR"
DEFAULT_FOLDER = Path("var") / "exports"


def _settings(session: Session) -> dict[str, Any]:
    org = session.scalars(select(Organisation).limit(1)).first()
    return dict((org.settings or {}).get("audit") or {}) if org else {}


def digest_target(session: Session, environ: dict[str, str] | None = None) -> str | None:
    """Where checkpoint digests go: the environment first (out of reach of a database
    rewrite), else the organisation's `audit.checkpoint_target`."""
    env = os.environ if environ is None else environ
    return env.get(TARGET_VARIABLE) or _settings(session).get("checkpoint_target") or None


def exports_folder(session: Session, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(FOLDER_VARIABLE) or _settings(session).get("export_dir") or DEFAULT_FOLDER)


@dataclass(frozen=True)
class CheckpointRun:
    checkpoint: CheckpointSummary
    sent_to: str | None
    sent_ok: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.checkpoint.as_dict(), "sent_to": self.sent_to, "sent_ok": self.sent_ok}


def checkpoint_and_send(engine: Engine, signer: Signer, *, now: datetime) -> CheckpointRun:
    """Write and sign a checkpoint (committed first), then send its digest out."""
    with session_scope(engine) as session:
        cp = write_checkpoint(session, signer, now=now, reason="daily")
        target = digest_target(session)
    if target is None:
        return CheckpointRun(cp, None, None)
    result = send(target, f"suivi : point de contrôle n° {cp.id}", cp.message())
    with session_scope(engine) as session:
        # The scheme only: a target URL may hold a password or a webhook token.
        record_sent(session, cp.id, scheme(target), result.ok)
    return CheckpointRun(cp, scheme(target), result.ok)


def month_fr(window: Period) -> str:
    return f"{MONTHS_FR[window.end.month - 1]} {window.end.year}"


def monthly_exports(
    engine: Engine, signer: Signer, *, now: datetime, folder: Path | None = None
) -> list[dict[str, Any]]:
    """Each landlord's export of the past month (JSON and PDF), kept and announced."""
    window = previous_month(now)
    with session_scope(engine, read_only=True) as session:
        landlords = list(session.scalars(select(Landlord.id).order_by(Landlord.id)))
        folder = folder or exports_folder(session)
    done = []
    for landlord_id in landlords:
        with session_scope(engine) as session:
            done.append(_one_landlord(session, landlord_id, window, folder, signer, now))
    return done


def _one_landlord(
    session: Session, landlord_id: str, window: Period, folder: Path, signer: Signer,
    now: datetime,
) -> dict[str, Any]:
    if already_exported(session, landlord_id, window, "json"):
        return {"landlord": landlord_id, "period": window.as_dict(), "files": [],
                "cases": None, "notified": 0, "already": True}
    stem = folder / landlord_id / f"{window.end:%Y-%m}"
    private_dir(stem.parent)
    files: list[str] = []
    made = None
    for fmt in ("json", "pdf"):
        path = stem.with_suffix(f".{fmt}")
        made = make_export(
            session, landlord_id, window, fmt, now=now, actor_id="system", signer=signer,
            render=render, path=str(path), checkpoint=made.checkpoint if made else None,
        )
        write_private(path, made.content)
        files.append(str(path))
        if made.sidecar is not None:
            side = path.with_name(path.name + ".manifest.json")
            write_private(
                side, (json.dumps(made.sidecar, ensure_ascii=False, indent=2) + "\n").encode()
            )
            files.append(str(side))
    assert made is not None
    manifest = made.export["manifest"]
    org = session.scalars(select(Organisation).limit(1)).first()
    link = f"{base_url_of(org)}/bailleur/exports/{made.record_id}"
    users = session.scalars(
        select(Staff).where(Staff.landlord_id == landlord_id, Staff.role == "landlord",
                            Staff.active.is_(True))
    )
    notified = 0
    for staff in users:
        notified += len(queue_staff_notice(
            session, staff=staff, template="audit_export_ready",
            context={
                "recipient": staff.name, "landlord": manifest["landlord"]["name"],
                "month": month_fr(window), "cases": manifest["counts"]["cases"],
                "events": manifest["counts"]["events"], "link": link,
                "content_sha256": manifest["content_sha256"],
                "checkpoint_id": made.checkpoint.id, "checkpoint_digest": made.checkpoint.digest,
                "key_id": made.checkpoint.key_id,
            },
            source_key=f"audit_export:{landlord_id}:{window.end:%Y-%m}", now=now,
        ))
    return {"landlord": landlord_id, "period": window.as_dict(), "files": files,
            "cases": manifest["counts"]["cases"], "notified": notified, "already": False}
