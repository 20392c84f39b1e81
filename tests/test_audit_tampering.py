"""What someone with write access to the database could do behind the engine's back, and how
`suivi audit verify` names it: the last events deleted with the head set back, a case deleted
whole after a checkpoint, a state set with no event, a case moved to another resident, a
payload rewritten with the whole chain recomputed by the public hash function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import at
from helpers import walk_to
from sqlalchemy import Engine, select, text, update

from models.cases import Case, CaseEvent
from models.db import session_scope
from processes.audit import GENESIS, hash_of
from processes.audit_verify import VerifyReport, verify_trail
from processes.checkpoints import write_checkpoint
from processes.signing import Signer, load_public, new_private_pem, signer_from

CHECKPOINT_AT = "2027-01-23 02:00"


@pytest.fixture
def signer() -> Signer:
    return signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})


def cases_then_checkpoint(engine: Engine, signer: Signer) -> tuple[int, int, int]:
    """Three hygiene cases (at warning_2, visit_1, reported), then the night's checkpoint."""
    with session_scope(engine) as s:
        first = walk_to(s, "warning_2").id
        second = walk_to(s, "visit_1", resident="r-0003").id
        third = walk_to(s, "reported", resident="r-0002").id
    with session_scope(engine) as s:
        write_checkpoint(s, signer, now=at(CHECKPOINT_AT))
    return first, second, third


def verify(engine: Engine, signer: Signer) -> VerifyReport:
    with session_scope(engine, read_only=True) as s:
        return verify_trail(s, public_key=load_public(signer.public_pem))


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def kinds(report: VerifyReport) -> list[tuple[str, int | None]]:
    return [(f.kind, f.case_id) for f in report.errors]


def test_an_untouched_trail_verifies_against_its_signed_checkpoint(
    engine: Engine, signer: Signer
) -> None:
    cases_then_checkpoint(engine, signer)

    report = verify(engine, signer)

    assert report.ok, report.as_dict()
    assert (report.cases, report.events) == (3, 8 + 2 + 1)
    assert report.signature_checked and report.checkpoint and report.checkpoint["cases"] == 3


def test_the_last_event_deleted_with_the_head_set_back_is_caught_by_the_checkpoint(
    engine: Engine, signer: Signer
) -> None:
    first, _, _ = cases_then_checkpoint(engine, signer)
    with engine.connect() as conn:
        seventh = conn.execute(text(
            "SELECT hash, to_state FROM case_events WHERE case_id = :c AND seq = 7"
        ), {"c": first}).one()

    tamper(engine, "DELETE FROM case_events WHERE case_id = :c AND seq = 8", c=first)
    tamper(engine, "UPDATE cases SET last_seq = 7, last_hash = :h, state = :s WHERE id = :c",
           h=seventh.hash, s=seventh.to_state, c=first)

    report = verify(engine, signer)
    assert kinds(report) == [("events_removed", first)]
    assert report.errors[0].describe() == (
        f"dossier C-{first}, événement n° 8 : événements supprimés depuis le point de contrôle "
        "n° 1 : il en comptait 8, il en reste 7"
    )


def test_a_whole_case_deleted_after_the_checkpoint_is_named(
    engine: Engine, signer: Signer
) -> None:
    _, second, third = cases_then_checkpoint(engine, signer)

    for table in ("notifications", "clocks", "case_events"):
        tamper(engine, f"DELETE FROM {table} WHERE case_id IN (:a, :b)", a=second, b=third)
    tamper(engine, "DELETE FROM cases WHERE id IN (:a, :b)", a=second, b=third)

    report = verify(engine, signer)
    assert kinds(report) == [("case_removed", second), ("case_removed", third)]
    assert "dossier supprimé depuis le dernier point de contrôle (2 événements)" in (
        report.errors[0].describe()
    )


def test_a_state_set_to_terminated_with_no_event_is_named(
    engine: Engine, signer: Signer
) -> None:
    first, _, _ = cases_then_checkpoint(engine, signer)

    tamper(engine, "UPDATE cases SET state = 'terminated', closed_at = :t WHERE id = :c",
           t=at("2027-01-25 10:00"), c=first)

    report = verify(engine, signer)
    assert ("state_without_event", first) in kinds(report)
    assert ("row_changed", first) in kinds(report)
    [state] = [f for f in report.errors if f.kind == "state_without_event"]
    assert state.describe() == (
        f"dossier C-{first} : état « terminated » sans événement (le dernier événement mène à "
        "« warning_2 »)"
    )


