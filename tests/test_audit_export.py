"""A landlord's month, exported and checked: UNICIL's November 2026 holds its hygiene case on
the Chartreux residence, never the asylum case of its CADA nor 13 Habitat's case; the words
staff typed appear in no format; a byte altered in the file, or an event altered in the
database afterwards, is named."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import DIRECTORY, at
from pypdf import PdfReader
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from models.db import get_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from notifications.reports import render
from processes import engine as wf
from processes.audit_export import make_export, period
from processes.disclosure import undeclared_text_fields
from processes.export_verify import verify_against_database, verify_document
from processes.signing import Signer, load_public, new_private_pem, signer_from
from suivi.cli import build

MARKER = "MARQUEUR-7f3a"
NOVEMBER = period(date(2026, 11, 1), date(2026, 11, 30), now=at("2026-12-01 06:00"))


@pytest.fixture
def signer() -> Signer:
    return signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})


def november(engine: Engine) -> dict[str, int]:
    """UNICIL's hygiene case (free text marked), its CADA's asylum case, 13 Habitat's case."""
    with session_scope(engine) as s:
        def fire(case_id: int, trigger: str, actor: str, now: str, **payload: Any) -> None:
            wf.fire(s, case_id, trigger, actor_id=actor, now=at(now), payload=payload)

        chartreux = wf.open_case(
            s, "hygiene", resident_id="r-0003", actor_id="gs-chartreux", now=at("2026-11-02 09:00"),
            payload={"observed_at": "2026-11-02T08:30", "description": f"{MARKER} déchets"},
        ).id
        fire(chartreux, "schedule_visit", "gs-chartreux", "2026-11-03 09:00",
             visit_at="2026-11-09T10:00", mode="home")
        fire(chartreux, "record_visit", "gs-chartreux", "2026-11-09 17:00",
             held_at="2026-11-09T10:00", outcome="unsatisfactory", obstacles=f"{MARKER} santé",
             notes=f"{MARKER} voisins", cleaning_kit=True)
        fire(chartreux, "refer_partner", "gs-chartreux", "2026-11-10 09:00",
             partner="ccas", reason=f"{MARKER} isolement")
        asylum = wf.open_case(
            s, "asylum", resident_id="r-0004", actor_id="juriste-cada", now=at("2026-11-04 10:00"),
            payload={"procedure": "normal", "registered_at": "2026-11-04",
                     "attestation_issued_at": "2026-11-04"},
        ).id
        viala = wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id="gs-viala", now=at("2026-11-05 09:00"),
            payload={"observed_at": "2026-11-05T08:00", "description": "odeurs"},
        ).id
    return {"chartreux": chartreux, "asylum": asylum, "viala": viala}


def export_unicil(engine: Engine, signer: Signer, fmt: str) -> tuple[bytes, dict[str, Any]]:
    with session_scope(engine) as s:
        made = make_export(s, "unicil", NOVEMBER, fmt, now=at("2026-12-01 06:00"),
                           actor_id="dgls-1", signer=signer, render=render)
    return made.content, made.export


