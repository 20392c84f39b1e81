"""How fast the sweep fires due clocks, against the floor of raw SQL; and an idle sweep's cost.

    .venv/bin/python bench/sweep.py [--cases 100000] [--due 10000] [--idle-cases 1000000]
                                    [--batch 1000] [--backend sqlite|postgresql|both]
                                    [--repeat 3]

For each backend, a throwaway database (a SQLite file; on PostgreSQL a database created and
dropped on the local server) gets `--cases` open hygiene cases, `--due` of them with their
first reminder due. The rows are clones of cases opened through the engine (one per
resident of the test directory), with their own ids and hash chain, so that they are what
`open_case` would have written; only the writing is bulk.

Then, `--repeat` times (default 3), on two fresh copies of that database:
  - the floor: the rows the sweep writes for those clocks (clock, case head, event,
    notifications), precomputed, written as raw executemany statements in one transaction;
  - the sweep: `processes.sweep.sweep_due_clocks`, the code the `followup_sweep` flow runs.
Printed: clocks per second for each run and the medians, and the sweep's share of the floor
(targets: 3,500 clocks/s on SQLite and at least 50% of the floor).

Last, fresh cases are added until there are `--idle-cases`, none due, and a separate process
sweeps (target: under 2 s) and reports its peak memory (target: under 400 MB): VmHWM, since
Linux carries the spawning process's peak into a child's ru_maxrss.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import Engine, Table  # noqa: E402

from models.cases import Case, CaseEvent, Clock, Notification  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.directory_io import import_directory, load_directory_file  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from processes import engine as wf  # noqa: E402
from processes.audit import GENESIS, event_hash, iter_breaks  # noqa: E402
from processes.calendar import parse_moment  # noqa: E402
from processes.sweep import sweep_due_clocks  # noqa: E402

DIRECTORY = ROOT / "tests" / "data" / "directory.yaml"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESIDENTS = (("r-0001", "gs-viala"), ("r-0002", "gs-viala"), ("r-0003", "gs-chartreux"))
# Simulated time: reported on Monday 23 November, the first reminder is due Monday 30 at
# 09:00 (five working days); cases reported on the 30th are due a week later.
REPORTED_DUE = parse_moment("2026-11-23T09:00")
REPORTED_FRESH = parse_moment("2026-11-30T09:00")
NOW = parse_moment("2026-11-30T10:00")
CHUNK = 20_000
CASE_REF = re.compile(r"(C-|/cases/)\d+\b")

CASES = cast(Table, Case.__table__)
EVENTS = cast(Table, CaseEvent.__table__)
CLOCKS = cast(Table, Clock.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)
TABLES = (CASES, EVENTS, CLOCKS, NOTIFICATIONS)


# --- Databases --------------------------------------------------------------------------------


UrlFor = Callable[[str], str]
"""The URL of a throwaway database of this run, by name."""


@contextmanager
def sqlite_databases() -> Iterator[UrlFor]:
    """SQLite files in a temporary folder, removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="suivi-bench-sweep-") as folder:
        yield lambda name: f"sqlite:///{Path(folder) / name}.db"


