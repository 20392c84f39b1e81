"""Warning letters and formal notices, generated from the case and read back from the PDF."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from conftest import at
from hygiene_walk import evaluate, hold_visit, report_breach, to_first_warning
from pypdf import PdfReader
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from stand_in_processes import VERSION, stand_in_versions
from typer.testing import CliRunner

from models.db import session_scope
from models.directory import Organisation
from notifications.letters import LetterRefused, letter_for
from processes import engine as suivi_engine
from processes.errors import NotFound
from suivi.commands import case as case_commands
from suivi.commands import letter as letter_commands


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    # Table cells and justified lines come back with their own spacing; compare words.
    return re.sub(r"\s+", " ", text)


def test_first_warning_states_the_visits_and_the_evaluation_date(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case = report_breach(s, "r-0001", "2026-09-14")
        hold_visit(s, case, "2026-09-14", obstacles="Douleurs au dos",
                   actions="Aide ménagère proposée", cleaning_kit="true")
        hold_visit(s, case, "2026-09-21")
        case = hold_visit(s, case, "2026-09-28")
        letter = letter_for(s, case.id, "hygiene_warning_1", now=at("2026-09-29 09:00"))
        text = pdf_text(letter.pdf())

    assert "Association Horizon (tests)" in text
    assert "12 rue des Tests, 13004 Marseille" in text
    assert "Marseille, le 29 septembre 2026" in text
    assert "Jean Dupont" in text
    assert "Logement 214" in text and "Résidence Viala Anjou" in text
    assert "Objet : 1er avertissement" in text
    assert "Le 14 septembre 2026, nos services ont constaté" in text
    for day in ("14 septembre 2026", "21 septembre 2026", "28 septembre 2026"):
        assert day in text
    assert "Douleurs au dos" in text and "Aide ménagère proposée" in text
    assert "Kit d'entretien remis" in text
    assert "insatisfaisante" in text
    assert "premier avertissement, à compter du 28 septembre 2026" in text
    # 30 days after the warning began.
    assert "au plus tard le 28 octobre 2026" in text
    assert "C-" in text


def test_second_warning_recalls_the_first_and_its_failed_evaluation(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = to_first_warning(s, "r-0002", ["2026-09-07", "2026-09-14", "2026-09-21"])
        case = evaluate(s, case, "2026-10-02 15:00")
        letter = letter_for(s, case.id, "hygiene_warning_2", now=at("2026-10-05 09:00"))
    html = letter.html
    assert "Fatima Benali" in html and "Logement 215" in html
    text = pdf_text(letter.pdf())
    assert "Objet : 2e avertissement" in text
    assert "Un premier avertissement vous a été adressé le 21 septembre 2026" in text
    assert "L'évaluation du 2 octobre 2026 a été jugée insatisfaisante" in text
    assert "second avertissement, à compter du 2 octobre 2026" in text
    assert "au plus tard le 1er novembre 2026" in text
    assert "La direction de la gestion locative sociale" in text


def test_a_letter_that_does_not_fit_the_state_is_refused(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = report_breach(s, "r-0001", "2026-09-14")
        case = hold_visit(s, case, "2026-09-14")
        with pytest.raises(LetterRefused) as refused:
            letter_for(s, case.id, "hygiene_warning_1", now=at("2026-09-15 09:00"))
        assert "à l'état « warning_1 »" in refused.value.message
        assert "à l'état « visit_2 »" in refused.value.message
        with pytest.raises(LetterRefused, match="dossier « arrears »"):
            letter_for(s, case.id, "arrears_formal_notice", now=at("2026-09-15 09:00"))
        with pytest.raises(NotFound, match="hygiene_warning_1, hygiene_warning_2"):
            letter_for(s, case.id, "eviction_letter", now=at("2026-09-15 09:00"))


def test_html_escapes_what_staff_typed(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case = to_first_warning(s, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"])
        hold = case.data["visits"][0]
        assert hold["obstacles"]
        case.data = {**case.data, "visits": [{**hold, "obstacles": "<b>x</b>"}]}
        html = letter_for(s, case.id, "hygiene_warning_1", now=at("2026-09-29 09:00")).html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_command_line_writes_the_pdf_and_refuses_a_letter_out_of_place(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    with session_scope(sqlite_engine) as s:
        warned = to_first_warning(s, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"])
        visiting = report_breach(s, "r-0002", "2026-09-14")
    app = typer.Typer()
    for module in (case_commands, letter_commands):
        module.register(app)
    runner = CliRunner()

    pdf = tmp_path / "avertissement.pdf"
    done = runner.invoke(app, ["case", "letter", f"C-{warned.id}", "hygiene_warning_1",
                               "-o", str(pdf), "--now", "2026-09-29T09:00"])
    assert done.exit_code == 0, done.output
    assert "Jean Dupont" in pdf_text(pdf.read_bytes())

    html = tmp_path / "avertissement.html"
    done = runner.invoke(app, ["case", "letter", str(warned.id), "hygiene_warning_1",
                               "-o", str(html), "--now", "2026-09-29T09:00"])
    assert done.exit_code == 0, done.output
    assert "au plus tard le 28 octobre 2026" in html.read_text(encoding="utf-8")

    refused = runner.invoke(app, ["case", "letter", str(visiting.id), "hygiene_warning_1",
                                  "-o", str(tmp_path / "non.pdf")])
    assert refused.exit_code == 2
    assert "il faut un dossier « hygiene » à l'état « warning_1 »" in refused.stderr
    assert not (tmp_path / "non.pdf").exists()


# --- Formal notices, on stand-in arrears/insurance versions (see stand_in_processes.py).


def _notice(s: Session, process: str, **opening: str) -> int:
    case = suivi_engine.open_case(s, process, resident_id="r-0003", actor_id="gs-chartreux",
                            payload=opening, now=at("2026-10-01 09:00"), version=VERSION)
    suivi_engine.fire(s, case.id, "send_formal_notice", payload={}, actor_id="rgls-sud",
                now=at("2026-10-15 09:00"))
    return case.id


def test_arrears_formal_notice_states_the_debt_and_the_deadline(
    sqlite_engine: Engine, stand_ins: None
) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = _notice(s, "arrears", balance="1234.5", monthly_amount="410")
        text = pdf_text(letter_for(s, case_id, "arrears_formal_notice",
                                   now=at("2026-10-15 10:00")).pdf())
    assert "Pierre Moreau" in text and "Logement 12" in text and "Résidence Les Chartreux" in text
    assert "Objet : Mise en demeure de payer" in text
    assert "L'impayé a été constaté le 1er octobre 2026" in text
    assert "votre dette s'élève à 1 234,50 €" in text
    assert "410,00 €" in text and "15 septembre 2026 100,00 €" in text
    assert "15 octobre 2026 : mise en demeure" in text
    assert "au plus tard le 15 novembre 2026" in text


def test_insurance_formal_notice_states_the_expired_certificate(
    sqlite_engine: Engine, stand_ins: None
) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = _notice(s, "insurance", insurer="MAIF", valid_until="2026-09-30")
        with pytest.raises(LetterRefused, match="dossier « arrears »"):
            letter_for(s, case_id, "arrears_formal_notice", now=at("2026-10-15 10:00"))
        text = pdf_text(letter_for(s, case_id, "insurance_formal_notice",
                                   now=at("2026-10-15 10:00")).pdf())
    assert "Pierre Moreau" in text
    assert "Votre dernière attestation (MAIF) était valable jusqu'au 30 septembre 2026" in text
    assert "au plus tard le 15 novembre 2026" in text


@pytest.fixture
def stand_ins() -> Iterator[None]:
    with stand_in_versions():
        yield


def test_arrears_formal_notice_from_the_real_arrears_process(sqlite_engine: Engine) -> None:
    pytest.importorskip("processes.arrears")
    with session_scope(sqlite_engine) as s:
        case = suivi_engine.open_case(
            s, "arrears", resident_id="r-0001", actor_id="gs-viala",
            payload={"monthly_amount": "410", "unpaid_months": ["2026-08", "2026-09"]},
            now=at("2026-10-01 09:00"))
        suivi_engine.fire(s, case.id, "record_payment", actor_id="gs-viala",
                          now=at("2026-10-02 09:00"),
                          payload={"amount": "100", "paid_at": "2026-10-02T08:30"})
        suivi_engine.fire(s, case.id, "send_reminder", actor_id="gs-viala",
                          now=at("2026-10-05 09:00"), payload={"sent_at": "2026-10-05T09:00"})
        suivi_engine.fire(s, case.id, "send_formal_notice", actor_id="rgls-sud",
                          now=at("2026-10-20 09:00"), payload={"sent_at": "2026-10-20T09:00"})
        text = pdf_text(letter_for(s, case.id, "arrears_formal_notice",
                                   now=at("2026-10-20 10:00")).pdf())
    assert "Jean Dupont" in text
    assert "L'impayé a été constaté le 1er octobre 2026" in text
    assert "votre dette s'élève à 720,00 €" in text and "410,00 €" in text
    assert "août 2026, septembre 2026" in text
    assert "2 octobre 2026 100,00 €" in text
    assert "20 octobre 2026 : mise en demeure" in text
    # One month, moved to the next working day: 20 November 2026 is a Friday.
    assert "au plus tard le 20 novembre 2026" in text


def test_insurance_formal_notice_from_the_real_insurance_process(sqlite_engine: Engine) -> None:
    pytest.importorskip("processes.insurance")
    with session_scope(sqlite_engine) as s:
        case = suivi_engine.open_case(
            s, "insurance", resident_id="r-0001", actor_id="gs-viala",
            payload={"valid_until": "2026-09-30", "insurer": "MAIF", "policy_number": "H-77"},
            now=at("2026-09-01 09:00"))
        suivi_engine.fire(s, case.id, "certificate_expired", actor_id="gs-viala",
                          now=at("2026-10-01 09:00"), payload={})
        suivi_engine.fire(s, case.id, "send_formal_notice", actor_id="rgls-sud",
                          now=at("2026-10-12 09:00"), payload={"sent_at": "2026-10-12T09:00"})
        text = pdf_text(letter_for(s, case.id, "insurance_formal_notice",
                                   now=at("2026-10-12 10:00")).pdf())
    assert "Jean Dupont" in text
    assert "(MAIF, contrat n° H-77) était valable jusqu'au 30 septembre 2026" in text
    assert "12 octobre 2026 : mise en demeure" in text
    assert "au plus tard le 12 novembre 2026" in text


# --- A French formal letter (issue 13) ---------------------------------------------------------


def _fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        fonts = page["/Resources"].get("/Font") or {}
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
    return names


def test_a_formal_notice_reads_as_a_french_letter_signed_by_a_named_person(
    sqlite_engine: Engine,
) -> None:
    with session_scope(sqlite_engine) as s:
        org = s.scalars(select(Organisation)).one()
        org.settings = {**(org.settings or {}), "letters": {"signatories": {
            "default": {"name": "Olivier Garnier",
                        "title": "Responsable de la gestion locative sociale"},
        }}}
        case = suivi_engine.open_case(
            s, "arrears", resident_id="r-0001", actor_id="gs-viala",
            payload={"monthly_amount": "410", "unpaid_months": ["2026-08", "2026-09"]},
            now=at("2026-10-01 09:00"))
        suivi_engine.fire(s, case.id, "send_reminder", actor_id="gs-viala",
                          now=at("2026-10-05 09:00"), payload={"sent_at": "2026-10-05T09:00"})
        suivi_engine.fire(s, case.id, "record_interview", actor_id="gs-viala",
                          now=at("2026-10-09 11:00"), payload={"held_at": "2026-10-09T10:00"})
        suivi_engine.fire(s, case.id, "send_formal_notice", actor_id="rgls-sud",
                          now=at("2026-10-20 09:00"), payload={"sent_at": "2026-10-20T09:00"})
        letter = letter_for(s, case.id, "arrears_formal_notice", now=at("2026-10-20 10:00"))
        pdf = letter.pdf()
    text = pdf_text(pdf)
    assert "Madame, Monsieur," in text
    assert re.search(
        r"Responsable de la gestion locative sociale Olivier Garnier Association", text
    )
    # The staff's own action labels never reach the resident; the resident's words do.
    assert "5 octobre 2026 : relance amiable" in text
    assert "9 octobre 2026 : entretien avec votre gestionnaire social(e)" in text
    for internal in ("Relance amiable envoyée", "Enregistrer", "Mise en demeure envoyée"):
        assert internal not in text
    # The decisive paragraph sits with the closing formula and the signature, kept together.
    closing = letter.html.split('<div class="closing">', 1)[1]
    assert closing.index("mettons en demeure") < closing.index("Veuillez agréer")
    assert "page-break-inside: avoid" in letter.html
    # One font family in the whole PDF, page footers included.
    assert _fonts(pdf) and all(name.startswith("DejaVu-Sans") for name in _fonts(pdf))


def test_without_a_signatory_setting_the_service_signs(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as s:
        case = to_first_warning(s, "r-0001", ["2026-09-14", "2026-09-21", "2026-09-28"])
        html = letter_for(s, case.id, "hygiene_warning_1", now=at("2026-09-29 10:00")).html
    assert "Le service de la gestion locative sociale" in html
    assert '<div class="room"></div>' in html