def test_unicils_november_holds_its_residence_case_only_and_verifies(
    engine: Engine, signer: Signer
) -> None:
    ids = november(engine)

    content, _ = export_unicil(engine, signer, "json")
    doc = json.loads(content)

    assert [c["case"] for c in doc["cases"]] == [f"C-{ids['chartreux']}"]
    case = doc["cases"][0]
    assert [e["trigger_label"] for e in case["events"]] == [
        "Signaler un manquement", "Planifier la visite", "Enregistrer la visite",
        "Orienter vers un partenaire",
    ]
    visit = case["events"][2]
    assert (visit["from_label"], visit["to_label"], visit["role_label"]) == (
        "1re visite", "2e visite", "gestionnaire social"
    )
    assert visit["at"] == "2026-11-09T17:00:00+01:00"
    assert visit["facts"] == {"held_at": "2026-11-09T09:00:00Z", "outcome": "unsatisfactory",
                              "cleaning_kit": True}
    assert visit["facts_fr"] == (
        "tenue le : 09/11/2026 10:00 ; issue : insatisfaisante ; kit de nettoyage remis : oui"
    )
    assert visit["actor_name"] is None  # no name unless the organisation allows it
    assert case["head"]["seq"] == 4 and case["head"]["hash"] == case["events"][-1]["hash"]
    manifest = doc["manifest"]
    assert manifest["counts"] == {"cases": 1, "events": 4, "by_process": {"hygiene": 1}}
    assert manifest["landlord"] == {"id": "unicil", "name": "UNICIL"}
    assert manifest["period"] == {"from": "2026-11-01", "to": "2026-11-30"}

    check = verify_document(doc, load_public(signer.public_pem))
    assert check.ok and check.problems == []
    with session_scope(engine, read_only=True) as s:
        assert verify_against_database(s, doc) == []


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_words_staff_typed_names_and_contacts_appear_in_no_format(
    engine: Engine, signer: Signer, fmt: str
) -> None:
    november(engine)

    content, _ = export_unicil(engine, signer, fmt)

    if fmt == "pdf":
        words = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        assert "Chronologie par dossier" in words and "Orienter vers un partenaire" in words
    else:
        words = content.decode("utf-8-sig")
        assert "Orienter vers un partenaire" in words
    for secret in (MARKER, "Pierre Moreau", "Famille Haddad", "CADA Marseille", "GUDA",
                   "jean.dupont@example.org", "Logement 214"):
        assert secret not in words, (fmt, secret)


def test_a_byte_altered_in_the_file_names_the_event(engine: Engine, signer: Signer) -> None:
    ids = november(engine)
    content, _ = export_unicil(engine, signer, "json")
    # One byte: the visit said to be held on the 9th now reads the 8th.
    needle = b'"held_at": "2026-11-09'
    assert content.count(needle) == 1
    altered = content.replace(needle, b'"held_at": "2026-11-08')

    check = verify_document(json.loads(altered), load_public(signer.public_pem))

    assert check.problems == [f"dossier C-{ids['chartreux']}, événement n° 3 : modifié"]


def test_a_re_signed_manifest_without_the_key_is_refused(engine: Engine, signer: Signer) -> None:
    november(engine)
    content, _ = export_unicil(engine, signer, "json")
    doc = json.loads(content)
    doc["manifest"]["generated_by"] = "dgls-2"

    check = verify_document(doc, load_public(signer.public_pem))

    assert check.problems == ["manifeste : signature invalide (manifeste modifié)"]


def test_an_event_altered_in_the_database_after_the_export_is_named(
    engine: Engine, signer: Signer
) -> None:
    ids = november(engine)
    content, _ = export_unicil(engine, signer, "json")
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE case_events SET to_state = 'good_upkeep' WHERE case_id = :c AND seq = 3"
        ), {"c": ids["chartreux"]})

    with session_scope(engine, read_only=True) as s:
        problems = verify_against_database(s, json.loads(content))

    assert problems == [
        f"dossier C-{ids['chartreux']}, base : contenu modifié (empreinte invalide) "
        "(événement n° 3)"
    ]


def test_every_text_field_of_every_process_declares_free_text_or_code() -> None:
    assert undeclared_text_fields() == []


# The command line, as the direction and a landlord use it.


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SUIVI_DATABASE_URL", f"sqlite:///{tmp_path / 'suivi.db'}")
    key = tmp_path / "cle.pem"
    key.write_text(new_private_pem())
    monkeypatch.setenv("SUIVI_AUDIT_KEY_FILE", str(key))
    monkeypatch.delenv("SUIVI_AUDIT_KEY", raising=False)
    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    yield CliRunner()