@contextmanager
def postgres_databases(admin_url: str) -> Iterator[UrlFor | None]:
    """Databases of our own on the local server (created by `create_database` or
    `copy_database`), all dropped on the way out."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL not reachable ({error.orig}); skipped")
        admin.dispose()
        yield None
        return
    tag = uuid.uuid4().hex[:8]
    base = sa.make_url(admin_url)
    names: list[str] = []

    def url_for(name: str) -> str:
        names.append(f"suivi_bench_{name}_{tag}")
        return base.set(database=names[-1]).render_as_string(False)

    try:
        yield url_for
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_database(url: str, admin_url: str) -> None:
    """An empty database (SQLite creates its file when first opened)."""
    if url.startswith("postgresql"):
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{sa.make_url(url).database}"'))
        admin.dispose()


def drop_database(url: str, admin_url: str) -> None:
    """A copy no longer needed: its disk space back before the next one is made."""
    if url.startswith("sqlite"):
        Path(str(sa.make_url(url).database)).unlink(missing_ok=True)
        return
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def copy_database(source: str, target: str, admin_url: str) -> None:
    """The floor and the sweep work on copies, so that both start from the same rows."""
    if source.startswith("sqlite"):
        # sqlite3 itself: our engine opens every transaction, and VACUUM refuses to run in one.
        raw = sqlite3.connect(str(sa.make_url(source).database))
        try:
            raw.execute("VACUUM INTO ?", (sa.make_url(target).database,))
        finally:
            raw.close()
        return
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(
            f'CREATE DATABASE "{sa.make_url(target).database}" '
            f'TEMPLATE "{sa.make_url(source).database}"'
        ))
    admin.dispose()


# --- Realistic rows, cloned -------------------------------------------------------------------


@dataclass
class Template:
    """The rows `open_case` wrote for one case, to be cloned under new ids."""

    case: dict[str, Any]
    events: list[dict[str, Any]]
    clocks: list[dict[str, Any]]
    notifications: list[dict[str, Any]]


def open_templates(engine: Engine, reported: datetime) -> list[Template]:
    """One case per resident opened through the engine, read back, then deleted."""
    ids = []
    with session_scope(engine) as s:
        for resident, gs in RESIDENTS:
            case = wf.open_case(
                s, "hygiene", resident_id=resident, actor_id=gs, now=reported,
                payload={"observed_at": (reported - timedelta(minutes=30)).isoformat(),
                         "description": "Odeurs, déchets accumulés"},
            )
            ids.append(case.id)
    templates = []
    with engine.begin() as conn:
        for case_id in ids:
            def rows(table: Table, column: str, case_id: int = case_id) -> list[dict[str, Any]]:
                found = conn.execute(sa.select(table).where(table.c[column] == case_id)
                                     .order_by(table.c.id))
                return [dict(r._mapping) for r in found]

            templates.append(Template(
                case=rows(CASES, "id")[0], events=rows(EVENTS, "case_id"),
                clocks=rows(CLOCKS, "case_id"), notifications=rows(NOTIFICATIONS, "case_id"),
            ))
        for table in (NOTIFICATIONS, CLOCKS, EVENTS):
            conn.execute(sa.delete(table).where(table.c.case_id.in_(ids)))
        conn.execute(sa.delete(CASES).where(CASES.c.id.in_(ids)))
    return templates


class Cloner:
    """Hands out ids and rewrites what depends on them: hash chain, references, keys."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            self.next = {t.name: int(conn.scalar(sa.select(sa.func.max(t.c.id))) or 0) + 1
                         for t in TABLES}

    def take(self, table: Table) -> int:
        value = self.next[table.name]
        self.next[table.name] += 1
        return value

    def clone(self, t: Template, out: dict[str, list[dict[str, Any]]]) -> None:
        old_id, case_id = t.case["id"], self.take(CASES)
        ref = re.compile(rf"(C-|/cases/){old_id}\b")

        def rewrite(text: str) -> str:
            return ref.sub(lambda m: f"{m.group(1)}{case_id}", text)

        prev, event_ids = GENESIS, {}
        for e in t.events:
            event = dict(e, id=self.take(EVENTS), case_id=case_id, prev_hash=prev)
            event["hash"] = prev = event_hash(
                case_id=case_id, seq=e["seq"], at=e["at"], actor_id=e["actor_id"],
                role=e["role"], trigger=e["trigger"], from_state=e["from_state"],
                to_state=e["to_state"], payload=e["payload"], prev_hash=event["prev_hash"],
            )
            event_ids[e["id"]] = event["id"]
            out["case_events"].append(event)
        out["cases"].append(dict(t.case, id=case_id, last_hash=prev))
        out["clocks"].extend(dict(c, id=self.take(CLOCKS), case_id=case_id) for c in t.clocks)
        for n in t.notifications:
            key = n["idempotency_key"]
            for old, new in event_ids.items():
                key = key.replace(f"event:{old}:", f"event:{new}:")
            out["notifications"].append(dict(
                n, id=self.take(NOTIFICATIONS), case_id=case_id, idempotency_key=key,
                subject=rewrite(n["subject"]), body=rewrite(n["body"]),
            ))


def insert_clones(engine: Engine, templates: list[Template], count: int) -> None:
    """`count` clones, round robin over the templates, written in chunks (bounded memory)."""
    cloner = Cloner(engine)
    done = 0
    while done < count:
        out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
        for i in range(done, min(count, done + CHUNK)):
            cloner.clone(templates[i % len(templates)], out)
        with engine.begin() as conn:
            for table in TABLES:
                if out[table.name]:
                    conn.execute(sa.insert(table), out[table.name])
        done = min(count, done + CHUNK)
    if engine.dialect.name == "postgresql":
        # Explicit ids do not move the identity sequences the engine's inserts draw from.
        with engine.begin() as conn:
            for table in TABLES:
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                ))


