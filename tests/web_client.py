"""The web app on a test database, and a log-in through its real form (CSRF included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from models.db import session_scope
from processes.authentication import set_password
from suivi.web.app import create_app

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


def client_for(engine: Engine, clock: Callable[[], datetime]) -> TestClient:
    app = create_app(engine, secret_key=SECRET, production=False, clock=clock)
    return TestClient(app, follow_redirects=False)


def give_password(engine: Engine, staff_id: str, password: str = PASSWORD) -> None:
    with session_scope(engine) as s:
        set_password(s, staff_id, password, now=datetime.fromisoformat("2026-11-01T08:00+00:00"),
                     by="test")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def log_in(client: TestClient, staff_id: str, password: str = PASSWORD, next_url: str = "/"):  # type: ignore[no-untyped-def]
    form = client.get("/login", params={"next": next_url})
    return client.post("/login", data={
        "csrf_token": csrf_of(form.text), "staff_id": staff_id, "password": password,
        "next": next_url,
    })
