"""The pages through the app (FastAPI's TestClient, a fixed server clock): forms that fire,
refusals shown on their form with nothing written, conflicts, who sees which page.

Jean Dupont's hygiene case (C-1, Résidence Viala Anjou): breach reported Monday 23 November
2026 09:00, first visit planned on the 24th for Tuesday 1 December 10:00. The server's clock
says Tuesday 1 December 2026 17:00 unless said otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from conftest import at
from fastapi.testclient import TestClient
from helpers import report, schedule, snapshot, walk_to
from sqlalchemy import Engine, select
from web_client import client_for, csrf_of, give_password, log_in

from models.cases import CaseEvent
from models.db import session_scope
from processes import engine as wf

TUESDAY_EVENING = at("2026-12-01 17:00")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_EVENING)


@pytest.fixture
def case_id(sqlite_engine: Engine) -> int:
    with session_scope(sqlite_engine) as s:
        case = report(s, "2026-11-23 09:00")
        schedule(s, case.id, "2026-11-24 09:00", "2026-12-01 10:00")
        return case.id


@pytest.fixture
def as_gs(sqlite_engine: Engine, clock: Clock, case_id: int) -> Iterator[TestClient]:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, clock)
    assert log_in(client, "gs-viala").status_code == 303
    yield client


def version_on(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found, "no form on the page"
    return found.group(1)


def _fire(client: TestClient, case_id: int, trigger: str, **fields: str) -> httpx.Response:
    """Sends a trigger's form as the case page shows it (token and version included)."""
    page = client.get(f"/cases/{case_id}").text
    return client.post(f"/cases/{case_id}/fire", data={
        "csrf_token": csrf_of(page), "trigger": trigger, "expected_version": version_on(page),
        **fields,
    })


def test_recording_the_visit_through_the_form_moves_the_case_and_says_so(
    as_gs: TestClient, case_id: int, sqlite_engine: Engine
) -> None:
    answer = _fire(as_gs, case_id, "record_visit", held_at="2026-12-01T10:30",
                   outcome="unsatisfactory", obstacles="Isolement")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/cases/{case_id}?done=record_visit"
    page = as_gs.get(answer.headers["location"]).text
    assert "« Enregistrer la visite » est enregistré." in page
    assert '<span class="badge" id="state">2e visite</span>' in page
    with session_scope(sqlite_engine) as s:
        assert wf.load_case(s, case_id).state == "visit_2"
        last = s.scalars(select(CaseEvent).order_by(CaseEvent.id.desc())).first()
        assert last is not None
        assert (last.actor_id, last.trigger, last.at) == (
            "gs-viala", "record_visit", TUESDAY_EVENING
        )


def test_a_visit_dated_in_the_future_is_refused_on_its_form_and_nothing_is_written(
    as_gs: TestClient, case_id: int, sqlite_engine: Engine
) -> None:
    before = snapshot(sqlite_engine, case_id)
    answer = _fire(as_gs, case_id, "record_visit", held_at="2026-12-01T18:30",
                   outcome="unsatisfactory", obstacles="Isolement")
    assert answer.status_code == 422
    text = answer.text
    assert ('Refusé (dossier C-1, « 1re visite ») : la visite ne peut pas être enregistrée '
            "dans le futur (01/12/2026 18:30).") in text
    assert '<details class="trigger" open id="form-record_visit">' in text
    assert 'value="2026-12-01T18:30"' in text  # what was typed is kept
    assert ">Isolement</textarea>" in text
    assert snapshot(sqlite_engine, case_id) == before


def test_a_missing_outcome_is_named_in_words(
    as_gs: TestClient, case_id: int, sqlite_engine: Engine
) -> None:
    before = snapshot(sqlite_engine, case_id)
    answer = _fire(as_gs, case_id, "record_visit", held_at="2026-12-01T10:30")
    assert answer.status_code == 422
    assert "données invalides pour « Enregistrer la visite » (Résultat : champ obligatoire " \
        "manquant)" in answer.text
    assert snapshot(sqlite_engine, case_id) == before


def test_someone_else_changed_the_case_first_the_page_says_so_and_shows_the_new_state(
    as_gs: TestClient, case_id: int, sqlite_engine: Engine
) -> None:
    stale = as_gs.get(f"/cases/{case_id}").text
    with session_scope(sqlite_engine) as s:  # the rgls records the visit meanwhile
        wf.fire(s, case_id, "record_visit", actor_id="rgls-sud", now=at("2026-12-01 16:00"),
                payload={"held_at": "2026-12-01T10:00", "outcome": "satisfactory"})
    before = snapshot(sqlite_engine, case_id)
    answer = as_gs.post(f"/cases/{case_id}/fire", data={
        "csrf_token": csrf_of(stale), "trigger": "record_visit",
        "expected_version": version_on(stale),
        "held_at": "2026-12-01T10:30", "outcome": "unsatisfactory",
    })
    assert answer.status_code == 409
    assert ("Le dossier a été modifié par quelqu'un d'autre entre-temps : rien n'a été "
            "enregistré. Il est maintenant à l'état « Bonne tenue du logement »") in answer.text
    assert snapshot(sqlite_engine, case_id) == before


def test_a_form_without_the_session_token_changes_nothing(
    as_gs: TestClient, case_id: int, sqlite_engine: Engine
) -> None:
    before = snapshot(sqlite_engine, case_id)
    answer = as_gs.post(f"/cases/{case_id}/fire", data={
        "csrf_token": "forged", "trigger": "record_visit", "expected_version": "3",
        "held_at": "2026-12-01T10:30", "outcome": "unsatisfactory",
    })
    assert answer.status_code == 403
    assert snapshot(sqlite_engine, case_id) == before


