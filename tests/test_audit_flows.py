"""The audit's scheduled flows on Prefect's test server: the night's checkpoint sends its digest
out of the database; on 1 December 2026 each landlord gets its November export, kept in the
exports folder and announced to its users; the monthly retention run; and prefect.yaml
schedules all three (Paris time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import at
from sqlalchemy import Engine, select

from models.audit import AuditCheckpoint, AuditExport
from models.cases import Notification
from models.db import session_scope
from processes import engine as wf
from processes.export_verify import verify_against_database, verify_document
from processes.signing import load_public, new_private_pem

ROOT = Path(__file__).parent.parent


@pytest.fixture
def deployed(sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The environment a worker has: database URL, signing key file, exports folder."""
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string())
    key = tmp_path / "cle.pem"
    key.write_text(new_private_pem())
    monkeypatch.setenv("SUIVI_AUDIT_KEY_FILE", str(key))
    monkeypatch.delenv("SUIVI_AUDIT_KEY", raising=False)
    monkeypatch.setenv("SUIVI_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("SUIVI_AUDIT_CHECKPOINT_URL", "console://")
    monkeypatch.setenv("SUIVI_CONSOLE_LOG", str(tmp_path / "console.log"))
    with session_scope(sqlite_engine) as s:
        wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id="gs-viala", now=at("2026-11-05 09:00"),
            payload={"observed_at": "2026-11-05T08:00", "description": "odeurs"},
        )
    return sqlite_engine


@pytest.mark.usefixtures("prefect_harness")
def test_the_nights_checkpoint_and_the_first_of_the_month_exports(
    deployed: Engine, tmp_path: Path
) -> None:
    from flows.checkpoint import audit_checkpoint
    from flows.exports import monthly_exports
    from flows.retention import retention

    night = audit_checkpoint(now=at("2026-11-30 02:30"))

    assert (night["id"], night["cases"], night["sent_to"], night["sent_ok"]) == (
        1, 1, "console", True
    )
    assert night["digest"] in (tmp_path / "console.log").read_text()

    first = monthly_exports(now=at("2026-12-01 06:00"))

    by_landlord = {r["landlord"]: r for r in first}
    assert by_landlord["13habitat"]["cases"] == 1 and by_landlord["unicil"]["cases"] == 0
    kept = tmp_path / "exports" / "13habitat" / "2026-11.json"
    assert sorted(Path(f).name for f in by_landlord["13habitat"]["files"]) == [
        "2026-11.json", "2026-11.pdf", "2026-11.pdf.manifest.json"
    ]
    doc = json.loads(kept.read_text())
    key = load_public(doc["manifest"]["public_key"])
    assert verify_document(doc, key).ok
    with session_scope(deployed) as s:
        assert verify_against_database(s, doc) == []
        told = s.scalars(select(Notification).where(Notification.kind == "audit_export_ready"))
        [notice] = list(told)
        assert notice.recipient_staff_id == "bailleur-13h"
        assert "novembre 2026" in (notice.subject or "")
        assert doc["manifest"]["checkpoint"]["digest"] in (notice.body or "")
        assert s.query(AuditExport).count() == 4  # JSON and PDF for each landlord
        assert s.query(AuditCheckpoint).count() == 3  # the night's, one per landlord's export

    again = monthly_exports(now=at("2026-12-01 06:05"))
    assert all(r["already"] for r in again)

    assert retention(now=at("2026-12-02 04:00"))["cases"] == []


def test_prefect_yaml_schedules_the_audit_flows_in_paris_time() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    by_name = {d["name"]: d for d in spec["deployments"]}
    expected = {
        "audit-checkpoint": ("flows/checkpoint.py:audit_checkpoint", "30 2 * * *"),
        "monthly-exports": ("flows/exports.py:monthly_exports", "0 6 1 * *"),
        "retention": ("flows/retention.py:retention", "0 4 2 * *"),
    }
    for name, (entrypoint, cron) in expected.items():
        deployment = by_name[name]
        assert deployment["entrypoint"] == entrypoint
        [schedule] = deployment["schedules"]
        assert (schedule["cron"], schedule["timezone"]) == (cron, "Europe/Paris")
        path, _, function = entrypoint.partition(":")
        assert f"def {function}(" in (ROOT / path).read_text()
