"""The JSON API: every role against every endpoint, on its own site, another site, a
landlord's dwelling and an asylum case; 401/403/404/409/422 with the engine's French line,
and nothing written after a refusal (issue 10, item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import at
from fastapi.testclient import TestClient
from helpers import report
from sqlalchemy import Engine, func, select
from test_asylum_walk import open_claim
from web_client import client_for, give_password, log_in

from models.cases import Case, CaseEvent, Clock, Notification
from models.db import session_scope
from models.directory import Staff
from processes.authentication import new_token, revoke_tokens

NOW = "2026-11-03 10:00"  # the server's time in these tests: Tuesday 3 November 2026


@dataclass
class World:
    engine: Engine
    client: TestClient
    cases: dict[str, int]
    tokens: dict[str, str]

    def as_(self, staff_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[staff_id]}"}


PEOPLE = ("gs-viala", "gs-chartreux", "bailleur-13h", "bailleur-unicil", "juriste-cada",
          "dgls-1", "admin")


def build_world(engine: Engine) -> World:
    """Reported Monday 2 November 2026: a breach at Viala (13 Habitat's) for Jean Dupont, and
    the Haddad household's asylum claim at the CADA (UNICIL's)."""
    with session_scope(engine) as s:
        s.add(Staff(id="bailleur-unicil", name="Contact UNICIL", role="landlord",
                    landlord_id="unicil"))
        s.flush()
        viala = report(s, "2026-11-02 09:00").id
        asylum = open_claim(s, "2026-11-02 10:00").id
        tokens = {p: new_token(s, p, now=at("2026-11-02 08:00"), by="test") for p in PEOPLE}
    client = client_for(engine, lambda: at(NOW))
    return World(engine, client, {"viala": viala, "asylum": asylum}, tokens)


@pytest.fixture
def world(sqlite_engine: Engine) -> Iterator[World]:
    yield build_world(sqlite_engine)


def version_of(engine: Engine, case_id: int) -> int:
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.version


def rows(engine: Engine) -> tuple[object, ...]:
    """Everything a trigger could write: cases (with versions), events, clocks, outbox."""
    with session_scope(engine) as s:
        return (
            tuple(s.execute(select(Case.id, Case.state, Case.version).order_by(Case.id)).all()),
            s.scalar(select(func.count()).select_from(CaseEvent)),
            tuple(s.execute(select(Clock.id, Clock.status).order_by(Clock.id)).all()),
            s.scalar(select(func.count()).select_from(Notification)),
        )


TARGET_RESIDENT = {"viala": "r-0001", "asylum": "r-0004"}
OPEN = {
    "viala": {"process": "hygiene", "resident": "r-0002",
              "payload": {"observed_at": "2026-11-03T08:00", "description": "Odeurs"}},
    "asylum": {"process": "asylum", "resident": "r-0004",
               "payload": {"procedure": "normal", "registered_at": "2026-11-03",
                           "attestation_issued_at": "2026-11-03"}},
}
FIRE = {
    "viala": {"trigger": "schedule_visit",
              "payload": {"visit_at": "2026-11-09T10:00", "mode": "home"}},
    "asylum": {"trigger": "lodge_ofpra", "payload": {"filed_at": "2026-11-03"}},
}
HIDDEN = {"list": False, "show": 404, "resident": 404, "open": 404, "fire": 404}
# (person, target) -> what each endpoint answers.
MATRIX: dict[tuple[str, str], dict[str, object]] = {
    ("gs-viala", "viala"): {"list": True, "show": 200, "resident": 200, "open": 201, "fire": 200},
    ("gs-chartreux", "viala"): HIDDEN,
    ("bailleur-13h", "viala"): {"list": True, "show": 200, "resident": 200, "open": 403,
                                "fire": 403},
    ("bailleur-unicil", "viala"): HIDDEN,
    ("juriste-cada", "viala"): HIDDEN,
    ("dgls-1", "viala"): {"list": True, "show": 200, "resident": 200, "open": 403, "fire": 403},
    ("admin", "viala"): {"list": True, "show": 200, "resident": 200, "open": 403, "fire": 403},
    ("gs-viala", "asylum"): HIDDEN,
    ("gs-chartreux", "asylum"): HIDDEN,
    ("bailleur-13h", "asylum"): HIDDEN,
    ("bailleur-unicil", "asylum"): HIDDEN,
    ("juriste-cada", "asylum"): {"list": True, "show": 200, "resident": 200, "open": 201,
                                 "fire": 200},
    ("dgls-1", "asylum"): {"list": True, "show": 200, "resident": 200, "open": 403, "fire": 403},
    ("admin", "asylum"): HIDDEN,
}


@pytest.mark.parametrize(("who", "target"), sorted(MATRIX), ids=lambda v: str(v))
def test_the_matrix_of_people_and_endpoints(world: World, who: str, target: str) -> None:
    expected = MATRIX[(who, target)]
    client, auth, case_id = world.client, world.as_(who), world.cases[target]

    listed = client.get("/api/cases", headers=auth)
    assert listed.status_code == 200
    assert (case_id in {c["id"] for c in listed.json()}) is expected["list"]

    shown = client.get(f"/api/cases/{case_id}", headers=auth)
    assert shown.status_code == expected["show"], shown.text
    if shown.status_code == 404:
        assert shown.json() == {"detail": f"dossier inconnu : C-{case_id}"}
        missing = client.get("/api/cases/999999", headers=auth)
        assert missing.status_code == 404
        assert missing.json() == {"detail": "dossier inconnu : C-999999"}

    resident = client.get(f"/api/residents/{TARGET_RESIDENT[target]}", headers=auth)
    assert resident.status_code == expected["resident"], resident.text
    if resident.status_code == 200:
        assert case_id in {c["id"] for c in resident.json()["cases"]}

    for endpoint, call in (
        ("open", lambda: client.post("/api/cases", json=OPEN[target], headers=auth)),
        ("fire", lambda: client.post(
            f"/api/cases/{case_id}/fire", headers=auth,
            json={**FIRE[target], "expected_version": version_of(world.engine, case_id)},
        )),
    ):
        before = rows(world.engine)
        answer = call()
        assert answer.status_code == expected[endpoint], (endpoint, answer.text)
        if answer.status_code >= 400:
            assert rows(world.engine) == before, f"{endpoint} refused but wrote"
            assert isinstance(answer.json()["detail"], str)
        else:
            assert rows(world.engine) != before
            body = answer.json()
            assert all(e["actor"] == who for e in body["history"][-1:])

    agenda = client.get("/api/agenda", headers=auth)
    assert agenda.status_code == 200
    visible = {c["id"] for c in client.get("/api/cases", headers=auth).json()}
    assert {i["case_id"] for i in agenda.json()["items"]} <= visible


def test_a_landlord_refusal_names_the_role_and_what_it_may_do(world: World) -> None:
    answer = world.client.post(
        f"/api/cases/{world.cases['viala']}/fire", headers=world.as_("bailleur-13h"),
        json={**FIRE["viala"], "expected_version": 2},
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        f"dossier C-{world.cases['viala']} (état « Manquement à l'hygiène constaté ») : le rôle "
        "« landlord » "
        "(bailleur-13h) ne peut pas déclencher « schedule_visit » (rôles permis : gs, rgls). "
        "Déclencheurs permis ici : aucun"
    )


def test_the_case_reads_in_french_with_history_clocks_and_my_triggers(world: World) -> None:
    case_id = world.cases["viala"]
    body = world.client.get(f"/api/cases/{case_id}", headers=world.as_("gs-viala")).json()
    assert body["reference"] == f"C-{case_id}"
    assert body["process_label"] == "Amélioration de l'entretien du logement"
    assert body["state"] == "reported"
    assert body["state_label"] == "Manquement à l'hygiène constaté"
    assert [t["name"] for t in body["triggers"]] == ["schedule_visit"]
    assert body["triggers"][0]["required"] == ["visit_at"]
    assert body["triggers"][0]["fields"] == ["visit_at", "mode"]
    assert body["history"][0]["actor"] == "gs-viala"
    assert body["history"][0]["recorded_at"] is not None
    assert body["history"][0]["payload"]["description"] == "Déchets accumulés"
    assert body["clocks"] and all(c["rule"] and c["label"] for c in body["clocks"])
    assert body["next_due_at"] == body["clocks"][0]["due_at"]


def test_a_landlord_reads_the_case_without_free_text(world: World) -> None:
    body = world.client.get(f"/api/cases/{world.cases['viala']}",
                            headers=world.as_("bailleur-13h")).json()
    assert "description" not in body["history"][0]["payload"]
    assert "Déchets" not in str(body)
    assert body["triggers"] == []


def test_the_actor_and_the_time_are_the_servers_whatever_the_body_says(world: World) -> None:
    case_id = world.cases["viala"]
    answer = world.client.post(
        f"/api/cases/{case_id}/fire", headers=world.as_("gs-viala"),
        json={**FIRE["viala"], "expected_version": 2, "actor": "dgls-1"},
    )
    assert answer.status_code == 422
    assert "actor" in answer.json()["detail"]
    done = world.client.post(f"/api/cases/{case_id}/fire", headers=world.as_("gs-viala"),
                             json={**FIRE["viala"], "expected_version": 2})
    last = done.json()["history"][-1]
    assert (last["actor"], last["role"]) == ("gs-viala", "gs")
    assert last["at"].startswith("2026-11-03T09:00")  # 10:00 in Paris


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/cases"), ("get", "/api/cases/1"), ("post", "/api/cases"),
     ("post", "/api/cases/1/fire"), ("get", "/api/residents/r-0001"), ("get", "/api/agenda")],
)
def test_the_api_answers_401_to_strangers_and_to_a_revoked_token(
    world: World, method: str, path: str
) -> None:
    before = rows(world.engine)
    for headers in ({}, {"Authorization": "Bearer suivi_invented"},
                    {"Authorization": "Basic Z3M6eA=="}):
        answer = world.client.request(method, path, headers=headers, json={})
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["detail"].startswith("authentification requise")
    with session_scope(world.engine) as s:
        revoke_tokens(s, "gs-viala", now=at(NOW), by="test")
    assert world.client.request(method, path, headers=world.as_("gs-viala"),
                                json={}).status_code == 401
    assert rows(world.engine) == before


def test_a_stale_version_is_a_conflict_and_writes_nothing(world: World) -> None:
    case_id = world.cases["viala"]
    auth = world.as_("gs-viala")
    version = world.client.get(f"/api/cases/{case_id}", headers=auth).json()["record_version"]
    first = world.client.post(f"/api/cases/{case_id}/fire", headers=auth,
                              json={**FIRE["viala"], "expected_version": version})
    assert first.status_code == 200 and first.json()["record_version"] > version
    before = rows(world.engine)
    again = world.client.post(
        f"/api/cases/{case_id}/fire", headers=auth,
        json={"trigger": "schedule_visit", "expected_version": version,
              "payload": {"visit_at": "2026-11-10T10:00", "mode": "office"}},
    )
    assert again.status_code == 409
    assert f"version {version} attendue, le dossier est en version {version + 1}" in (
        again.json()["detail"])
    assert rows(world.engine) == before


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"trigger": "schedule_visit", "payload": {"mode": "home"}, "expected_version": 2},
         "données invalides pour « schedule_visit » (visit_at : champ obligatoire manquant)"),
        ({"trigger": "decide_termination", "payload": {}, "expected_version": 2},
         "« Décider la résiliation » (decide_termination) n'est pas possible dans cet état"),
        ({"trigger": "schedule_visit", "payload": {"visit_at": "demain", "mode": "home"},
          "expected_version": 2}, "date-heure invalide"),
        ({"trigger": "schedule_visit", "payload": {}}, "expected_version : champ obligatoire"),
    ],
)
def test_a_refused_trigger_is_422_with_the_engines_words_and_writes_nothing(
    world: World, body: dict[str, object], detail: str
) -> None:
    before = rows(world.engine)
    answer = world.client.post(f"/api/cases/{world.cases['viala']}/fire",
                               headers=world.as_("gs-viala"), json=body)
    assert answer.status_code == 422
    assert detail in answer.json()["detail"]
    assert rows(world.engine) == before


def test_opening_an_unknown_process_or_for_an_unknown_resident_writes_nothing(
    world: World,
) -> None:
    auth = world.as_("gs-viala")
    before = rows(world.engine)
    unknown = world.client.post("/api/cases", headers=auth,
                                json={"process": "jardinage", "resident": "r-0001"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("processus inconnu « jardinage »")
    nobody = world.client.post("/api/cases", headers=auth,
                               json={"process": "hygiene", "resident": "r-9999"})
    assert nobody.status_code == 404
    assert nobody.json() == {"detail": "résident inconnu : « r-9999 »"}
    assert rows(world.engine) == before


def test_the_case_list_filters_and_searches_by_name_or_reference(world: World) -> None:
    auth = world.as_("dgls-1")
    get = world.client.get
    assert [c["process"] for c in get("/api/cases?process=asylum", headers=auth).json()] == [
        "asylum"]
    assert [c["site"] for c in get("/api/cases?site=viala", headers=auth).json()] == ["viala"]
    assert [c["resident_name"] for c in get("/api/cases?q=dupont", headers=auth).json()] == [
        "Jean Dupont"]
    by_ref = get(f"/api/cases?q=C-{world.cases['asylum']}", headers=auth).json()
    assert [c["id"] for c in by_ref] == [world.cases["asylum"]]
    assert get("/api/cases?state=visit_1", headers=auth).json() == []


def test_a_session_cookie_from_the_login_page_also_opens_the_api(world: World) -> None:
    give_password(world.engine, "gs-viala")
    assert log_in(world.client, "gs-viala").status_code == 303
    answer = world.client.get("/api/cases")
    assert answer.status_code == 200
    assert [c["id"] for c in answer.json()] == [world.cases["viala"]]


def test_the_api_writes_on_postgresql_too(engine: Engine) -> None:
    """The same calls on both databases: open, fire, conflict."""
    world = build_world(engine)
    auth = world.as_("gs-viala")
    opened = world.client.post("/api/cases", headers=auth, json=OPEN["viala"])
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    version = opened.json()["record_version"]
    fired = world.client.post(f"/api/cases/{case_id}/fire", headers=auth,
                              json={**FIRE["viala"], "expected_version": version})
    assert fired.status_code == 200, fired.text
    assert fired.json()["state"] == "visit_1"
    stale = world.client.post(f"/api/cases/{case_id}/fire", headers=auth,
                              json={**FIRE["viala"], "expected_version": version})
    assert stale.status_code == 409


def test_the_agenda_shows_todays_visit_to_its_site_and_nobody_elses(world: World) -> None:
    case_id = world.cases["viala"]
    planned = world.client.post(
        f"/api/cases/{case_id}/fire", headers=world.as_("gs-viala"),
        json={"trigger": "schedule_visit", "expected_version": version_of(world.engine, case_id),
              "payload": {"visit_at": "2026-11-03T14:00", "mode": "home"}},
    )
    assert planned.status_code == 200, planned.text
    mine = world.client.get("/api/agenda", headers=world.as_("gs-viala")).json()
    assert mine["day"] == "2026-11-03"
    visits = [i for i in mine["items"] if i["group"] == "visit"]
    assert [(i["case_id"], i["kind"], i["resident"]) for i in visits] == [
        (case_id, "Visite n° 1 à domicile", "Jean Dupont")
    ]
    theirs = world.client.get("/api/agenda", headers=world.as_("gs-chartreux")).json()
    assert theirs["items"] == []
