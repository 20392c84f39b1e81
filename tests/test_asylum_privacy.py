"""What must never leak (asylum.md; GDPR art. 9), and impossible dates refused with nothing
written: asylum notifications carry the case reference, the kind of deadline and its date."""

from __future__ import annotations

import pytest
from conftest import at
from helpers import writes_nothing
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_asylum_walk import HOUSEHOLD, JURISTE, SOCIAL_WORKER, fire, open_claim, pending

from models.cases import Case, Notification
from models.db import session_scope
from notifications.compose import message_of
from notifications.render import TEMPLATES, render
from processes import engine as wf
from processes.errors import Forbidden, Refusal
from processes.sweep import sweep_due_clocks

# The resident, the dwelling, the member state, and words that tell the procedure or outcome.
SENSITIVE = (
    "Haddad",
    "Famille",
    "Appartement",
    "Italie",
    "Dublin",
    "OFPRA",
    "CNDA",
    "asile",
    "asylum",
    "réfugié",
    "refugee",
    "subsidia",
    "rejet",
    "reject",
    "procédure",
    "procedure",
    "accélér",
    "accelerat",
    "normal",
    "syrien",
    "Syrian",
)


def leaks(text: str) -> list[str]:
    return [word for word in SENSITIVE if word.lower() in text.lower()]


def test_no_template_tells_more_than_the_reference_the_kind_and_the_date() -> None:
    kinds = sorted(p.stem for p in (TEMPLATES / "fr").glob("asylum_*.j2"))
    assert len(kinds) == 18
    assert kinds == sorted(p.stem for p in (TEMPLATES / "en").glob("asylum_*.j2"))
    data = (
        {
            key: "2027-04-22T09:30:00+00:00" if key.endswith("_at") else "2027-04-22"
            for key in ("interview_at", "hearing_at", "exit_at")
        }
        | {
            f"{k}_due": "2027-04-22"
            for k in (
                "ofpra",
                "ofpra_decision",
                "documents",
                "reopening",
                "appeal",
                "legal_aid",
                "cnda_decision",
                "stay",
                "transfer",
                "dublin_appeal",
                "attestation",
                "care_end",
                "ofpra_warning",
            )
        }
        | {"member_state": "Italie", "nationality": "syrien", "procedure": "dublin"}
    )
    context = {
        "case_ref": "C-7",
        "link": "https://suivi.example.org/cases/7",
        "resident": "Famille Haddad",
        "dwelling": "Appartement 3",
        "site": "CADA Marseille",
        "data": data,
        "process_label": "Procédure d'asile",
        "state_label": "Procédure Dublin, transfert",
        "state_label_en": "Dublin procedure",
        "recipient": "Inès Caron",
        "fmt": lambda v: "22/04/2027 11:30",
        "clock_kind": "escalation",
    }
    for kind in kinds:
        for language in ("fr", "en"):
            for privacy in ("full", "minimal"):
                subject, body = render(kind, language, context, privacy=privacy)
                assert leaks(subject + body) == [], (kind, language, privacy)
                assert subject.startswith("[C-7] ") and "22/04/2027" in body
                assert "C-7" in body and context["link"] in body


def test_no_asylum_notification_names_the_household_or_its_procedure(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = open_claim(s, "2026-12-01 10:00", procedure="dublin")
        fire(
            s,
            case,
            "start_dublin",
            JURISTE,
            "2026-12-10 10:00",
            accepted_at="2026-12-10",
            member_state="Italie",
            transfer_decision_notified_at="2026-12-10",
        )
        dublin_id = case.id
        other = open_claim(s, "2027-01-04 10:00", procedure="accelerated")
        fire(s, other, "lodge_ofpra", JURISTE, "2027-01-06 10:00", filed_at="2027-01-06")
        fire(
            s,
            other,
            "record_decision",
            SOCIAL_WORKER,
            "2027-01-20 10:00",
            notified_at="2027-01-20",
            outcome="rejection",
        )
        fire(
            s, other, "request_legal_aid", JURISTE, "2027-02-10 10:00", requested_at="2027-02-10"
        )  # late: the juriste is told at once
    for month in ("2027-01-15", "2027-02-20", "2027-03-01", "2027-06-11", "2027-07-01"):
        sweep_due_clocks(engine, at(f"{month} 09:00"))
    with session_scope(engine) as s:
        rows = s.scalars(select(Notification)).all()
        kinds = {n.kind for n in rows}
        assert {
            "asylum_transfer",
            "asylum_appeal",
            "asylum_appeal_unchanged",
            "asylum_attestation",
            "asylum_legal_aid",
        } <= kinds
        for row in rows:
            subject, body = message_of(s, row)
            assert leaks(subject + body) == [], (row.kind, subject, body)
        assert s.get(Case, dublin_id).state == "registered"  # type: ignore[union-attr]


def test_a_decision_notified_before_the_file_was_lodged_is_refused(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = open_claim(s, "2027-01-04 10:00")
        fire(s, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
        case_id = case.id
    with (
        writes_nothing(engine, case_id),
        session_scope(engine) as s,
        pytest.raises(Refusal) as refused,
    ):
        wf.fire(
            s,
            case_id,
            "record_decision",
            actor_id=SOCIAL_WORKER,
            now=at("2027-03-01"),
            payload={"notified_at": "2027-01-15", "outcome": "rejection"},
        )
    assert str(refused.value) == (
        f"dossier C-{case_id} (état « Dossier OFPRA introduit ») : la décision ne peut pas être "
        "notifiée le 15/01/2027, avant l'introduction du dossier à l'OFPRA le 20/01/2027. "
        "Déclencheurs permis ici : Décision OFPRA notifiée (record_decision), Avertissement de "
        "l'OFPRA : décision au-delà de 6 mois (record_ofpra_delay_notice), Attestation "
        "renouvelée (renew_attestation), Entretien OFPRA convoqué (schedule_interview)"
    )


def test_a_decision_needs_its_consultation_or_posting_date(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    with pytest.raises(Refusal, match="notified_at .première consultation. ou posted_at"):
        fire(
            session, case, "record_decision", SOCIAL_WORKER, "2027-03-01 10:00", outcome="rejection"
        )


def test_asylum_is_refused_outside_a_cada_and_only_the_juriste_closes(session: Session) -> None:
    with pytest.raises(Refusal, match="ne s'applique pas au site « viala » .residence."):
        wf.open_case(
            session,
            "asylum",
            resident_id="r-0001",
            actor_id="juriste-cada",
            now=at("2027-01-04 10:00"),
            payload={
                "procedure": "normal",
                "registered_at": "2027-01-04",
                "attestation_issued_at": "2027-01-04",
            },
        )
    case = open_claim(session, "2027-01-04 10:00")
    assert case.resident_id == HOUSEHOLD
    with pytest.raises(Forbidden, match="rôles permis : juriste, cada_manager"):
        fire(session, case, "withdraw", SOCIAL_WORKER, "2027-01-05 10:00", reason="erreur")
    fire(session, case, "withdraw", JURISTE, "2027-01-05 10:00", reason="ouvert par erreur")
    assert case.state == "withdrawn" and pending(session, case) == {}
