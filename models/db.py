"""Where the database is and how a session is opened.

`SUIVI_DATABASE_URL` names it; the default is a SQLite file under ./var/ in WAL mode, so a
fresh clone works with nothing installed. PostgreSQL is the same code with another URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from models.private import private_dir, private_sqlite_file

DEFAULT_SQLITE_PATH = Path("var") / "suivi.db"
DEFAULT_BUSY_TIMEOUT_S = 10.0


class SettingError(ValueError):
    """An environment setting that cannot be used; the message says which and why."""


def busy_timeout_s() -> float:
    """How long a SQLite writer waits for another's lock before giving up, in seconds:
    `SUIVI_SQLITE_BUSY_TIMEOUT`, else 10 (a sweep batch holds the lock well under that)."""
    text = os.environ.get("SUIVI_SQLITE_BUSY_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        seconds = float(text.replace(",", "."))
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise SettingError(
            f"SUIVI_SQLITE_BUSY_TIMEOUT : « {text} » n'est pas une durée en secondes "
            "entre 0 et 3600"
        )
    return seconds


def database_url() -> str:
    url = os.environ.get("SUIVI_DATABASE_URL", "").strip()
    if url:
        return checked_url(url)
    private_dir(DEFAULT_SQLITE_PATH.parent)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


# Drivers installed with suivi; any other would fail later with a missing module.
SUPPORTED_DRIVERS = frozenset({"postgresql+psycopg", "sqlite", "sqlite+pysqlite"})
EXPECTED_URL = "postgresql://utilisateur@hôte/base ou sqlite:///chemin/suivi.db"


def checked_url(url: str) -> str:
    """SUIVI_DATABASE_URL as the engine wants it, or a SettingError saying what is wrong
    with it (never repeating a password)."""
    shown = f"« {url} »" if "@" not in url else "la valeur donnée"
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        hint = f" (un fichier SQLite s'écrit sqlite:///{url})" if "://" not in url and (
            "@" not in url) else ""
        raise SettingError(
            f"SUIVI_DATABASE_URL : {shown} n'est pas une adresse de base de données{hint} ; "
            f"attendu : {EXPECTED_URL}"
        ) from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise SettingError(
            f"SUIVI_DATABASE_URL : les bases « {parsed.drivername} » ne sont pas prises en "
            f"charge ; suivi fonctionne avec PostgreSQL ou SQLite ({EXPECTED_URL})"
        )
    return parsed.render_as_string(hide_password=False)


def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` form people copy from their host and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the sweep read while staff write.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


READ_ONLY = "suivi_read_only"


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at the start of each transaction: two engines reading the same
    # case version and then both upgrading to a writer would otherwise deadlock (SQLITE_BUSY
    # at commit) instead of one waiting for the other and seeing a clean conflict. A reader
    # (`case show` during a long sweep batch) needs no lock: WAL gives it a snapshot.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url) if url else database_url()
    if url.startswith("sqlite"):
        # The driver's timeout is SQLite's busy timeout: two writers meeting is a short wait
        # instead of an error.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s()},
            **kwargs,
        )
        # Owner-only, created just before SQLite would create it: at the first connection
        # (a reader is refused a missing file before it connects, so it creates nothing).
        event.listen(engine, "do_connect", lambda *_: private_sqlite_file(str(url)))
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache(maxsize=8)
def _cached_engine(url: str) -> Engine:
    return make_engine(url)


def get_engine(url: str | None = None) -> Engine:
    return _cached_engine(normalise_url(url) if url else database_url())


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


def sqlite_file(engine: Engine) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL or a database in memory."""
    name = engine.url.database
    if engine.dialect.name != "sqlite" or not name or name == ":memory:" or name.startswith(
        "file:"
    ):
        return None
    return Path(name)


def refuse_missing_sqlite_file(engine: Engine) -> None:
    """A reader must not create the database it was asked to read: SQLite makes an empty
    file on connect, and the next `db upgrade` would then seem to have lost everything."""
    path = sqlite_file(engine)
    if path is not None and not path.exists():
        raise SettingError(
            f"la base {engine.url.render_as_string(hide_password=True)} n'existe pas "
            "(aucun fichier à cet endroit) : vérifiez SUIVI_DATABASE_URL, ou lancez d'abord "
            "`suivi db upgrade`"
        )


@contextmanager
def session_scope(engine: Engine | None = None, *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    `read_only` takes no write lock on SQLite; on PostgreSQL it changes nothing.
    """
    bind = engine or get_engine()
    if read_only:
        refuse_missing_sqlite_file(bind)
        bind = bind.execution_options(**{READ_ONLY: True})
    session = session_factory(bind)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
