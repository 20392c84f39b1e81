"""The landlord portal, as UNICIL's and 13 Habitat's users use it on Tuesday 1 December 2026
at 17:00: their properties' cases (the Chartreux residence's for UNICIL, Viala's for
13 Habitat; never the CADA's asylum case), the November exports made that morning at 06:00,
and every read kept.

Staff asking for the portal get 404 (the page is not theirs), as for a case they may not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import at
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from web_client import client_for, give_password, log_in

from models.audit import AuditExport
from models.db import session_scope
from models.directory import Staff
from models.portal import LandlordRead
from notifications.audit_dispatch import monthly_exports
from processes import engine as wf
from processes.signing import new_private_pem, signer_from

MARKER = "MARQUEUR-portail-51c2"
TUESDAY_EVENING = at("2026-12-01 17:00")


def _tuesday_evening() -> datetime:
    return TUESDAY_EVENING


@pytest.fixture
def november(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """Two hygiene cases (staff's free text marked), an asylum case at UNICIL's CADA, a UNICIL
    user, and the November exports of both landlords written under tmp/exports."""
    monkeypatch.setenv("SUIVI_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("SUIVI_CONSOLE_LOG", str(tmp_path / "console.log"))
    with session_scope(sqlite_engine) as s:
        s.add(Staff(id="bailleur-unicil", name="Contact UNICIL", role="landlord",
                    landlord_id="unicil"))

        def hygiene(resident: str, actor: str, day: int) -> int:
            case_id = wf.open_case(
                s, "hygiene", resident_id=resident, actor_id=actor,
                now=at(f"2026-11-{day:02d} 09:00"),
                payload={"observed_at": f"2026-11-{day:02d}T08:30",
                         "description": f"{MARKER} déchets"},
            ).id
            wf.fire(s, case_id, "schedule_visit", actor_id=actor,
                    now=at(f"2026-11-{day + 1:02d} 09:00"),
                    payload={"visit_at": f"2026-11-{day + 7:02d}T10:00", "mode": "home"})
            wf.fire(s, case_id, "record_visit", actor_id=actor,
                    now=at(f"2026-11-{day + 7:02d} 17:00"),
                    payload={"held_at": f"2026-11-{day + 7:02d}T10:00",
                             "outcome": "unsatisfactory", "obstacles": f"{MARKER} santé",
                             "notes": f"{MARKER} voisins", "cleaning_kit": True})
            return case_id

        chartreux = hygiene("r-0003", "gs-chartreux", 2)
        viala = hygiene("r-0001", "gs-viala", 3)
        asylum = wf.open_case(
            s, "asylum", resident_id="r-0004", actor_id="juriste-cada", now=at("2026-11-04 10:00"),
            payload={"procedure": "normal", "registered_at": "2026-11-04",
                     "attestation_issued_at": "2026-11-04"},
        ).id
    signer = signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})
    monthly_exports(sqlite_engine, signer, now=at("2026-12-01 06:00"))
    with session_scope(sqlite_engine) as s:
        exports = {(e.landlord_id, e.format): e.id for e in s.scalars(select(AuditExport))}
    for user in ("bailleur-unicil", "bailleur-13h", "gs-viala"):
        give_password(sqlite_engine, user)
    return {"chartreux": chartreux, "viala": viala, "asylum": asylum, "exports": exports,
            "folder": tmp_path / "exports"}


def _logged_in(engine: Engine, staff_id: str) -> TestClient:
    client = client_for(engine, _tuesday_evening)
    assert log_in(client, staff_id).status_code == 303
    return client


@pytest.fixture
def unicil(sqlite_engine: Engine, november: dict[str, Any]) -> Iterator[TestClient]:
    yield _logged_in(sqlite_engine, "bailleur-unicil")


def reads(engine: Engine) -> list[tuple[str, str, str | None, int | None, int | None]]:
    with session_scope(engine) as s:
        return [
            (r.staff_id, r.what, r.landlord_id, r.case_id, r.export_id)
            for r in s.scalars(select(LandlordRead).order_by(LandlordRead.id))
        ]


def test_unicils_user_lands_on_its_portal_with_the_chartreux_case_only_in_french(
    unicil: TestClient, november: dict[str, Any]
) -> None:
    home = unicil.get("/")
    assert (home.status_code, home.headers["location"]) == (303, "/bailleur")

    page = unicil.get("/bailleur")

    assert page.status_code == 200
    text = page.text
    assert "Portail bailleur · UNICIL" in text
    assert f'<a href="/cases/{november["chartreux"]}">C-{november["chartreux"]}</a>' in text
    assert "Amélioration de l'entretien du logement" in text  # the process, in French
    assert "2e visite" in text  # the state in French, never `visit_2`
    assert "Résidence Les Chartreux" in text and "Logement 12" in text
    assert "02/11/2026 09:00" in text  # opened on Monday 2 November at 09:00, Paris time
    for absent in (f"/cases/{november['viala']}\"", f"/cases/{november['asylum']}\"",
                   "CADA", "Pierre Moreau", "Famille Haddad", MARKER, "visit_2"):
        assert absent not in text
    assert "Exports mensuels" in text and "novembre 2026" in text
    json_id, pdf_id = november["exports"]["unicil", "json"], november["exports"]["unicil", "pdf"]
    assert f'href="/bailleur/exports/{json_id}"' in text
    assert f'href="/bailleur/exports/{pdf_id}/manifest"' in text
    assert f'href="/bailleur/exports/{november["exports"]["13habitat", "json"]}"' not in text


def test_13_habitats_user_sees_viala_and_not_unicils_case(
    sqlite_engine: Engine, november: dict[str, Any]
) -> None:
    client = _logged_in(sqlite_engine, "bailleur-13h")

    text = client.get("/bailleur").text

    assert f'href="/cases/{november["viala"]}"' in text
    assert f'href="/cases/{november["chartreux"]}"' not in text
    assert client.get(f"/cases/{november['chartreux']}").status_code == 404
    assert client.get(f"/cases/{november['asylum']}").status_code == 404


def test_no_word_staff_typed_reaches_the_portal_the_timeline_or_the_api(
    unicil: TestClient, november: dict[str, Any]
) -> None:
    case_id = november["chartreux"]
    timeline = unicil.get(f"/cases/{case_id}")
    assert timeline.status_code == 200
    assert "insatisfaisante" in timeline.text  # the visit's outcome, a structured fact
    assert "Pierre Moreau" not in unicil.get("/bailleur").text
    assert "/letters/" not in timeline.text and 'class="fire"' not in timeline.text
    for answer in (unicil.get("/bailleur"), timeline, unicil.get("/cases"),
                   unicil.get("/api/cases"), unicil.get(f"/api/cases/{case_id}")):
        assert answer.status_code == 200
        assert MARKER not in answer.text


def test_the_november_files_download_as_the_monthly_flow_wrote_them(
    unicil: TestClient, november: dict[str, Any]
) -> None:
    folder: Path = november["folder"]
    json_file = unicil.get(f"/bailleur/exports/{november['exports']['unicil', 'json']}")
    pdf_file = unicil.get(f"/bailleur/exports/{november['exports']['unicil', 'pdf']}")
    pdf_manifest = unicil.get(f"/bailleur/exports/{november['exports']['unicil', 'pdf']}/manifest")

    assert json_file.status_code == 200
    assert json_file.headers["content-type"] == "application/json"
    assert json_file.content == (folder / "unicil" / "2026-11.json").read_bytes()
    assert 'filename="unicil-2026-11.json"' in json_file.headers["content-disposition"]
    assert pdf_file.headers["content-type"] == "application/pdf"
    assert pdf_file.content == (folder / "unicil" / "2026-11.pdf").read_bytes()
    assert pdf_manifest.content == (folder / "unicil" / "2026-11.pdf.manifest.json").read_bytes()
    for text in (json_file.text, pdf_manifest.text):
        assert MARKER not in text


def test_another_landlords_export_and_traversal_attempts_answer_404(
    sqlite_engine: Engine, unicil: TestClient, november: dict[str, Any]
) -> None:
    theirs = november["exports"]["13habitat", "json"]
    # An export row of UNICIL's pointed at 13 Habitat's file (a path edited in the database).
    with session_scope(sqlite_engine) as s:
        mine = s.get(AuditExport, november["exports"]["unicil", "json"])
        assert mine is not None
        mine.path = str(november["folder"] / "unicil" / ".." / "13habitat" / "2026-11.json")
        edited = mine.id

    for url in (
        f"/bailleur/exports/{theirs}",
        f"/bailleur/exports/{theirs}/manifest",
        f"/bailleur/exports/{edited}",
        "/bailleur/exports/..%2F13habitat%2F2026-11.json",
        "/bailleur/exports/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/bailleur/exports/999999",
    ):
        answer = unicil.get(url)
        assert answer.status_code == 404, url
        assert "export inconnu" in answer.text or "Page" in answer.text, url
        assert b"13 Habitat" not in answer.content
    assert [r for r in reads(sqlite_engine) if r[1] == "export"] == []


def test_each_read_by_a_landlords_user_leaves_a_row_and_staff_reads_none(
    sqlite_engine: Engine, unicil: TestClient, november: dict[str, Any]
) -> None:
    case_id, json_id = november["chartreux"], november["exports"]["unicil", "json"]
    unicil.get("/bailleur")
    unicil.get(f"/cases/{case_id}")
    unicil.get(f"/bailleur/exports/{json_id}")
    unicil.get(f"/api/cases/{case_id}")
    staff = _logged_in(sqlite_engine, "gs-viala")
    assert staff.get(f"/cases/{november['viala']}").status_code == 200

    assert reads(sqlite_engine) == [
        ("bailleur-unicil", "portail", "unicil", None, None),
        ("bailleur-unicil", "dossier", "unicil", case_id, None),
        ("bailleur-unicil", "export", "unicil", None, json_id),
        ("bailleur-unicil", "api", "unicil", case_id, None),
    ]
    with session_scope(sqlite_engine) as s:
        first = s.scalars(select(LandlordRead).order_by(LandlordRead.id)).first()
        assert first is not None
        assert (first.at, first.target) == (TUESDAY_EVENING, "/bailleur")


def test_staff_asking_for_the_portal_get_404(
    sqlite_engine: Engine, november: dict[str, Any]
) -> None:
    staff = _logged_in(sqlite_engine, "gs-viala")

    portal = staff.get("/bailleur")
    download = staff.get(f"/bailleur/exports/{november['exports']['13habitat', 'json']}")

    assert portal.status_code == 404
    assert "réservé aux utilisateurs d'un bailleur" in portal.text
    assert download.status_code == 404
    assert staff.get("/").status_code == 200  # their agenda, as before
    assert reads(sqlite_engine) == []
