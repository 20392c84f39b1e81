"""How long the JSON API answers on the demo database, in process (the app and the database,
not the network).

    .venv/bin/python bench/api.py [--base var/demo.db] [--requests 300]

Works on a copy of the demo's database (`suivi demo` makes it), so the demo stays as it was.
The server's time is the moment of the database's last event, so that the agenda has the
demo's last day on it. For a site manager (gs) and a director (dgls), times GET /api/agenda,
GET /api/cases, GET /api/cases/{id} and GET /api/residents/{id} (ids taken in turn among the
cases that person may read) and prints mean, p50, p95 and max in milliseconds.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from models.cases import Case, CaseEvent  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from processes.authentication import new_token  # noqa: E402
from processes.read_policy import load_viewer, visible_cases  # noqa: E402
from suivi.web.app import create_app  # noqa: E402

PEOPLE = ("gs-balthazar-1", "dgls-rey")


def timed(call: Callable[[int], int], count: int) -> list[float]:
    times = []
    for n in range(count):
        start = time.perf_counter()
        status = call(n)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    return times


def line(label: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (f"{label:<34} mean {statistics.mean(times):7.2f}  p50 {statistics.median(times):7.2f}"
            f"  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms  ({len(times)} requests)")


def bench_person(
    client: TestClient, token: str, cases: list[tuple[int, str]], count: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> int:
        return client.get(path, headers=headers).status_code

    get("/api/agenda")  # the first request compiles templates and statements
    for label, call in (
        ("GET /api/agenda", lambda n: get("/api/agenda")),
        ("GET /api/cases (open, 200 max)", lambda n: get("/api/cases")),
        ("GET /api/cases/{id}", lambda n: get(f"/api/cases/{cases[n % len(cases)][0]}")),
        ("GET /api/residents/{id}", lambda n: get(f"/api/residents/{cases[n % len(cases)][1]}")),
    ):
        print("  " + line(label, timed(call, count)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, default=ROOT / "var" / "demo.db")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if not args.base.exists():
        sys.exit(f"{args.base} absent : lancez d'abord `suivi demo`")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "demo.db"
        # SQLite's backup API: the copy includes what is still in the demo's WAL file.
        with sqlite3.connect(args.base) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        engine = make_engine(f"sqlite:///{copy}")
        with session_scope(engine) as s:
            now = s.scalar(select(func.max(CaseEvent.at)))
            total = s.scalar(select(func.count()).select_from(Case))
            assert now is not None
            tokens = {p: new_token(s, p, now=now, by="bench") for p in PEOPLE}
            readable = {}
            for person in PEOPLE:
                viewer = load_viewer(s, person)
                readable[person] = list(s.execute(
                    select(Case.id, Case.resident_id).where(visible_cases(viewer))
                    .order_by(Case.id)
                ).tuples().all())
        app = create_app(engine, secret_key="bench-" + "x" * 40, production=False,
                         clock=lambda: now)
        client = TestClient(app)
        print(f"demo database: {total} cases; server time {now.isoformat()}")
        for person in PEOPLE:
            print(f"{person}: {len(readable[person])} cases readable")
            bench_person(client, tokens[person], readable[person], args.requests)
        engine.dispose()


if __name__ == "__main__":
    main()
