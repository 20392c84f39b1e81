"""Missing home insurance (insurance.md): the first certificate recorded, the `expiring` case
opened 30 days before expiry (not 31) and only once, the expiry moving it to `missing` by
its clock, the clocks' due dates, and a new certificate closing it as insured."""

from __future__ import annotations

import pytest
from conftest import at
from helpers import history, pending_clocks
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from models.db import session_scope
from processes import engine as wf
from processes.errors import Refusal
from processes.insurance import open_expiring_insurance, record_first_certificate

GS, RGLS, DGLS = "gs-viala", "rgls-sud", "dgls-1"
CERTIFICATE = {"insurer": "MAIF", "policy_number": "HAB-123", "valid_until": "2027-01-15"}


def insurance_cases(s: Session, resident: str = "r-0001") -> list[Case]:
    return list(
        s.scalars(
            select(Case)
            .where(Case.process == "insurance", Case.resident_id == resident)
            .order_by(Case.id)
        )
    )


def first_certificate(s: Session) -> Case:
    return record_first_certificate(
        s, "r-0001", actor_id=GS, certificate=CERTIFICATE, now=at("2026-01-16 10:00")
    )


def test_the_first_certificate_is_an_insured_case_keeping_its_expiry(session: Session) -> None:
    case = first_certificate(session)
    assert case.state == "insured"
    assert case.closed_at is not None
    assert case.data["valid_until"] == "2027-01-15"
    assert case.data["insurer"] == "MAIF"


def test_the_sweep_opens_the_case_30_days_before_expiry_not_31_and_only_once(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        first_certificate(s)
        assert open_expiring_insurance(s, at("2026-12-15 23:59")) == 0  # 31 days before
        assert open_expiring_insurance(s, at("2026-12-16 00:01")) == 1  # 30 days before
        assert open_expiring_insurance(s, at("2026-12-16 06:00")) == 0
        cases = insurance_cases(s)
        assert [c.state for c in cases] == ["insured", "expiring"]
        expiring = cases[-1]
        assert [h[1:] for h in history(s, expiring.id)] == [
            ("open", None, "expiring", "system", "system")
        ]
        assert expiring.data["valid_until"] == "2027-01-15"
        # The certificate lapses at midnight after its last valid day, Paris time.
        assert pending_clocks(s, expiring.id) == {"certificate_expiry": at("2027-01-16 00:00")}


def test_a_new_certificate_closes_the_case_as_insured_and_plans_the_next_year(
    session: Session,
) -> None:
    first_certificate(session)
    open_expiring_insurance(session, at("2026-12-20 08:00"))
    case = insurance_cases(session)[-1]
    renewed = {"insurer": "MACIF", "policy_number": "H-9", "valid_until": "2028-01-15"}
    wf.fire(
        session,
        case.id,
        "record_certificate",
        payload=renewed,
        actor_id=GS,
        now=at("2027-01-05 10:00"),
    )
    assert case.state == "insured"
    assert case.data["valid_until"] == "2028-01-15"
    assert case.data["previous_certificate"]["insurer"] == "MAIF"
    assert pending_clocks(session, case.id) == {}
    assert open_expiring_insurance(session, at("2027-01-20 08:00")) == 0
    assert open_expiring_insurance(session, at("2027-12-16 08:00")) == 1


def test_an_expired_certificate_moves_the_case_to_missing_then_to_formal_notice(
    session: Session,
) -> None:
    first_certificate(session)
    open_expiring_insurance(session, at("2026-12-20 08:00"))
    case = insurance_cases(session)[-1]
    expiry = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.status == "pending")
    ).one()
    wf.fire_clock(session, expiry, at("2027-01-16 00:00"))
    assert case.state == "missing"
    # Saturday 16 January: 5 working days later is Friday 22 January, same time of day.
    assert pending_clocks(session, case.id) == {"contact_resident": at("2027-01-22 00:00")}
    wf.fire(
        session,
        case.id,
        "record_contact",
        payload={"contacted_at": "2027-01-18T10:00"},
        actor_id=GS,
        now=at("2027-01-18 11:00"),
    )
    wf.fire(
        session,
        case.id,
        "send_formal_notice",
        payload={"sent_at": "2027-01-25T09:00"},
        actor_id=RGLS,
        now=at("2027-01-25 10:00"),
    )
    assert case.state == "formal_notice"
    assert pending_clocks(session, case.id) == {"notice_expired": at("2027-02-25 10:00")}
    wf.fire(
        session,
        case.id,
        "request_termination",
        payload={},
        actor_id=RGLS,
        now=at("2027-02-26 10:00"),
    )
    assert pending_clocks(session, case.id) == {"termination_decision": at("2027-03-12 10:00")}
    wf.fire(
        session,
        case.id,
        "decide_termination",
        payload={"decided_at": "2027-03-01T09:00", "grounds": "défaut d'assurance"},
        actor_id=DGLS,
        now=at("2027-03-01 10:00"),
    )
    assert case.state == "terminated"
    assert open_expiring_insurance(session, at("2027-03-02 08:00")) == 0


def test_a_certificate_from_any_open_state_closes_the_case(session: Session) -> None:
    case = wf.open_case(
        session,
        "insurance",
        resident_id="r-0002",
        actor_id=GS,
        payload={},
        now=at("2026-11-23 10:00"),
    )
    wf.fire(
        session, case.id, "certificate_expired", payload={}, actor_id=GS, now=at("2026-11-23 10:05")
    )
    wf.fire(
        session,
        case.id,
        "record_certificate",
        payload=CERTIFICATE,
        actor_id=GS,
        now=at("2026-11-24 10:00"),
    )
    assert case.state == "insured"
    assert case.data["policy_number"] == "HAB-123"