def test_a_link_from_a_message_lands_on_the_case_page_after_log_in(
    sqlite_engine: Engine, clock: Clock, case_id: int
) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, clock)
    first = client.get(f"/cases/{case_id}")
    assert first.headers["location"] == f"/login?next=/cases/{case_id}"
    logged = log_in(client, "gs-viala", next_url=f"/cases/{case_id}")
    page = client.get(logged.headers["location"])
    assert page.status_code == 200 and "<h1>C-1 <small>Amélioration" in page.text


def test_each_page_answers_a_site_manager_in_french(as_gs: TestClient, case_id: int) -> None:
    agenda = as_gs.get("/").text
    assert "Visite n° 1 à domicile" in agenda  # today's visit at 10:00, its report due
    listed = as_gs.get("/cases", params={"q": "dupont"}).text
    assert 'href="/cases/1">C-1</a>' in listed and "1re visite" in listed
    assert "Fatima" not in listed
    resident = as_gs.get("/residents/r-0001").text
    assert "Jean Dupont" in resident and 'href="/cases/1"' in resident
    messages = as_gs.get("/messages")
    assert messages.status_code == 200 and "Mes messages" in messages.text
    assert as_gs.get("/direction").status_code == 403
    for page in (agenda, listed, resident):
        shown = re.sub(r"<[^>]+>", " ", page)  # what a person reads: no tags, no attributes
        for code in ("visit_1", "reported", "hygiene", "schedule_visit", "home"):
            assert code not in shown


def test_another_sites_manager_gets_404_for_the_case_its_resident_and_its_letters(
    sqlite_engine: Engine, clock: Clock
) -> None:
    with session_scope(sqlite_engine) as s:
        case = walk_to(s, "warning_1")
        case_id = case.id
    give_password(sqlite_engine, "gs-chartreux")
    give_password(sqlite_engine, "gs-viala")
    other = client_for(sqlite_engine, clock)
    log_in(other, "gs-chartreux")
    for path in (f"/cases/{case_id}", "/residents/r-0001",
                 f"/cases/{case_id}/letters/hygiene_warning_1.html"):
        answer = other.get(path)
        assert answer.status_code == 404, path
        assert "Jean Dupont" not in answer.text
    own = client_for(sqlite_engine, clock)
    log_in(own, "gs-viala")
    letter = own.get(f"/cases/{case_id}/letters/hygiene_warning_1.html")
    assert letter.status_code == 200 and "Jean Dupont" in letter.text
    assert "1er avertissement" in own.get(f"/cases/{case_id}").text


def test_the_director_sees_the_dashboard_and_decides_a_termination(
    sqlite_engine: Engine, clock: Clock
) -> None:
    with session_scope(sqlite_engine) as s:
        case_id = walk_to(s, "termination_review").id
    clock.now = at("2027-01-25 09:00")
    give_password(sqlite_engine, "dgls-1")
    client = client_for(sqlite_engine, clock)
    log_in(client, "dgls-1")
    board = client.get("/direction").text
    assert f'href="/cases/{case_id}"' in board and "Résiliation à décider" in board
    answer = _fire(client, case_id, "decide_termination",
                   decided_at="2027-01-25T08:30", grounds="Trois visites, deux avertissements")
    page = client.get(answer.headers["location"]).text
    assert '<span class="badge closed" id="state">Résiliation</span>' in page


def test_a_landlords_user_reads_the_case_without_free_text_forms_or_messages(
    sqlite_engine: Engine, clock: Clock, case_id: int
) -> None:
    with session_scope(sqlite_engine) as s:
        wf.fire(s, case_id, "record_visit", actor_id="gs-viala", now=at("2026-12-01 12:00"),
                payload={"held_at": "2026-12-01T10:00", "outcome": "unsatisfactory",
                         "obstacles": "Problèmes de santé"})
    give_password(sqlite_engine, "bailleur-13h")
    client = client_for(sqlite_engine, clock)
    log_in(client, "bailleur-13h")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert '<span class="badge" id="state">2e visite</span>' in page.text
    assert "insatisfaisante" in page.text  # what the visit found, as a fact
    for secret in ("Déchets accumulés", "Problèmes de santé", "class=\"fire\"", "✉"):
        assert secret not in page.text
    listed = client.get("/cases").text
    assert f'href="/cases/{case_id}"' in listed


def test_a_site_manager_who_reads_english_gets_the_case_page_in_english(
    sqlite_engine: Engine, clock: Clock, case_id: int
) -> None:
    from models.directory import Staff

    with session_scope(sqlite_engine) as s:
        staff = s.get(Staff, "gs-viala")
        assert staff is not None
        staff.language = "en"
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, clock)
    log_in(client, "gs-viala")
    answer = _fire(client, case_id, "record_visit", held_at="2026-12-01T10:30",
                   outcome="unsatisfactory")
    page = client.get(answer.headers["location"]).text
    assert '<html lang="en">' in page
    assert "“Record the visit” recorded." in page
    assert '<span class="badge" id="state">Second visit</span>' in page
    assert "What you can do" in page and "Coming deadlines" in page
    assert "First visit → Second visit" in page
    agenda = client.get("/").text
    assert "This week" in agenda or "Today" in agenda