def test_a_landlord_verifies_the_file_it_was_given_and_a_tampered_copy_fails(
    cli: CliRunner, tmp_path: Path
) -> None:
    ids = november(get_engine())
    out = tmp_path / "unicil-2026-11.json"

    made = cli.invoke(build(), [
        "audit", "export", "--landlord", "unicil", "--from", "2026-11-01", "--to", "2026-11-30",
        "--format", "json", "-o", str(out), "--actor", "dgls-1", "--now", "2026-12-01T06:00",
    ])
    assert made.exit_code == 0, made.output
    checked = cli.invoke(build(), ["audit", "verify-export", str(out)])
    assert checked.exit_code == 0, checked.output
    assert f"Export intègre : {out} (conforme à la base)" in " ".join(checked.stdout.split())

    out.write_bytes(out.read_bytes().replace(b'"outcome": "unsatisfactory"',
                                             b'"outcome": "satisfactory"'))
    tampered = cli.invoke(build(), ["audit", "verify-export", str(out)])
    assert tampered.exit_code == 1
    assert f"dossier C-{ids['chartreux']}, événement n° 3 : modifié" in tampered.stderr


def test_a_pdf_export_is_checked_against_its_signed_manifest(
    cli: CliRunner, tmp_path: Path
) -> None:
    november(get_engine())
    out = tmp_path / "unicil.pdf"
    made = cli.invoke(build(), [
        "audit", "export", "--landlord", "unicil", "--to", "2026-11-30", "--format", "pdf",
        "-o", str(out), "--actor", "dgls-1", "--now", "2026-12-01T06:00",
    ])
    assert made.exit_code == 0, made.output
    assert cli.invoke(build(), ["audit", "verify-export", str(out)]).exit_code == 0

    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    tampered = cli.invoke(build(), ["audit", "verify-export", str(out)])
    assert tampered.exit_code == 1
    assert "empreinte SHA-256 diffère" in tampered.stderr


