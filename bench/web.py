"""How fast the pages answer, served by a real uvicorn on the demo database.

    .venv/bin/python bench/web.py [--base var/demo.db] [--rounds 40]

Copies the demo database (`suivi demo` builds var/demo.db) to a temporary file, gives a site
manager and a director a password, starts `suivi web` on a free 127.0.0.1 port and asks each
page in turn, `--rounds` times (several hundred requests in all): the agenda, the case list
(plain and searched), case pages, resident pages, the direction's dashboard, my messages.
Prints p50, p95 and max per page in milliseconds, as the client measured them (network on
loopback included). Target (issue 10): under 100 ms p95 on SQLite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SUIVI = Path(sys.executable).parent / "suivi"
PASSWORD = "banc d'essai des pages"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def staff_of(env: dict[str, str], role: str) -> str:
    """The first active staff member of a role, from the directory (`--json`)."""
    import json

    shown = subprocess.run([str(SUIVI), "directory", "show", "--json"], env=env, check=True,
                           capture_output=True, text=True).stdout
    staff = json.loads(shown)["staff"]
    return next(s["id"] for s in staff if s["role"] == role and s.get("active", True))


def log_in(client: httpx.Client, staff: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the log-in page"
    answer = client.post("/login", data={"csrf_token": token.group(1), "staff_id": staff,
                                         "password": PASSWORD, "next": "/"})
    assert answer.status_code in (200, 303) and "/login" not in str(answer.url), answer.text[:300]


def ids(text: str, prefix: str) -> list[str]:
    return sorted(set(re.findall(rf'href="{prefix}([^"?/]+)"', text)))


def timed(client: httpx.Client, path: str, samples: dict[str, list[float]], page: str) -> None:
    start = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{path}: HTTP {answer.status_code}")
    samples.setdefault(page, []).append(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default=str(ROOT / "var" / "demo.db"))
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    if not Path(args.base).exists():
        raise SystemExit(f"{args.base} is missing: run `suivi demo` (or make demo) first")
    folder = Path(tempfile.mkdtemp(prefix="suivi-bench-web-"))
    db = folder / "demo.db"
    shutil.copy(args.base, db)
    env = dict(os.environ, SUIVI_DATABASE_URL=f"sqlite:///{db}",
               SUIVI_SECRET_KEY="bench-" + "x" * 40)
    # A demo database built before the web's migration gets it on the copy.
    subprocess.run([str(SUIVI), "db", "upgrade"], env=env, check=True, capture_output=True)
    gs, director = staff_of(env, "gs"), staff_of(env, "dgls")
    for staff in (gs, director):
        subprocess.run([str(SUIVI), "user", "set-password", staff, "--password-stdin"],
                       input=PASSWORD + "\n", text=True, env=env, check=True,
                       capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(SUIVI), "web", "--host", "127.0.0.1", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("suivi web did not start")
        samples: dict[str, list[float]] = {}
        with httpx.Client(base_url=base, follow_redirects=True) as as_gs, \
                httpx.Client(base_url=base, follow_redirects=True) as as_director:
            log_in(as_gs, gs)
            log_in(as_director, director)
            listing = as_director.get("/cases").text
            cases = ids(listing, "/cases/")[:20]
            residents = ids(listing, "/residents/")[:20]
            for round_number in range(args.rounds):
                timed(as_gs, "/", samples, "agenda (gs)")
                timed(as_director, "/", samples, "agenda (dgls)")
                timed(as_director, "/cases", samples, "case list")
                timed(as_director, "/cases?q=a&process=hygiene", samples, "case list, searched")
                timed(as_director, f"/cases/{cases[round_number % len(cases)]}", samples,
                      "case page")
                timed(as_director, f"/residents/{residents[round_number % len(residents)]}",
                      samples, "resident page")
                timed(as_director, "/direction", samples, "dashboard")
                timed(as_gs, "/messages", samples, "my messages")
        total = sum(len(v) for v in samples.values())
        print(f"suivi web on a copy of {args.base}: {total} requests, {len(cases)} cases, "
              f"{len(residents)} residents")
        print(f"{'page':<22} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for page, values in samples.items():
            values.sort()
            p95 = values[max(0, int(len(values) * 0.95) - 1)]
            print(f"{page:<22} {len(values):>4} {statistics.median(values):>8.1f} "
                  f"{p95:>8.1f} {values[-1]:>8.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