def test_a_case_moved_to_another_resident_is_named(engine: Engine, signer: Signer) -> None:
    _, second, _ = cases_then_checkpoint(engine, signer)

    tamper(engine, "UPDATE cases SET resident_id = 'r-0002' WHERE id = :c", c=second)

    assert kinds(verify(engine, signer)) == [("case_moved", second)]


def recompute_chain(engine: Engine, case_id: int, edit_seq: int, edit: dict[str, Any]) -> None:
    """What a forger with database access does: edit a payload, rehash every later event."""
    with session_scope(engine) as s:
        prev = GENESIS
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                           .order_by(CaseEvent.seq)).all()
        for event in events:
            if event.seq == edit_seq:
                event.payload = {**event.payload, **edit}
            event.prev_hash = prev
            event.hash = prev = hash_of(event)
        s.execute(update(Case).where(Case.id == case_id).values(last_hash=prev))


def test_a_payload_rewritten_with_the_chain_recomputed_is_caught_by_the_signed_checkpoint(
    engine: Engine, signer: Signer
) -> None:
    first, _, _ = cases_then_checkpoint(engine, signer)

    recompute_chain(engine, first, 3, {"outcome": "satisfactory"})

    report = verify(engine, signer)
    assert kinds(report) == [("history_rewritten", first)]
    assert "historique réécrit depuis le point de contrôle n° 1" in report.errors[0].describe()


def test_a_checkpoint_rewritten_without_the_key_fails_its_signature(
    engine: Engine, signer: Signer
) -> None:
    cases_then_checkpoint(engine, signer)
    forger = signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})

    # A forger rewrites a chain, then writes a fresh checkpoint with a key of their own.
    with session_scope(engine) as s:
        write_checkpoint(s, forger, now=at("2027-01-24 02:00"))

    report = verify(engine, signer)
    assert [f.reason for f in report.errors] == [
        "point de contrôle n° 2 : signature invalide (clé différente ou point de contrôle réécrit)"
    ]


@pytest.fixture(autouse=True)
def _no_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SUIVI_AUDIT_KEY", raising=False)
    monkeypatch.delenv("SUIVI_AUDIT_KEY_FILE", raising=False)
    yield


