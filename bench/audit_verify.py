"""How long `suivi audit verify` takes over a large trail, and a checkpoint of it.

    .venv/bin/python bench/audit_verify.py [--cases 100000] [--backend sqlite|postgresql|both]
                                           [--per-case]

A throwaway database (a SQLite file; on PostgreSQL a database created and dropped on the local
server) gets `--cases` hygiene cases of four events each (opened, visit planned, visit held,
second visit planned), with real hash chains: cases are cloned from one walked through the
engine, with their own ids and hashes, and written in bulk. Then, each timed on its own:

  - `write_checkpoint`: read every case row, hash its identity and row, write the heads, sign;
  - `verify_trail`: every chain and case row, against that signed checkpoint (the command);
  - with `--per-case`, the old way (`processes.audit.iter_breaks`, one query per case).

Printed: seconds and cases per second for each, and this process's CPU time. The issue-14
probe measured the old way at 59 s for 100,000 cases.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import Engine, Table  # noqa: E402

from models.cases import Case, CaseEvent  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.directory_io import import_directory, load_directory_file  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from processes import engine as wf  # noqa: E402
from processes.audit import GENESIS, event_hash, iter_breaks  # noqa: E402
from processes.audit_verify import verify_trail  # noqa: E402
from processes.calendar import parse_moment  # noqa: E402
from processes.checkpoints import write_checkpoint  # noqa: E402
from processes.signing import load_public, new_private_pem, signer_from  # noqa: E402

DIRECTORY = ROOT / "tests" / "data" / "directory.yaml"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
CHUNK = 10_000


@contextmanager
def database(backend: str) -> Iterator[Engine]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            yield engine
            engine.dispose()
        return
    admin = sa.create_engine(DEFAULT_PG, isolation_level="AUTOCOMMIT")
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(sa.make_url(DEFAULT_PG).set(database=name).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def model_case(engine: Engine) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One case walked through the engine: the rows every clone copies."""
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
        case = wf.open_case(
            s, "hygiene", resident_id="r-0001", actor_id="gs-viala",
            now=parse_moment("2026-11-02T09:00"),
            payload={"observed_at": "2026-11-02T08:30", "description": "déchets"},
        )
        steps = (
            ("schedule_visit", "2026-11-03T09:00", {"visit_at": "2026-11-09T10:00"}),
            ("record_visit", "2026-11-09T17:00",
             {"held_at": "2026-11-09T10:00", "outcome": "unsatisfactory", "obstacles": "x"}),
            ("schedule_visit", "2026-11-10T09:00", {"visit_at": "2026-11-16T10:00"}),
        )
        for trigger, now, payload in steps:
            wf.fire(s, case.id, trigger, actor_id="gs-viala", now=parse_moment(now),
                    payload=payload)
    with engine.connect() as conn:
        row = dict(conn.execute(CASES.select()).mappings().one())
        events = [dict(e) for e in conn.execute(EVENTS.select().order_by(EVENTS.c.seq)).mappings()]
        conn.execute(sa.text("DELETE FROM notifications"))
        conn.execute(sa.text("DELETE FROM clocks"))
        conn.execute(EVENTS.delete())
        conn.execute(CASES.delete())
        conn.commit()
    return row, events


def fill(engine: Engine, count: int) -> None:
    template, events = model_case(engine)
    started = time.perf_counter()
    for first in range(1, count + 1, CHUNK):
        cases, rows = [], []
        for case_id in range(first, min(first + CHUNK, count + 1)):
            prev = GENESIS
            for e in events:
                digest = event_hash(
                    case_id=case_id, seq=e["seq"], at=e["at"], actor_id=e["actor_id"],
                    role=e["role"], trigger=e["trigger"], from_state=e["from_state"],
                    to_state=e["to_state"], payload=e["payload"], prev_hash=prev,
                )
                rows.append({**e, "id": None, "case_id": case_id, "prev_hash": prev,
                             "hash": digest})
                prev = digest
            cases.append({**template, "id": case_id, "last_hash": prev})
        for r in rows:
            r.pop("id")
        with engine.begin() as conn:
            conn.execute(CASES.insert(), cases)
            conn.execute(EVENTS.insert(), rows)
    print(f"  {count:,} cases, {4 * count:,} events written in "
          f"{time.perf_counter() - started:.1f} s")


def timed(label: str, count: int, work: Any) -> Any:
    """Wall time, and this process's CPU time: on a shared machine the second says more
    about our code (the database server's own CPU is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  {label}: {seconds:.2f} s ({count / seconds:,.0f} cases/s), "
          f"CPU of this process {cpu:.2f} s")
    return result


def run(backend: str, count: int, per_case: bool) -> None:
    print(f"{backend}:")
    signer = signer_from({"SUIVI_AUDIT_KEY": new_private_pem()})
    public = load_public(signer.public_pem)
    with database(backend) as engine:
        upgrade(engine)
        fill(engine, count)
        if backend == "postgresql":
            with engine.connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()

        def checkpoint() -> None:
            with session_scope(engine) as s:
                write_checkpoint(s, signer, now=parse_moment("2026-11-30T02:30"))

        timed("write_checkpoint", count, checkpoint)

        def verify() -> Any:
            with session_scope(engine, read_only=True) as s:
                return verify_trail(s, public_key=public)

        report = timed("verify_trail (suivi audit verify)", count, verify)
        assert report.ok and report.cases == count, report.as_dict()
        if per_case:
            def old() -> list[Any]:
                with session_scope(engine, read_only=True) as s:
                    return list(iter_breaks(s))

            assert timed("iter_breaks, one query per case (before)", count, old) == []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--per-case", action="store_true")
    args = parser.parse_args()
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run(backend, args.cases, args.per_case)


if __name__ == "__main__":
    main()
