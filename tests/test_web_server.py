"""`suivi web` for real: uvicorn on a free 127.0.0.1 port, a log-in over HTTP and the API
with a session cookie and a bearer token; a production database without a secret refuses
to start."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import DIRECTORY, at
from helpers import report

from models.db import make_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from processes.authentication import new_token, set_password

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database(path: Path, *, rehearsal: bool) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine, rehearsal=rehearsal)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    engine.dispose()
    return url


def environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SUIVI_SECRET_KEY"}
    env["SUIVI_DATABASE_URL"] = url
    return env


def test_a_production_database_does_not_serve_the_web_without_a_secret(tmp_path: Path) -> None:
    url = database(tmp_path / "prod.db", rehearsal=False)
    run = subprocess.run([sys.executable, "-m", "suivi.cli", "web", "--port", str(free_port())],
                         env=environment(url), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("SUIVI_SECRET_KEY manquant : une base de production ne "
                                 "démarre pas le web sans secret de session")
    assert "Traceback" not in run.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app served by `suivi web` on a rehearsal database (no secret needed), a case
    reported on 23 November 2026 at Viala, gs-viala's password and API token."""
    url = database(tmp_path / "demo.db", rehearsal=True)
    engine = make_engine(url)
    with session_scope(engine) as s:
        report(s, "2026-11-23 09:00")
        set_password(s, "gs-viala", PASSWORD, now=at("2026-11-23 08:00"), by="test")
        token = new_token(s, "gs-viala", now=at("2026-11-23 08:00"), by="test")
    engine.dispose()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "suivi.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
        env=environment(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"suivi web did not start: {output}")
            time.sleep(0.2)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_site_manager_logs_in_over_http_and_reads_the_api(served: tuple[str, str]) -> None:
    base, token = served
    with httpx.Client(base_url=base) as browser:
        assert browser.get("/api/cases").status_code == 401
        page = browser.get("/cases/1")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/cases/1"
        form = browser.get("/login?next=/cases/1")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        logged = browser.post("/login", data={"csrf_token": csrf.group(1), "staff_id": "gs-viala",
                                              "password": PASSWORD, "next": "/cases/1"})
        assert logged.status_code == 303 and logged.headers["location"] == "/cases/1"
        assert "httponly" in logged.headers["set-cookie"].lower()
        case_page = browser.get("/cases/1")
        assert case_page.status_code == 200 and "C-1" in case_page.text
        listed = browser.get("/api/cases")
        assert listed.status_code == 200
        assert [c["reference"] for c in listed.json()] == ["C-1"]
    with httpx.Client(base_url=base) as program:
        shown = program.get("/api/cases/1", headers={"Authorization": f"Bearer {token}"})
        assert shown.status_code == 200
        assert shown.json()["history"][0]["actor"] == "gs-viala"
        spec = program.get("/openapi.json").json()
        assert {"/api/cases", "/api/cases/{case_id}", "/api/cases/{case_id}/fire",
                "/api/residents/{resident_id}", "/api/agenda"} <= set(spec["paths"])