def test_suivi_audit_verify_exits_1_naming_each_tampering(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four cases, four tamperings after the night's checkpoint: one run names them all."""
    from conftest import DIRECTORY
    from typer.testing import CliRunner

    from models.db import get_engine
    from models.directory_io import import_directory, load_directory_file
    from models.migrate import upgrade
    from suivi.cli import build

    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    key = tmp_path / "cle.pem"
    key.write_text(new_private_pem())
    monkeypatch.setenv("SUIVI_AUDIT_KEY_FILE", str(key))
    engine = get_engine()
    upgrade(engine, rehearsal=True)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
        truncated = walk_to(s, "warning_2").id
        removed = walk_to(s, "visit_1", resident="r-0003").id
        forced = walk_to(s, "visit_1", resident="r-0002").id
        rewritten = walk_to(s, "warning_1", resident="r-0002").id
        last = walk_to(s, "reported", resident="r-0002").id
    runner = CliRunner()
    checkpoint = runner.invoke(build(), ["audit", "checkpoint", "--now", "2027-01-23T02:00"])
    assert checkpoint.exit_code == 0, checkpoint.output
    assert runner.invoke(build(), ["audit", "verify"]).exit_code == 0

    with engine.connect() as conn:
        seventh = conn.execute(text(
            "SELECT hash, to_state FROM case_events WHERE case_id = :c AND seq = 7"
        ), {"c": truncated}).one()
    tamper(engine, "DELETE FROM case_events WHERE case_id = :c AND seq = 8", c=truncated)
    tamper(engine, "UPDATE cases SET last_seq = 7, last_hash = :h, state = :s WHERE id = :c",
           h=seventh.hash, s=seventh.to_state, c=truncated)
    for number in (removed, last):
        for table in ("notifications", "clocks", "case_events"):
            tamper(engine, f"DELETE FROM {table} WHERE case_id = :c", c=number)
        tamper(engine, "DELETE FROM cases WHERE id = :c", c=number)
    tamper(engine, "UPDATE cases SET state = 'terminated', closed_at = :t WHERE id = :c",
           t=at("2027-01-25 10:00"), c=forced)
    recompute_chain(engine, rewritten, 3, {"outcome": "satisfactory"})

    result = runner.invoke(build(), ["audit", "verify"])

    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert f"dossier C-{truncated}, événement n° 8 : événements supprimés" in said
    assert f"dossier C-{removed} : dossier supprimé depuis le dernier point de contrôle" in said
    assert f"dossier C-{last} : dossier supprimé depuis le dernier point de contrôle" in said
    assert f"dossier C-{forced} : état « terminated » sans événement" in said
    assert f"dossier C-{rewritten}, événement n° 7 : historique réécrit" in said
    as_json = json.loads(runner.invoke(build(), ["audit", "verify", "--json"]).stdout)
    assert as_json["ok"] is False
    assert {(e["kind"], e["case"]) for e in as_json["errors"]} >= {
        ("events_removed", truncated), ("case_removed", removed), ("case_removed", last),
        ("state_without_event", forced), ("history_rewritten", rewritten),
    }


def test_every_event_of_a_case_deleted_leaves_a_row_with_no_history(
    engine: Engine, signer: Signer
) -> None:
    _, second, _ = cases_then_checkpoint(engine, signer)

    tamper(engine, "DELETE FROM case_events WHERE case_id = :c", c=second)

    report = verify(engine, signer)
    assert ("history_removed", second) in kinds(report)
    assert ("events_removed", second) in kinds(report)
    assert f"dossier C-{second} : aucun événement : historique supprimé" in [
        f.describe() for f in report.errors
    ]


def test_without_a_checkpoint_the_row_is_still_compared_with_its_history(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = walk_to(s, "visit_1").id
    tamper(engine, "UPDATE cases SET closed_at = :t WHERE id = :c", t=at("2026-11-20 10:00"),
           c=case_id)

    with session_scope(engine, read_only=True) as s:
        report = verify_trail(s)

    assert kinds(report) == [("closure_mismatch", case_id)]
    assert report.checkpoint is None and not report.signature_checked


def test_a_month_of_nightly_checkpoints_keeps_heads_and_every_signed_digest(
    sqlite_engine: Engine, signer: Signer
) -> None:
    from datetime import timedelta

    from models.audit import AuditCheckpoint, AuditCheckpointHead
    from processes.checkpoints import HEADS_KEPT

    cases_then_checkpoint(sqlite_engine, signer)  # checkpoint no. 1
    for night in range(1, HEADS_KEPT + 2):
        with session_scope(sqlite_engine) as s:
            write_checkpoint(s, signer, now=at(CHECKPOINT_AT) + timedelta(days=night))

    with session_scope(sqlite_engine) as s:
        assert s.query(AuditCheckpoint).count() == HEADS_KEPT + 2
        kept = {cp for (cp,) in s.query(AuditCheckpointHead.checkpoint_id).distinct()}
    assert kept == set(range(3, HEADS_KEPT + 3))
    report = verify(sqlite_engine, signer)
    assert report.ok and report.checkpoint and report.checkpoint["id"] == HEADS_KEPT + 2


def test_two_checkpoints_written_at_once_still_form_one_chain(
    engine: Engine, signer: Signer
) -> None:
    """The night's checkpoint and an export's, at the same moment, from two workers."""
    from concurrent.futures import ThreadPoolExecutor

    cases_then_checkpoint(engine, signer)

    def one(minute: int) -> int:
        with session_scope(engine) as s:
            return write_checkpoint(s, signer, now=at(f"2027-01-24 02:{minute:02d}")).id

    with ThreadPoolExecutor(max_workers=2) as pool:
        written = sorted(pool.map(one, (30, 31)))

    assert written == [2, 3]
    report = verify(engine, signer)
    assert report.ok, report.as_dict()
