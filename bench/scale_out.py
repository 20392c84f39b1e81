"""Several sweeps at once on one PostgreSQL: how the wall time goes with 1, 2, 4 sweepers.

    .venv/bin/python bench/scale_out.py [--due 20000] [--cases 20000] [--sweepers 1,2,4]
                                        [--batch 1000] [--repeat 1]

A database with `--cases` open hygiene cases, `--due` of them with their first reminder due,
is made once (the cloned rows of bench/sweep.py) on the local PostgreSQL server; each run
works on a fresh copy of it. N sweepers are N processes, as N Prefect workers would be, each
running `processes.sweep.sweep_due_clocks` (what the `followup_sweep` flow runs) with its
connection open and its statements compiled (one idle sweep first); all start together, and
the wall time runs from then until the last one ends. Printed per run: wall time, clocks per
second, what each sweeper fired, deferred clocks; then the check that every due clock fired
exactly once, with one event and its notices.

PostgreSQL runs on the same machine as the sweepers: on 2 cores, 4 sweepers and the server
share them.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import statistics
import sys
import time
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from models.db import make_engine  # noqa: E402


def bench_sweep() -> Any:
    """bench/sweep.py, for its database helpers and its cloned rows."""
    spec = importlib.util.spec_from_file_location("bench_sweep", ROOT / "bench" / "sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sweep"] = module
    spec.loader.exec_module(module)
    return module


def sweeper(url: str, batch: int, name: str, start: Barrier, out: Any) -> None:
    """One worker's sweep, in its own process."""
    from processes.sweep import sweep_due_clocks

    shared = bench_sweep()
    engine = make_engine(url)
    assert sweep_due_clocks(engine, shared.NOW - timedelta(days=30), batch_size=batch).claimed == 0
    start.wait()
    began = time.perf_counter()
    summary = sweep_due_clocks(engine, shared.NOW, batch_size=batch, worker=name)
    out.put((name, summary.fired, summary.deferred, summary.failed, began,
             time.perf_counter()))
    engine.dispose()


def run(url: str, sweepers: int, batch: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(sweepers + 1)
    out = context.Queue()
    processes = [context.Process(target=sweeper, args=(url, batch, f"s{i + 1}", start, out))
                 for i in range(sweepers)]
    for p in processes:
        p.start()
    start.wait()  # every sweeper warmed up and waiting
    released = time.perf_counter()
    results = [out.get(timeout=600) for _ in processes]
    ended = max(r[5] for r in results)
    for p in processes:
        p.join()
    fired = sum(r[1] for r in results)
    wall = ended - released
    return {
        "wall": wall, "fired": fired, "rate": fired / wall,
        "each": sorted((r[0], r[1]) for r in results),
        "deferred": sum(r[2] for r in results), "failed": sum(r[3] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=20_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--sweepers", default="1,2,4")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--postgres", default=None, help="admin URL (default: the tests')")
    args = parser.parse_args()
    shared = bench_sweep()
    admin = args.postgres or shared.DEFAULT_PG
    counts = [int(n) for n in args.sweepers.split(",")]

    with shared.postgres_databases(admin) as url_for:
        if url_for is None:
            raise SystemExit("PostgreSQL is needed")
        template = url_for("scale_template")
        shared.create_database(template, admin)
        engine = make_engine(template)
        started = time.perf_counter()
        shared.populate(engine, args.cases, args.due)
        engine.dispose()
        print(f"{args.cases:,} cases, {args.due:,} clocks due, batches of {args.batch}: "
              f"made in {time.perf_counter() - started:.1f} s")
        print("sweepers | wall (s) | clocks/s | fired by each | deferred")
        rates: dict[int, list[float]] = {n: [] for n in counts}
        for attempt in range(args.repeat):
            for n in counts:
                url = url_for(f"scale_{n}_{attempt}")
                shared.copy_database(template, url, admin)
                result = run(url, n, args.batch)
                copy = make_engine(url)
                shared.check(copy, args.due)
                copy.dispose()
                shared.drop_database(url, admin)
                if result["failed"] or result["fired"] != args.due:
                    raise SystemExit(f"{n} sweepers: {result}")
                rates[n].append(result["rate"])
                each = ", ".join(f"{fired:,}" for _, fired in result["each"])
                print(f"{n:8} | {result['wall']:8.2f} | {result['rate']:8,.0f} | {each} | "
                      f"{result['deferred']}")
        if args.repeat > 1:
            print("medians: " + ", ".join(
                f"{n} sweeper(s) {statistics.median(r):,.0f} clocks/s" for n, r in rates.items()))
        with sa.create_engine(admin).connect() as conn:
            print("PostgreSQL", conn.scalar(sa.text("SHOW server_version")),
                  "| cores:", multiprocessing.cpu_count())


if __name__ == "__main__":
    main()
