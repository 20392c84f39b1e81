"""Shared fixtures: a fresh database per test on SQLite and (when it answers) PostgreSQL.

PostgreSQL: `SUIVI_TEST_POSTGRES_URL` (default: the local server, database `test`). A
database of our own is created per run and dropped at the end. Without a server the
PostgreSQL variants skip, unless `SUIVI_REQUIRE_POSTGRES=1` (CI), where a skip is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models.db import make_engine, normalise_url, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from processes.calendar import parse_moment

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")

DATA = Path(__file__).parent / "data"
DIRECTORY = DATA / "directory.yaml"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def at(text: str) -> datetime:
    """An instant written as staff write it: `2026-11-30 10:00` is Paris time."""
    return parse_moment(text.replace(" ", "T"))


def _pg_admin_url() -> str:
    return normalise_url(os.environ.get("SUIVI_TEST_POSTGRES_URL", DEFAULT_PG))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.URL]:
    """A database of this run's own on the PostgreSQL server; dropped at the end."""
    admin_url = sa.make_url(_pg_admin_url())
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        admin.dispose()
        message = f"PostgreSQL not reachable at {admin_url.render_as_string()}: {error.orig}"
        if os.environ.get("SUIVI_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"suivi_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database with the test directory loaded."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'suivi.db'}")
    else:
        url = request.getfixturevalue("postgres_server")
        eng = make_engine(url.render_as_string(hide_password=False))
        _reset_postgres(eng)
    upgrade(eng, rehearsal=True)
    with session_scope(eng) as session:
        import_directory(session, load_directory_file(DIRECTORY))
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests about one backend's behaviour or that are slow to repeat."""
    eng = make_engine(f"sqlite:///{tmp_path / 'suivi.db'}")
    upgrade(eng, rehearsal=True)
    with session_scope(eng) as session:
        import_directory(session, load_directory_file(DIRECTORY))
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as s:
        yield s


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test server for the whole suite (it takes 13-17 s to start)."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield
