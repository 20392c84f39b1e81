"""Shared fixtures: a fresh database per test on SQLite and (when it answers) PostgreSQL.

PostgreSQL: `SUIVI_TEST_POSTGRES_URL` (default: the local server, database `test`). A
database of our own is created per run (per xdist worker) and dropped at the end; each
test gets it back as it was once migrated and imported. Without a server the PostgreSQL variants
skip, unless `SUIVI_REQUIRE_POSTGRES=1` (CI), where a skip is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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


def _migrate_and_import(eng: Engine) -> None:
    """What every test database starts from: the schema at head and the test directory."""
    upgrade(eng, rehearsal=True)
    with session_scope(eng) as session:
        import_directory(session, load_directory_file(DIRECTORY))


# Alembic and the directory import cost 0.3-1 s a database; the suite builds ~500 of them. Each
# backend's database is therefore built once per run (per xdist worker) and copied per test:
# SQLite by copying the file, PostgreSQL by putting the template's rows back into this run's
# database (tables emptied, rows inserted, sequences rewound). A test still starts from a
# database exactly as migrated and imported, that no other test is using.


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the test directory, closed (WAL checkpointed) for copying."""
    path = tmp_path_factory.mktemp("sqlite-template") / "suivi.db"
    eng = make_engine(f"sqlite:///{path}")
    _migrate_and_import(eng)
    eng.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists(), "the template's WAL was not checkpointed"
    return path


def _sqlite_copy(template: Path, tmp_path: Path) -> Engine:
    path = tmp_path / "suivi.db"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


@dataclass
class PostgresTemplate:
    """What the PostgreSQL database of this run holds once migrated and imported: every row
    and every sequence's position. Restoring it is a few statements on a warm connection,
    where CREATE DATABASE ... TEMPLATE or DROP SCHEMA waits for checkpoints (1-4 s a test
    on a busy machine)."""

    url: sa.URL
    version: str
    tables: list[sa.Table]
    rows: dict[str, list[dict[str, Any]]]
    sequences: list[tuple[str, int | None]]

    @classmethod
    def build(cls, url: sa.URL) -> PostgresTemplate:
        eng = make_engine(url.render_as_string(hide_password=False))
        try:
            _reset_postgres(eng)
            _migrate_and_import(eng)
            with eng.connect() as conn:
                meta = sa.MetaData()
                meta.reflect(conn)
                tables = [t for t in meta.sorted_tables if t.name != "alembic_version"]
                version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                rows = {
                    t.name: [dict(r) for r in conn.execute(sa.select(t)).mappings()]
                    for t in tables
                }
                sequences = [
                    (f"public.{name}", last)
                    for name, last in conn.execute(
                        sa.text(
                            "SELECT sequencename, last_value FROM pg_sequences "
                            "WHERE schemaname = 'public'"
                        )
                    ).tuples()
                ]
        finally:
            eng.dispose()
        return cls(url, str(version), tables, rows, sequences)

    def restore(self, eng: Engine) -> bool:
        """Put the template's rows back; False when the schema itself was changed (a test
        migrated it), which only a rebuild repairs."""
        with eng.connect() as conn:
            # A connection left open by an engine the CLI cached may hold locks; nobody else
            # uses this run's database.
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            try:
                version = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                if version.scalar() != self.version:
                    return False
            except sa.exc.ProgrammingError:
                return False
            conn.commit()
        with eng.begin() as conn:
            for table in reversed(self.tables):
                conn.execute(table.delete())
            for table in self.tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])
            for name, last in self.sequences:
                conn.execute(
                    sa.text("SELECT setval(:name, :value, :called)"),
                    {"name": name, "value": last or 1, "called": last is not None},
                )
        return True


@pytest.fixture(scope="session")
def postgres_template(postgres_server: sa.URL) -> dict[str, PostgresTemplate]:
    """The template of this run's PostgreSQL database, built once, rebuilt if a test broke
    the schema (a holder, so that a rebuild lasts for the following tests)."""
    return {"template": PostgresTemplate.build(postgres_server)}


def _postgres_copy(holder: dict[str, PostgresTemplate], **engine_options: Any) -> Engine:
    template = holder["template"]
    eng = make_engine(template.url.render_as_string(hide_password=False), **engine_options)
    if not template.restore(eng):
        eng.dispose()
        holder["template"] = template = PostgresTemplate.build(template.url)
        eng = make_engine(template.url.render_as_string(hide_password=False), **engine_options)
    return eng


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database with the test directory loaded, the test's own."""
    if request.param == "sqlite":
        eng = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    else:
        eng = _postgres_copy(request.getfixturevalue("postgres_template"))
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests about one backend's behaviour or that are slow to repeat."""
    eng = _sqlite_copy(sqlite_template, tmp_path)
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`: `-n auto --dist loadgroup`), every test that needs
    the Prefect test server runs on one worker, which starts it once (13-17 s); the demo's
    module fixtures are then also built once."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("prefect"))
