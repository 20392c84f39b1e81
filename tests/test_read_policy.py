"""Who may read which case, resident and message: one policy for the web, the API and the
command line (DESIGN.md: a case you may not see answers as one that does not exist)."""

from __future__ import annotations

import logging

import pytest
from conftest import at
from helpers import report
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_asylum_walk import open_claim

from models.cases import Case, Notification
from models.directory import Dwelling, Resident, Staff
from processes import engine as wf
from processes.errors import NotFound
from processes.read_policy import (
    Viewer,
    can_see_case,
    can_see_notification,
    can_see_resident,
    load_viewer,
    readable_case,
    readable_resident,
    redact,
    visible_cases,
)


def three_cases(s: Session) -> dict[str, int]:
    """Reported on Monday 2 November 2026: a breach at Viala, one at Les Chartreux, and the
    Haddad household's asylum claim at the CADA."""
    viala = report(s, "2026-11-02 09:00")
    chartreux = report(s, "2026-11-02 09:30", resident="r-0003", actor="gs-chartreux")
    asylum = open_claim(s, "2026-11-02 10:00")
    return {"viala": viala.id, "chartreux": chartreux.id, "asylum": asylum.id}


def seen_by(s: Session, staff_id: str) -> set[int]:
    viewer = load_viewer(s, staff_id)
    return set(s.scalars(select(Case.id).where(visible_cases(viewer))))


EXPECTED = {
    # staff see their sites
    "gs-viala": {"viala"},
    "agent-viala": {"viala"},
    "gs-chartreux": {"chartreux"},
    "rgls-sud": {"viala", "chartreux"},
    # the direction sees everything, asylum included
    "dgls-1": {"viala", "chartreux", "asylum"},
    # the CADA's own team sees its asylum cases
    "juriste-cada": {"asylum"},
    "ts-cada": {"asylum"},
    "chef-cada": {"asylum"},
    # `sites: all` does not make the administrator part of the CADA's team
    "admin": {"viala", "chartreux"},
    # 13 Habitat owns Viala: only the case in its dwelling
    "bailleur-13h": {"viala"},
}


@pytest.mark.parametrize("staff_id", sorted(EXPECTED))
def test_each_person_sees_the_cases_of_their_sites_and_asylum_only_at_the_cada(
    session: Session, staff_id: str
) -> None:
    ids = three_cases(session)
    expected = {ids[name] for name in EXPECTED[staff_id]}
    assert seen_by(session, staff_id) == expected
    viewer = load_viewer(session, staff_id)
    for case_id in ids.values():
        case = session.get(Case, case_id)
        assert case is not None
        assert can_see_case(session, viewer, case) == (case_id in expected)


def test_a_landlord_never_sees_asylum_even_in_its_own_dwelling(session: Session) -> None:
    ids = three_cases(session)
    # UNICIL owns the CADA and Les Chartreux: the Chartreux breach, never the asylum claim.
    session.add(Staff(id="bailleur-unicil", name="Contact UNICIL", role="landlord",
                      landlord_id="unicil"))
    session.flush()
    assert seen_by(session, "bailleur-unicil") == {ids["chartreux"]}
    viewer = load_viewer(session, "bailleur-unicil")
    household = session.get(Resident, "r-0004")
    assert household is not None
    assert not can_see_resident(session, viewer, household)


def test_a_dwelling_of_another_landlord_in_a_mixed_residence_follows_its_own_landlord(
    session: Session,
) -> None:
    ids = three_cases(session)
    dwelling = session.get(Dwelling, "viala-214")
    assert dwelling is not None
    dwelling.landlord_id = "unicil"
    session.flush()
    assert seen_by(session, "bailleur-13h") == set()
    assert ids["viala"] not in seen_by(session, "bailleur-13h")


def test_a_case_one_may_not_see_answers_as_one_that_does_not_exist_and_is_logged(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    ids = three_cases(session)
    viewer = load_viewer(session, "gs-viala")
    with pytest.raises(NotFound) as hidden, caplog.at_level(logging.WARNING, "suivi.access"):
        readable_case(session, viewer, ids["asylum"])
    with pytest.raises(NotFound) as missing:
        readable_case(session, viewer, 999_999)
        wf.load_case(session, 999_999)
    assert str(hidden.value) == f"dossier inconnu : C-{ids['asylum']}"
    assert str(missing.value) == "dossier inconnu : C-999999"
    assert [r.getMessage() for r in caplog.records] == [
        f"lecture refusée : gs-viala (gs) a demandé C-{ids['asylum']}"
    ]
    assert readable_case(session, viewer, ids["viala"]).id == ids["viala"]


def test_residents_are_seen_where_they_live_and_a_cada_household_only_by_its_team(
    session: Session,
) -> None:
    three_cases(session)
    def sees(staff_id: str, resident_id: str) -> bool:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        return can_see_resident(session, load_viewer(session, staff_id), resident)

    assert sees("gs-viala", "r-0002")  # no case, but lives at Viala
    assert not sees("gs-viala", "r-0003")
    assert not sees("gs-viala", "r-0004")
    assert not sees("admin", "r-0004")
    assert sees("ts-cada", "r-0004")
    assert sees("dgls-1", "r-0004")
    assert sees("bailleur-13h", "r-0002")
    assert not sees("bailleur-13h", "r-0003")
    with pytest.raises(NotFound, match="résident inconnu : « r-0004 »"):
        readable_resident(session, load_viewer(session, "gs-chartreux"), "r-0004")


def test_messages_are_seen_by_their_recipient_and_by_staff_who_see_their_case(
    session: Session,
) -> None:
    ids = three_cases(session)
    when = at("2026-11-02 11:00")
    for n, (recipient, case) in enumerate([
        ("chef-cada", "asylum"), ("gs-chartreux", "viala"), ("bailleur-13h", "viala"),
        ("gs-viala", "chartreux"),
    ]):
        session.add(Notification(
            case_id=ids[case], recipient_staff_id=recipient, channel_url="console://",
            kind="visit_reminder", subject="s", body="b", status="sent", attempts=1,
            next_attempt_at=when, idempotency_key=f"test:{n}", created_at=when,
        ))
    session.flush()
    rows = session.scalars(select(Notification).order_by(Notification.id)).all()
    for staff_id in ("gs-viala", "gs-chartreux", "juriste-cada", "bailleur-13h"):
        viewer = load_viewer(session, staff_id)
        visible = seen_by(session, staff_id)
        for row in rows:
            expected = row.recipient_staff_id == staff_id or (
                not viewer.is_landlord and row.case_id in visible
            )
            assert can_see_notification(session, viewer, row) == expected, (staff_id, row.id)


def test_a_landlord_reads_no_free_text_contact_or_nationality() -> None:
    landlord = Viewer("bailleur-13h", "landlord", frozenset(), landlord_id="13habitat")
    staff = Viewer("gs-viala", "gs", frozenset({"viala"}))
    data = {
        "observed_at": "2026-11-02T08:30:00+00:00",
        "description": "Déchets accumulés",
        "visit": {"outcome": "unsatisfactory", "obstacles": "Isolement", "notes": "santé"},
        "contact": {"email": "jean.dupont@example.org"},
        "nationality": "syrienne",
    }
    assert redact(landlord, data) == {
        "observed_at": "2026-11-02T08:30:00+00:00",
        "visit": {"outcome": "unsatisfactory"},
    }
    assert redact(staff, data) == data


def test_someone_removed_from_the_directory_reads_nothing(session: Session) -> None:
    three_cases(session)
    staff = session.get(Staff, "gs-viala")
    assert staff is not None
    staff.active = False
    session.flush()
    with pytest.raises(NotFound, match="inconnu ou inactif"):
        load_viewer(session, "gs-viala")


def test_the_engine_and_the_policy_agree_a_case_opened_later_is_seen_at_once(
    session: Session,
) -> None:
    case = wf.open_case(
        session, "hygiene", resident_id="r-0002", actor_id="gs-viala",
        payload={"observed_at": at("2026-11-03 09:00").isoformat(), "description": "x"},
        now=at("2026-11-03 10:00"),
    )
    assert case.id in seen_by(session, "gs-viala")
    assert case.id not in seen_by(session, "gs-chartreux")
