"""Log-in for real: argon2 passwords, signed session cookies, CSRF on every form, five
failures lock an account for fifteen minutes, someone removed from the directory is out."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import at
from sqlalchemy import Engine, select
from web_client import PASSWORD, client_for, csrf_of, give_password, log_in

from models.auth import ApiToken, Credential, LoginAttempt
from models.db import session_scope
from models.directory import Staff
from processes import authentication
from processes.errors import InvalidPayload


class Clock:
    """The server's time, moved by the test (a request never chooses it)."""

    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now


def attempts(engine: Engine, staff_id: str) -> list[tuple[bool, str]]:
    with session_scope(engine) as s:
        rows = s.execute(select(LoginAttempt.ok, LoginAttempt.reason)
                         .where(LoginAttempt.staff_id == staff_id)
                         .order_by(LoginAttempt.id)).all()
    return [(ok, reason) for ok, reason in rows]


def test_a_password_is_stored_only_as_an_argon2_hash(sqlite_engine: Engine) -> None:
    give_password(sqlite_engine, "gs-viala")
    with session_scope(sqlite_engine) as s:
        credential = s.get(Credential, "gs-viala")
        assert credential is not None
        assert credential.password_hash.startswith("$argon2id$")
        assert PASSWORD not in credential.password_hash
        with pytest.raises(InvalidPayload, match="10 caractères au moins"):
            authentication.set_password(s, "gs-viala", "court", now=at("2026-11-02 09:00"),
                                        by="test")


def test_a_site_manager_logs_in_lands_where_the_link_pointed_and_logs_out(
    sqlite_engine: Engine,
) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, Clock("2026-11-30 09:00"))
    asked = client.get("/cases/15")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/cases/15"
    answer = log_in(client, "gs-viala", next_url="/cases/15")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/cases/15"
    cookie = answer.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    home = client.get("/")
    assert home.status_code == 200 and "gs-viala" in home.text
    out = client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303
    assert client.get("/").status_code == 303
    assert attempts(sqlite_engine, "gs-viala") == [(True, "ok")]


def test_a_login_link_to_another_site_goes_home_instead(sqlite_engine: Engine) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, Clock("2026-11-30 09:00"))
    answer = log_in(client, "gs-viala", next_url="https://ailleurs.example/")
    assert answer.headers["location"] == "/"


def test_a_form_without_its_csrf_token_changes_nothing(sqlite_engine: Engine) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, Clock("2026-11-30 09:00"))
    client.get("/login")
    forged = client.post("/login", data={"staff_id": "gs-viala", "password": PASSWORD,
                                         "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "jeton CSRF" in forged.text
    assert attempts(sqlite_engine, "gs-viala") == []
    assert client.get("/").status_code == 303


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(sqlite_engine: Engine) -> None:
    give_password(sqlite_engine, "gs-viala")
    clock = Clock("2026-11-30 09:00")
    client = client_for(sqlite_engine, clock)
    for _ in range(4):
        wrong = log_in(client, "gs-viala", "pas le bon mot de passe")
        assert wrong.status_code == 401
        assert "identifiant ou mot de passe incorrect" in wrong.text
    fifth = log_in(client, "gs-viala", "pas le bon mot de passe")
    assert "compte verrouillé après 5 essais manqués : réessayez après 30/11/2026 09:15" in (
        fifth.text
    )
    clock.now += timedelta(minutes=14)
    assert log_in(client, "gs-viala").status_code == 401  # the right password, still locked
    clock.now += timedelta(minutes=1)
    assert log_in(client, "gs-viala").status_code == 303
    assert attempts(sqlite_engine, "gs-viala") == [
        *[(False, "wrong_password")] * 4, (False, "locked_now"), (False, "locked"), (True, "ok")
    ]


def test_an_unknown_id_and_a_wrong_password_get_the_same_answer(sqlite_engine: Engine) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, Clock("2026-11-30 09:00"))
    unknown = log_in(client, "personne", PASSWORD)
    wrong = log_in(client, "gs-viala", "pas le bon mot de passe")
    assert unknown.status_code == wrong.status_code == 401
    assert "identifiant ou mot de passe incorrect" in unknown.text
    assert attempts(sqlite_engine, "personne") == [(False, "unknown")]


def test_someone_removed_from_the_directory_cannot_log_in_and_is_logged_out(
    sqlite_engine: Engine,
) -> None:
    give_password(sqlite_engine, "gs-viala")
    client = client_for(sqlite_engine, Clock("2026-11-30 09:00"))
    assert log_in(client, "gs-viala").status_code == 303
    with session_scope(sqlite_engine) as s:
        staff = s.get(Staff, "gs-viala")
        assert staff is not None
        staff.active = False
    assert client.get("/").status_code == 303
    assert log_in(client, "gs-viala").status_code == 401
    assert attempts(sqlite_engine, "gs-viala")[-1] == (False, "inactive")


def test_a_personal_token_is_stored_hashed_and_stops_working_when_revoked(
    sqlite_engine: Engine,
) -> None:
    with session_scope(sqlite_engine) as s:
        token = authentication.new_token(s, "gs-viala", now=at("2026-11-30 09:00"), by="test")
    with session_scope(sqlite_engine) as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and len(stored) == 1
        staff = authentication.staff_for_token(s, token)
        assert staff is not None and staff.id == "gs-viala"
        assert authentication.revoke_tokens(s, "gs-viala", now=at("2026-11-30 10:00"),
                                            by="test") == 1
    with session_scope(sqlite_engine) as s:
        assert authentication.staff_for_token(s, token) is None
