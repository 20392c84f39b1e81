"""The pages in a real browser: Debian's Chromium driven by Playwright against `suivi web`
served by uvicorn on 127.0.0.1, on a SQLite database prepared for the module.

One server and one browser for the whole module (each takes seconds to start). The server
runs on the machine's real clock, as in production: the cases are prepared relative to now.

- C-1 (Jean Dupont, Résidence Viala Anjou) and C-2 (Fatima Benali, same site): breach
  reported two hours ago, first visit planned an hour ago for tomorrow 10:00.
- C-3 (Pierre Moreau, Résidence Les Chartreux): three unsatisfactory visits and an
  unsatisfactory evaluation over the last three weeks: second warning, the direction alerted.

The run also takes the screenshots shown in the README (kept in docs/screenshots/ when
SUIVI_SCREENSHOTS=docs/screenshots).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import DIRECTORY

from models.db import make_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from processes import engine as wf
from processes.authentication import set_password
from processes.calendar import local

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
# The README's pictures are refreshed on purpose (SUIVI_SCREENSHOTS=docs/screenshots): an
# ordinary run takes them elsewhere, so that `make test` leaves the clone as it found it.
SCREENSHOTS = Path(
    os.environ.get("SUIVI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "suivi-screenshots"
).resolve()
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (make test installs it)"
)


def _iso(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m-%dT%H:%M")


def _tomorrow_at_ten(now: datetime) -> datetime:
    day = local(now).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=local(now).tzinfo)


def _prepare(url: str) -> dict[str, int]:
    """The directory, the passwords and three cases, all dated before the server's now."""
    eng = make_engine(url)
    upgrade(eng)
    now = datetime.now(UTC)
    with session_scope(eng) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    cases: dict[str, int] = {}
    with session_scope(eng) as s:
        for resident in ("r-0001", "r-0002"):
            case = wf.open_case(
                s, "hygiene", resident_id=resident, actor_id="gs-viala",
                now=now - timedelta(hours=2),
                payload={"observed_at": _iso(now - timedelta(hours=3)),
                         "description": "Déchets accumulés, odeurs"},
            )
            wf.fire(s, case.id, "schedule_visit", actor_id="gs-viala",
                    now=now - timedelta(hours=1),
                    payload={"visit_at": _iso(_tomorrow_at_ten(now)), "mode": "home"})
            cases[resident] = case.id
        cases["r-0003"] = _second_warning(s, now)
        for staff in ("gs-viala", "gs-chartreux", "dgls-1", "agent-viala"):
            set_password(s, staff, PASSWORD, now=now, by="admin")
    eng.dispose()
    return cases


def _second_warning(session: object, now: datetime) -> int:
    start = now - timedelta(days=21)
    gs = "gs-chartreux"
    case = wf.open_case(
        session, "hygiene", resident_id="r-0003", actor_id=gs, now=start,  # type: ignore[arg-type]
        payload={"observed_at": _iso(start - timedelta(hours=1)), "description": "Encombrement"},
    )
    for week in range(3):
        planned = start + timedelta(days=7 * week, hours=1)
        visit = planned + timedelta(days=1)
        wf.fire(session, case.id, "schedule_visit", actor_id=gs, now=planned,  # type: ignore[arg-type]
                payload={"visit_at": _iso(visit), "mode": "home"})
        wf.fire(session, case.id, "record_visit", actor_id=gs,  # type: ignore[arg-type]
                now=visit + timedelta(hours=2),
                payload={"held_at": _iso(visit), "outcome": "unsatisfactory",
                         "obstacles": "Refus de l'aide proposée"})
    wf.fire(session, case.id, "record_evaluation", actor_id="rgls-sud",  # type: ignore[arg-type]
            now=now - timedelta(hours=3),
            payload={"held_at": _iso(now - timedelta(hours=4)), "outcome": "unsatisfactory"})
    return case.id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'suivi.db'}"
    cases = _prepare(url)
    env = dict(os.environ, SUIVI_DATABASE_URL=url, SUIVI_SECRET_KEY="browser-test-" + "x" * 40,
)
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "suivi"), "web", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text())
            time.sleep(0.2)
        yield {"base": base, "cases": cases}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


def _log_in(page: object, base: str, staff: str, password: str = PASSWORD,
            path: str = "/") -> None:
    page.goto(f"{base}{path}")  # type: ignore[attr-defined]
    page.fill("#staff_id", staff)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("form.login button[type=submit]")  # type: ignore[attr-defined]


def _shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]