def test_the_signing_key_and_an_export_are_owner_only_whatever_the_umask(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Issue 14, item 10: a landlord's export holds residents' histories, the key signs them."""
    november(get_engine())
    key, out = tmp_path / "cles" / "nouvelle.pem", tmp_path / "exports" / "unicil.json"
    key.parent.mkdir()
    previous = os.umask(0o022)
    try:
        assert cli.invoke(build(), ["audit", "keygen", str(key)]).exit_code == 0
        made = cli.invoke(build(), [
            "audit", "export", "--landlord", "unicil", "--to", "2026-11-30", "--format", "json",
            "-o", str(out), "--actor", "dgls-1", "--now", "2026-12-01T06:00",
        ])
    finally:
        os.umask(previous)
    assert made.exit_code == 0, made.output
    for path in (key, out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_landlords_own_script_verifies_without_suivi(
    engine: Engine, signer: Signer, tmp_path: Path
) -> None:
    import subprocess
    import sys

    november(engine)
    content, _ = export_unicil(engine, signer, "json")
    export_file, key_file = tmp_path / "export.json", tmp_path / "horizon.pem"
    export_file.write_bytes(content)
    key_file.write_text(signer.public_pem)
    script = Path(__file__).parent.parent / "docs" / "verify_export.py"

    def landlord_runs() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), str(export_file), str(key_file)],
                              capture_output=True, text=True, timeout=60)

    good = landlord_runs()
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("Export intègre : UNICIL, du 2026-11-01 au 2026-11-30")
    export_file.write_bytes(content.replace(b'"mode": "home"', b'"mode": "office"'))
    bad = landlord_runs()
    assert bad.returncode == 1
    assert "événement n° 2 : modifié" in bad.stdout


def test_the_report_a_landlords_officer_reads(
    engine: Engine, signer: Signer, tmp_path: Path
) -> None:
    """13 Habitat, November-December 2026: a case up to its second warning, one at its first
    visit. The first page is rendered to PNG (docs/audit-report.png is one such page)."""
    import shutil
    import subprocess

    from helpers import walk_to

    with session_scope(engine) as s:
        walk_to(s, "warning_2")
        walk_to(s, "visit_1", resident="r-0002")
    with session_scope(engine) as s:
        made = make_export(s, "13habitat", period(date(2026, 11, 1), date(2026, 12, 31),
                                                  now=at("2027-01-01 06:00")),
                           "pdf", now=at("2027-01-01 06:00"), actor_id="system",
                           signer=signer, render=render)
    words = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(made.content)).pages).split()
    )
    assert "du 1er novembre 2026 au 31 décembre 2026" in words
    for phrase in ("Synthèse", "visite(s) tenue(s)", "2e avertissement", "Enregistrer la visite",
                   "issue : insatisfaisante", "responsable de la gestion locative sociale"):
        assert phrase in words, phrase
    assert "Isolement" not in words and "Déchets accumulés" not in words  # typed by staff
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) absent: the page is not rendered to PNG")
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(made.content)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_staff_names_appear_only_when_the_organisation_allows_it(
    engine: Engine, signer: Signer
) -> None:
    from sqlalchemy import select

    from models.directory import Organisation

    november(engine)
    with session_scope(engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {**(org.settings or {}), "audit": {"export_actor_names": True}}

    _, export = export_unicil(engine, signer, "json")

    names = {e["actor_name"] for e in export["cases"][0]["events"]}
    assert names == {"Luc Bernard"}


def test_a_landlords_user_exports_its_own_landlord_only(engine: Engine, signer: Signer) -> None:
    from processes.errors import Forbidden, NotFound

    november(engine)
    with session_scope(engine) as s, pytest.raises(
        Forbidden, match="bailleur-13h ne peut exporter que la piste de son propre bailleur"
    ):
        make_export(s, "unicil", NOVEMBER, "json", now=at("2026-12-01 06:00"),
                    actor_id="bailleur-13h", signer=signer, render=render)
    with session_scope(engine) as s, pytest.raises(NotFound, match="inconnu"):
        make_export(s, "unicil", NOVEMBER, "json", now=at("2026-12-01 06:00"),
                    actor_id="quelqu-un", signer=signer, render=render)
    with session_scope(engine) as s:
        own = make_export(s, "13habitat", NOVEMBER, "json", now=at("2026-12-01 06:00"),
                          actor_id="bailleur-13h", signer=signer, render=render)
    assert own.export["manifest"]["counts"]["cases"] == 1


def test_a_new_process_forgetting_a_declaration_leaks_nothing() -> None:
    from processes.disclosure import FREE, STRUCTURED, UNDECLARED, field_kinds
    from processes.fields import Code, FreeText, Moment, OptionalText, Payload

    class Inspection(Payload):
        held_at: Moment
        room: Code
        remarks: str
        extra: dict[str, Any] = {}
        comment: OptionalText = None
        summary: FreeText = ""
        count: int = 0

    kinds = field_kinds(Inspection)

    assert kinds == {"held_at": STRUCTURED, "room": STRUCTURED, "remarks": UNDECLARED,
                     "extra": UNDECLARED, "comment": FREE, "summary": FREE, "count": STRUCTURED}
    exported = [name for name, kind in kinds.items() if kind == STRUCTURED]
    assert exported == ["held_at", "room", "count"]


def test_case_show_json_gives_each_events_chain_hash(cli: CliRunner) -> None:
    ids = november(get_engine())

    # A production database: the reader says who they are (issue 10's read policy).
    shown = cli.invoke(
        build(), ["case", "show", str(ids["chartreux"]), "--json", "--actor", "dgls-1"]
    )

    assert shown.exit_code == 0, shown.output
    history = json.loads(shown.stdout)["history"]
    assert len(history) == 4 and all(len(e["hash"]) == 64 for e in history)
    with get_engine().connect() as conn:
        head = conn.execute(text("SELECT last_hash FROM cases WHERE id = :c"),
                            {"c": ids["chartreux"]}).scalar()
    assert history[-1]["hash"] == head