def populate(engine: Engine, cases: int, due: int) -> None:
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    due_templates = open_templates(engine, REPORTED_DUE)
    fresh_templates = open_templates(engine, REPORTED_FRESH)
    insert_clones(engine, due_templates, due)
    insert_clones(engine, fresh_templates, cases - due)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


# --- The floor: the same writes as raw SQL ----------------------------------------------------


def floor_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """What the sweep will write for each due clock, computed before the stopwatch starts.

    The notifications are those `engine.fire_clock` queues for the first due clock of each
    resident (fired in a transaction rolled back), for each clock and case: routed, with no
    text yet (delivery composes it, notifications.compose) but with the case's state and data.
    """
    pg = engine.dialect.name == "postgresql"
    samples: dict[str, list[dict[str, Any]]] = {}
    with session_scope(engine) as s:
        due = s.execute(
            sa.select(Clock.id, Clock.case_id, Clock.name, Clock.kind, Clock.due_at,
                      Case.resident_id, Case.version, Case.last_seq, Case.last_hash, Case.state,
                      sa.cast(Case.data, sa.Text).label("data_text"))
            .join(Case, Case.id == Clock.case_id)
            .where(Clock.status == "pending", Clock.due_at <= NOW)
            .order_by(Clock.due_at, Clock.id)
        ).all()
        for row in due:
            if row.resident_id not in samples:
                with s.begin_nested() as nested:
                    clock = s.get_one(Clock, row.id)
                    wf.fire_clock(s, clock, NOW)
                    s.flush()
                    samples[row.resident_id] = [
                        {k: v for k, v in n._mapping.items() if k != "id"}
                        for n in s.execute(sa.select(NOTIFICATIONS).where(
                            NOTIFICATIONS.c.case_id == row.case_id,
                            NOTIFICATIONS.c.idempotency_key.like(f"clock:{row.id}:%")))
                    ]
                    nested.rollback()
                s.expunge_all()

    def moment(value: datetime) -> Any:
        # What UTCDateTime binds: aware on PostgreSQL, naive UTC text on SQLite.
        return value if pg else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def as_json(value: Any) -> Any:
        if pg:
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value)

    out: dict[str, list[tuple[Any, ...]]] = {"clocks": [], "cases": [], "events": [],
                                             "notifications": []}
    worker = "bench-floor"
    for row in due:
        seq, prev = row.last_seq + 1, row.last_hash or GENESIS
        trigger = f"clock:{row.name}"
        payload = {"clock": row.id, "kind": row.kind, "due_at": row.due_at.isoformat()}
        digest = event_hash(case_id=row.case_id, seq=seq, at=NOW, actor_id="system",
                            role="system", trigger=trigger, from_state=row.state,
                            to_state=row.state, payload=payload, prev_hash=prev)
        out["clocks"].append(("fired", worker, moment(NOW), moment(NOW), row.id))
        out["cases"].append((seq, digest, row.version + 1, row.case_id, row.version))
        out["events"].append((row.case_id, seq, moment(NOW), "system", "system", trigger,
                              row.state, row.state, as_json(payload), prev, digest))
        reference = rf"\g<1>{row.case_id}"
        for n in samples[row.resident_id]:
            key = n["idempotency_key"].split(":", 2)[2]
            out["notifications"].append((
                row.case_id, row.id, row.state, row.data_text,
                n["recipient_staff_id"], n["recipient_resident_id"],
                n["recipient_role"], n["channel_url"], n["kind"],
                rewrite(n["subject"], reference), rewrite(n["body"], reference),
                "pending", 0, moment(NOW), f"clock:{row.id}:{key}", moment(NOW), None, None,
                n["note"],
            ))
    return out


def rewrite(text: str | None, reference: str) -> str | None:
    """A sample's text for another case (a clock's notice has none until delivery)."""
    return None if text is None else CASE_REF.sub(reference, text)


FLOOR_SQL = {
    "clocks": "UPDATE clocks SET status = {p}, claimed_by = {p}, claimed_at = {p}, "
              "fired_at = {p} WHERE id = {p}",
    "cases": "UPDATE cases SET last_seq = {p}, last_hash = {p}, version = {p} "
             "WHERE id = {p} AND version = {p}",
    "events": "INSERT INTO case_events (case_id, seq, at, actor_id, role, trigger, from_state, "
              "to_state, payload, prev_hash, hash) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, "
              "{p}, {p}, {p}, {p})",
    "notifications": "INSERT INTO notifications (case_id, clock_id, case_state, case_data, "
                     "recipient_staff_id, recipient_resident_id, recipient_role, channel_url, "
                     "kind, subject, body, status, attempts, next_attempt_at, idempotency_key, "
                     "created_at, sent_at, last_error, note) VALUES ({p}, {p}, {p}, {p}, {p}, "
                     "{p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
}


def run_floor(engine: Engine) -> tuple[int, float]:
    """Raw executemany writes in one transaction: returns (clocks, seconds)."""
    rows = floor_rows(engine)
    placeholder = "%s" if engine.dialect.name == "postgresql" else "?"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        for name in ("clocks", "cases", "events", "notifications"):
            cursor.executemany(FLOOR_SQL[name].format(p=placeholder), rows[name])
        raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
    return len(rows["clocks"]), elapsed


# --- The sweep, and the idle sweep in its own process -----------------------------------------


def run_sweep(engine: Engine, batch: int) -> tuple[int, float]:
    # The floor's connection is open and its SQL written before its stopwatch starts. The
    # sweep gets what a running worker has: one sweep done (a month earlier, nothing due),
    # so its connection is open and its statements compiled.
    assert sweep_due_clocks(engine, NOW - timedelta(days=30), batch_size=batch).claimed == 0
    start = time.perf_counter()
    summary = sweep_due_clocks(engine, NOW, batch_size=batch)
    elapsed = time.perf_counter() - start
    if summary.failed or summary.deferred:
        raise SystemExit(f"sweep: {summary.failed} failed, {summary.deferred} deferred")
    return summary.fired, elapsed


def check(engine: Engine, due: int) -> None:
    """The sweep did what it claims: one event and one notification set per due clock."""
    with engine.connect() as conn:
        fired = conn.scalar(sa.select(sa.func.count()).where(CLOCKS.c.status == "fired"))
        events = conn.scalar(sa.select(sa.func.count()).where(
            EVENTS.c.trigger == "clock:plan_first_visit"))
        pending_due = conn.scalar(sa.select(sa.func.count()).where(
            CLOCKS.c.status == "pending", CLOCKS.c.due_at <= NOW))
        keys = conn.scalar(sa.select(sa.func.count(sa.distinct(NOTIFICATIONS.c.idempotency_key)))
                           .where(NOTIFICATIONS.c.idempotency_key.like("clock:%")))
        sample = conn.scalars(sa.select(CASES.c.id).order_by(CASES.c.id).limit(60)).all()
    if (fired, events, pending_due) != (due, due, 0) or (keys or 0) < due:
        raise SystemExit(f"check failed: fired {fired}, events {events}, still due {pending_due}, "
                         f"notifications {keys}")
    with session_scope(engine) as s:
        broken = [b for case_id in sample for b in iter_breaks(s, case_id)]
    if broken:
        raise SystemExit(f"the cloned cases do not verify: {broken[:3]}")


IDLE_PROBE = """
import json, resource, sys, time
from datetime import datetime
sys.path.insert(0, sys.argv[3])
from models.db import make_engine
from processes.sweep import sweep_due_clocks
engine = make_engine(sys.argv[1])
now = datetime.fromisoformat(sys.argv[2])
times = []
for _ in range(3):
    start = time.perf_counter()
    summary = sweep_due_clocks(engine, now)
    times.append(time.perf_counter() - start)
    assert summary.claimed == 0, summary
# Linux keeps in ru_maxrss the peak of the process that spawned us (here the bench, grown by
# the inserts); VmHWM is this program's own peak.
status = open("/proc/self/status").read() if sys.platform == "linux" else ""
hwm = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]
print(json.dumps({"times": times, "hwm_mb": hwm[0] / 1024 if hwm else None,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def idle_probe(url: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", IDLE_PROBE, url, NOW.isoformat(), str(ROOT)],
        capture_output=True, text=True, check=True,
    )
    return cast(dict[str, Any], json.loads(result.stdout.strip().splitlines()[-1]))


def due_plan(engine: Engine) -> str:
    """The plan of the sweep's claiming query: it must be an index probe, not a scan."""
    query = (sa.select(CLOCKS.c.id).where(CLOCKS.c.status == "pending", CLOCKS.c.due_at <= NOW)
             .order_by(CLOCKS.c.due_at, CLOCKS.c.id).limit(1000))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + str(compiled)).all()
    return " | ".join(str(r[-1]) for r in rows)