def _record_tomorrows_visit_as_unsatisfactory(
    browser: object, server: dict[str, object], resident: str, viewport: dict[str, int],
    shots: str,
) -> None:
    base = str(server["base"])
    case_id = server["cases"][resident]  # type: ignore[index]
    context = browser.new_context(viewport=viewport, locale="fr-FR",  # type: ignore[attr-defined]
                                  timezone_id="Europe/Paris")
    page = context.new_page()
    try:
        _log_in(page, base, "gs-viala")
        page.wait_for_url(f"{base}/")
        tomorrow = page.locator("#week ~ h3").first
        assert tomorrow.inner_text().lower().startswith("demain")
        visit = page.locator(f"a[href='/cases/{case_id}']", has_text="Visite n° 1 à domicile")
        assert "10:00" in visit.inner_text()
        _shot(page, f"agenda-{shots}.png")
        visit.click()
        page.wait_for_url(f"{base}/cases/{case_id}")
        assert page.locator("#state").inner_text() == "1re visite"
        page.click("#form-record_visit summary")
        form = page.locator("#form-record_visit form")
        form.locator("select[name=outcome]").select_option(label="insatisfaisante")
        form.locator("textarea[name=obstacles]").fill("Isolement, refus d'ouvrir")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/cases/{case_id}?done=record_visit")
        assert page.locator("#state").inner_text() == "2e visite"
        assert page.locator(".flash.ok").inner_text() == "« Enregistrer la visite » est enregistré."
        clocks = page.locator(".clocks").inner_text()
        assert "Planifier la visite suivante" in clocks
        latest = page.locator(".timeline > li").first.inner_text()
        assert "Enregistrer la visite" in latest and "1re visite → 2e visite" in latest
        assert "insatisfaisante" in latest and "Isolement, refus d'ouvrir" in latest
        body = page.locator("main").inner_text()
        for code in ("unsatisfactory", "visit_2", "record_visit", "plan_next_visit"):
            assert code not in body
        assert page.locator("svg.diagram [aria-current=step]").get_attribute(
            "data-state") == "visit_2"
        _shot(page, f"case-{shots}.png")
    finally:
        context.close()


def test_a_site_manager_records_tomorrows_visit_as_unsatisfactory(
    browser: object, server: dict[str, object]
) -> None:
    _record_tomorrows_visit_as_unsatisfactory(browser, server, "r-0001", DESKTOP, "desktop")


def test_the_same_on_a_phone_390_pixels_wide(browser: object, server: dict[str, object]) -> None:
    _record_tomorrows_visit_as_unsatisfactory(browser, server, "r-0002", PHONE, "phone")


def test_a_director_sees_the_second_warning_on_the_dashboard(
    browser: object, server: dict[str, object]
) -> None:
    base = str(server["base"])
    case_id = server["cases"]["r-0003"]  # type: ignore[index]
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        _log_in(page, base, "dgls-1", path="/direction")
        page.wait_for_url(f"{base}/direction")
        waiting = page.locator(f"#waiting-title ~ ul a[href='/cases/{case_id}']")
        assert "2e avertissement" in waiting.inner_text()
        assert "Résidence Les Chartreux" in waiting.inner_text()
        assert "Résidence Les Chartreux" in page.locator("svg.chart").inner_html()
        _shot(page, "direction-desktop.png")
    finally:
        context.close()


def test_a_site_manager_of_another_site_typing_the_case_address_gets_the_404_page(
    browser: object, server: dict[str, object]
) -> None:
    base = str(server["base"])
    case_id = server["cases"]["r-0001"]  # type: ignore[index]
    context = browser.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        _log_in(page, base, "gs-chartreux", path=f"/cases/{case_id}")
        page.wait_for_url(f"{base}/cases/{case_id}")
        assert page.locator("h1").inner_text() == "Page introuvable"
        assert "Jean Dupont" not in page.content()
        response = page.goto(f"{base}/cases/{case_id}")
        assert response is not None and response.status == 404
        missing = page.goto(f"{base}/cases/999999")
        assert missing is not None and missing.status == 404
        assert page.locator("h1").inner_text() == "Page introuvable"
    finally:
        context.close()


def test_five_wrong_passwords_lock_the_account(
    browser: object, server: dict[str, object]
) -> None:
    base = str(server["base"])
    context = browser.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        for _ in range(5):
            _log_in(page, base, "agent-viala", password="not the password")
            assert page.locator(".error").is_visible()
        _log_in(page, base, "agent-viala")
        assert page.url.startswith(f"{base}/login")
        assert "verrouillé" in page.locator(".error").inner_text()
    finally:
        context.close()
