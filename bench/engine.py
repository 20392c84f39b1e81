"""How long one engine call takes, each in its own transaction, as staff would make it.

    .venv/bin/python bench/engine.py [--cases 500] [--no-postgres] [--postgres-url URL]

Creates a throwaway SQLite file database (and a throwaway PostgreSQL database when the local
server answers), loads the test directory, then times over N hygiene cases:
open_case, fire(schedule_visit) and fire(record_visit). Prints mean, p50, p95 and max in
milliseconds. Target (DESIGN/issue 2): under 10 ms each on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from models.db import make_engine, session_scope  # noqa: E402
from models.directory_io import import_directory, load_directory_file  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from processes import engine as wf  # noqa: E402

DIRECTORY = ROOT / "tests" / "data" / "directory.yaml"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESIDENTS = (("r-0001", "gs-viala"), ("r-0002", "gs-viala"), ("r-0003", "gs-chartreux"))
# Simulated time: the engine never reads the clock; only the stopwatch does.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"  {name:<26} n={len(samples):<5} mean {statistics.fmean(samples):6.2f} ms   "
        f"p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   max {ordered[-1]:7.2f} ms"
    )


def run(engine: Engine, cases: int) -> dict[str, list[float]]:
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    results: dict[str, list[float]] = {"open_case": [], "schedule_visit": [], "record_visit": []}
    ids: list[tuple[int, str]] = []

    def open_one(i: int) -> None:
        resident, gs = RESIDENTS[i % len(RESIDENTS)]
        now = MONDAY + timedelta(minutes=i)
        with session_scope(engine) as s:
            case = wf.open_case(
                s, "hygiene", resident_id=resident, actor_id=gs, now=now,
                payload={"observed_at": now.isoformat(), "description": "Banc d'essai"},
            )
            ids.append((case.id, gs))

    for i in range(cases):
        results["open_case"].append(timed(lambda i=i: open_one(i)))  # type: ignore[misc]

    planned = MONDAY + timedelta(days=2)
    visit = MONDAY + timedelta(days=7)
    for case_id, gs in ids:

        def schedule(case_id: int = case_id, gs: str = gs) -> None:
            with session_scope(engine) as s:
                wf.fire(s, case_id, "schedule_visit", actor_id=gs, now=planned,
                        payload={"visit_at": visit.isoformat(), "mode": "home"})

        results["schedule_visit"].append(timed(schedule))
    held = visit + timedelta(hours=6)
    for case_id, gs in ids:

        def record(case_id: int = case_id, gs: str = gs) -> None:
            with session_scope(engine) as s:
                wf.fire(s, case_id, "record_visit", actor_id=gs, now=held,
                        payload={"held_at": visit.isoformat(), "outcome": "unsatisfactory",
                                 "obstacles": "Isolement"})

        results["record_visit"].append(timed(record))
    return results


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="suivi-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_engine(admin_url: str) -> Iterator[Engine | None]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL not reachable ({error.orig}); skipped")
        admin.dispose()
        yield None
        return
    name = f"suivi_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(sa.make_url(admin_url).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(label: str, results: dict[str, list[float]]) -> None:
    print(label)
    for name, samples in results.items():
        print(summary(name, samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args()

    with sqlite_engine() as engine:
        report(f"SQLite (file, WAL), {args.cases} cases, one transaction per call",
               run(engine, args.cases))
    if not args.no_postgres:
        with postgres_engine(args.postgres_url) as pg:
            if pg is not None:
                report(f"PostgreSQL (127.0.0.1), {args.cases} cases, one transaction per call",
                       run(pg, args.cases))


if __name__ == "__main__":
    main()