# --- Main -------------------------------------------------------------------------------------


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench(label: str, url_for: UrlFor, args: argparse.Namespace) -> None:
    print(f"\n{label}: {args.cases:,} open hygiene cases, {args.due:,} clocks due, "
          f"batches of {args.batch}")
    base_url = url_for("base")
    create_database(base_url, args.postgres_url)
    engine = make_engine(base_url)
    start = time.perf_counter()
    populate(engine, args.cases, args.due)
    print(f"  populated in {time.perf_counter() - start:.1f} s (bulk clones of engine rows)")
    engine.dispose()

    # Each run on fresh copies, the floor then the sweep: this machine's speed drifts by a
    # third from one minute to the next, so one pair of figures says little on its own.
    floors, sweeps = [], []
    for run in range(1, args.repeat + 1):
        floor_url, sweep_url = url_for(f"floor{run}"), url_for(f"sweep{run}")
        copy_database(base_url, floor_url, args.postgres_url)
        copy_database(base_url, sweep_url, args.postgres_url)
        floor_engine = make_engine(floor_url)
        floor_count, floor_s = run_floor(floor_engine)
        floor_engine.dispose()
        drop_database(floor_url, args.postgres_url)
        engine = make_engine(sweep_url)
        fired, sweep_s = run_sweep(engine, args.batch)
        check(engine, args.due)
        if floor_count != fired:
            raise SystemExit(f"floor wrote {floor_count} clocks, the sweep fired {fired}")
        floors.append(rate(floor_count, floor_s))
        sweeps.append(rate(fired, sweep_s))
        print(f"  run {run}: raw SQL floor {floor_s:5.2f} s {floors[-1]:>8,.0f} clocks/s; "
              f"sweep_due_clocks {sweep_s:5.2f} s {sweeps[-1]:>8,.0f} clocks/s "
              f"= {sweeps[-1] / floors[-1]:.0%} of the floor")
        if run < args.repeat:
            engine.dispose()
            drop_database(sweep_url, args.postgres_url)
    floor_rate, sweep_rate = statistics.median(floors), statistics.median(sweeps)
    shares = ", ".join(f"{s / f:.0%}" for f, s in zip(floors, sweeps, strict=True))
    print(f"  median of {args.repeat}: raw SQL floor {floor_rate:,.0f} clocks/s, "
          f"sweep_due_clocks {sweep_rate:,.0f} clocks/s = {sweep_rate / floor_rate:.0%} of the "
          f"floor (each run: {shares})")

    if args.idle_cases > args.cases:
        start = time.perf_counter()
        fresh = open_templates(engine, REPORTED_FRESH)
        insert_clones(engine, fresh, args.idle_cases - args.cases)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        print(f"  grown to {args.idle_cases:,} cases in {time.perf_counter() - start:.1f} s")
    with engine.connect() as conn:
        cases = conn.scalar(sa.select(sa.func.count()).select_from(CASES))
        clocks = conn.scalar(sa.select(sa.func.count()).select_from(CLOCKS))
    print(f"  claiming query plan: {due_plan(engine)}")
    engine.dispose()
    probe = idle_probe(sweep_url)
    print(f"  idle sweep over {cases:,} cases ({clocks:,} clocks, none due): "
          + ", ".join(f"{t * 1000:.0f} ms" for t in probe["times"])
          + f"; peak memory of that process {probe['hwm_mb'] or probe['maxrss_mb']:.0f} MB "
          f"(VmHWM; its ru_maxrss, which counts the bench that spawned it: "
          f"{probe['maxrss_mb']:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--idle-cases", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000, help="the flow's batch size")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--repeat", type=int, default=3, help="floor and sweep runs, each on "
                        "fresh copies; the medians are compared")
    args = parser.parse_args()
    if not 0 < args.due <= args.cases:
        parser.error("--due must be between 1 and --cases")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.backend in ("sqlite", "both"):
        with sqlite_databases() as sqlite_url_for:
            bench("SQLite (file, WAL)", sqlite_url_for, args)
    if args.backend in ("postgresql", "both"):
        with postgres_databases(args.postgres_url) as pg_url_for:
            if pg_url_for is not None:
                bench("PostgreSQL (127.0.0.1)", pg_url_for, args)
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this bench process: {usage:.0f} MB")


if __name__ == "__main__":
    main()
