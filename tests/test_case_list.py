"""`suivi case list` pages through many cases and says how many there are in all."""

from __future__ import annotations

import json

import pytest
from helpers import report
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from models.cases import Case
from models.db import session_scope
from suivi.cli import build


@pytest.fixture
def three_cases(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Breaches reported on Monday 2 November 2026 for three residents of two residences."""
    with session_scope(sqlite_engine) as s:
        ids = [
            report(s, "2026-11-02 09:00", resident=resident, actor=actor).id
            for resident, actor in (
                ("r-0001", "gs-viala"),
                ("r-0002", "gs-viala"),
                ("r-0003", "gs-chartreux"),
            )
        ]
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    monkeypatch.setenv("COLUMNS", "120")
    return ids


def case_list(*args: str) -> Result:
    return CliRunner().invoke(build(), ["case", "list", *args])


def listed(result: Result) -> list[int]:
    assert result.exit_code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)]


def test_the_title_says_how_many_cases_of_how_many_and_where_the_next_page_starts(
    three_cases: list[int],
) -> None:
    first, second, third = three_cases
    page = case_list("--limit", "2")
    assert page.exit_code == 0, page.output
    assert "2 dossiers sur 3 (n° 1 à 2 ; suite : --offset 2)" in page.stdout
    assert f"C-{first}" in page.stdout and f"C-{second}" in page.stdout
    assert f"C-{third}" not in page.stdout

    last = case_list("--limit", "2", "--offset", "2")
    assert "1 dossier sur 3 (n° 3 à 3)" in last.stdout
    assert f"C-{third}" in last.stdout and f"C-{first}" not in last.stdout

    everything = case_list()
    assert "3 dossiers" in everything.stdout and "sur" not in everything.stdout

    beyond = case_list("--offset", "5")
    assert "Aucun dossier après le n° 5 (3 en tout)" in beyond.stdout


def test_the_total_counts_only_the_cases_the_filters_keep(three_cases: list[int]) -> None:
    page = case_list("--site", "viala", "--limit", "1")
    assert "1 dossier sur 2 (n° 1 à 1 ; suite : --offset 1)" in page.stdout
    assert listed(case_list("--site", "viala", "--offset", "1", "--json")) == [three_cases[1]]
    assert "Aucun dossier" in case_list("--process", "asylum").stdout


def test_pages_in_json_follow_one_another_without_gap_or_repeat(
    three_cases: list[int],
) -> None:
    pages = [listed(case_list("--json", "--limit", "2", "--offset", str(n))) for n in (0, 2, 4)]
    assert pages == [three_cases[:2], three_cases[2:], []]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--limit", "-1", "--limit : « -1 » n'est pas un nombre de dossiers par page"),
        ("--limit", "0", "--limit : « 0 » n'est pas un nombre de dossiers par page"),
        ("--limit", "99999999999999999999", "--limit : « 99999999999999999999 » n'est pas"),
        ("--offset", "-1", "--offset : « -1 » n'est pas un nombre de dossiers à passer"),
        ("--offset", "99999999999999999999", "--offset : « 99999999999999999999 » n'est pas"),
    ],
)
def test_a_page_size_or_start_that_means_nothing_is_refused_in_french(
    three_cases: list[int], option: str, value: str, message: str
) -> None:
    result = case_list(option, value)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_twelve_hundred_cases_list_the_first_two_hundred_and_count_them_all(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_engine) as s:
        template = report(s, "2026-11-02 09:00")
        columns = {
            c.key: getattr(template, c.key)
            for c in Case.__table__.columns
            if c.key not in ("id", "reference")
        }
        s.execute(Case.__table__.insert(), [columns] * 1_199)
        assert s.scalar(select(func.count()).select_from(Case)) == 1_200
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    monkeypatch.setenv("COLUMNS", "120")
    result = case_list()
    assert result.exit_code == 0, result.output
    assert "200 dossiers sur 1\u00a0200 (n° 1 à 200 ; suite : --offset 200)" in result.stdout