def test_every_arrears_and_insurance_message_renders_short_without_details() -> None:
    from pathlib import Path

    from notifications.render import render

    context = {
        "case_ref": "C-7",
        "recipient": "Sophie Martin",
        "process_label": "Impayés",
        "process_label_en": "Unpaid rent",
        "resident": "Jean Dupont",
        "dwelling": "Logement 214",
        "site": "Viala",
        "state_label": "Mise en demeure",
        "state_label_en": "Formal notice",
        "due_at": "25/02/2027 10:00",
        "link": "https://suivi.example/cases/7",
        "clock_label": "",
        "data": {"balance": "900.00"},
    }
    kinds = sorted(
        p.stem
        for p in Path("notifications/templates/fr").glob("*.j2")
        if p.stem.startswith(("arrears_", "insurance_"))
    )
    assert len(kinds) == 11
    for kind in kinds:
        for language in ("fr", "en"):
            subject, body = render(kind, language, context, privacy="full")
            assert subject.startswith("[C-7] ") and "Jean Dupont" in body
            _, short = render(kind, language, context, privacy="minimal")
            assert "C-7" in short and "25/02/2027" in short and context["link"] in short
            assert "Jean Dupont" not in short and "900" not in short


def test_the_sweep_opens_the_renewal_then_finds_the_certificate_missing(
    sqlite_engine: Engine,
) -> None:
    from processes.sweep import sweep_due_clocks

    with session_scope(sqlite_engine) as s:
        first_certificate(s)
    assert sweep_due_clocks(sqlite_engine, at("2026-12-16 06:00")).insurance_opened == 1
    assert sweep_due_clocks(sqlite_engine, at("2026-12-16 07:00")).insurance_opened == 0
    sweep_due_clocks(sqlite_engine, at("2027-01-16 00:00"))
    with session_scope(sqlite_engine) as s:
        assert [c.state for c in insurance_cases(s)] == ["insured", "missing"]



def notices(s: Session, case_id: int) -> list[tuple[str | None, str, str]]:
    from models.cases import Notification

    rows = s.scalars(select(Notification).where(Notification.case_id == case_id))
    return [(r.recipient_role, r.kind, r.channel_url) for r in rows]


def test_a_first_certificate_notifies_nobody(session: Session) -> None:
    assert notices(session, first_certificate(session).id) == []


@pytest.mark.parametrize("gateway", [None, "mailto://sms.local/?to={email}"])
def test_the_resident_is_told_in_their_own_words_only_through_the_gateway(
    session: Session, gateway: str | None
) -> None:
    from models.cases import Notification
    from models.directory import Organisation

    org = session.scalars(select(Organisation)).one()
    org.settings = {**(org.settings or {}), "resident_channel": gateway}
    first_certificate(session)
    open_expiring_insurance(session, at("2026-12-16 06:00"))
    case_id = insurance_cases(session)[-1].id

    kinds = {(role, kind) for role, kind, _ in notices(session, case_id)}
    if gateway is None:
        # No gateway for residents: nothing is queued for them (a console row would lie).
        assert kinds == {("gs", "insurance_expiring")}
        return
    assert kinds == {("gs", "insurance_expiring"), ("resident", "resident_insurance_expiring")}
    letter = session.scalars(
        select(Notification).where(
            Notification.case_id == case_id, Notification.recipient_resident_id == "r-0001"
        )
    ).one()
    assert letter.channel_url == "mailto://sms.local/?to=jean.dupont@example.org"
    assert "valable jusqu'au 15/01/2027" in letter.body
    # Their own wording: no link into the staff application, no "Bonjour <gs>".
    assert "/cases/" not in letter.body
    assert letter.body.startswith("Bonjour Jean Dupont")


@pytest.mark.parametrize(
    ("gateway", "reached"),
    [("json://sms.local/send?to={phone}", True), ("mailto://mail.local/?to={email}", False)],
)
def test_a_resident_with_only_a_phone_is_reached_by_a_phone_gateway(
    session: Session, gateway: str, reached: bool
) -> None:
    from models.directory import Organisation, Resident

    resident = session.get(Resident, "r-0001")
    assert resident is not None
    resident.email = None
    org = session.scalars(select(Organisation)).one()
    org.settings = {**(org.settings or {}), "resident_channel": gateway}
    first_certificate(session)
    open_expiring_insurance(session, at("2026-12-16 06:00"))
    urls = [url for role, _, url in notices(session, insurance_cases(session)[-1].id)
            if role == "resident"]
    assert urls == (["json://sms.local/send?to=0600000001"] if reached else [])


def test_no_insurance_termination_is_requested_before_the_formal_notice_runs_out(
    session: Session,
) -> None:
    first_certificate(session)
    open_expiring_insurance(session, at("2026-12-20 08:00"))
    case = insurance_cases(session)[-1]
    expiry = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.status == "pending")
    ).one()
    wf.fire_clock(session, expiry, at("2027-01-16 00:00"))
    wf.fire(session, case.id, "send_formal_notice", payload={"sent_at": "2027-01-25T09:00"},
            actor_id=RGLS, now=at("2027-01-25 10:00"))
    # Sent Monday 25 January 2027: the month runs to Thursday 25 February inclusive.
    with pytest.raises(Refusal) as refused:
        wf.fire(session, case.id, "request_termination", payload={}, actor_id=RGLS,
                now=at("2027-02-25 16:00"))
    assert "la mise en demeure du 25/01/2027 court jusqu'au 25/02/2027 inclus" in str(
        refused.value
    )
    assert case.state == "formal_notice"
    wf.fire(session, case.id, "request_termination", payload={}, actor_id=RGLS,
            now=at("2027-02-26 10:00"))
    assert case.state == "termination_review"
