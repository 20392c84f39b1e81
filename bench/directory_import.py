"""How long `suivi directory import` takes for a large organisation, and how much memory.

    .venv/bin/python bench/directory_import.py [--residents 100000] [--keep FILE]
                                 [--backend sqlite|postgresql|both] [--postgres-url URL]

Writes a directory file of N residents (one dwelling each, 500 sites, 1,000 staff, half the
residents with a contact), then runs the real command, `suivi directory import FILE`, in a
process of its own on a freshly upgraded database: once on the empty database (every row
created), once more with the same file (every row updated: the idempotent re-run). Prints
the wall time of each run, start-up included, and the process's peak resident memory.
Targets (issue 12.6 / 14.8): 100,000 residents in at most 30 s and 500 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from models.db import make_engine, normalise_url  # noqa: E402
from models.migrate import upgrade  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SITES = 500
STAFF = 1_000


def write_directory(path: Path, residents: int) -> None:
    """A directory file as an association of this size would write it (flow style, one line
    a row), written directly: yaml.dump would take longer than the import."""
    with path.open("w", encoding="utf-8") as out:
        out.write(
            "organisation: {name: Association Horizon (banc d'essai), timezone: Europe/Paris}\n"
            "landlords:\n  - {id: 13habitat, name: 13 Habitat}\n  - {id: unicil, name: UNICIL}\n"
        )
        out.write("sites:\n")
        for s in range(SITES):
            landlord = "13habitat" if s % 2 else "unicil"
            out.write(
                f"  - {{id: site-{s:03}, name: Résidence {s}, kind: residence, "
                f"landlord: {landlord}, town: Marseille}}\n"
            )
        out.write("dwellings:\n")
        for n in range(residents):
            out.write(
                f"  - {{id: log-{n:06}, site: site-{n % SITES:03}, label: Logement {n}}}\n"
            )
        out.write("staff:\n")
        for p in range(STAFF):
            sites = ", ".join(f"site-{(p + k) % SITES:03}" for k in range(3))
            out.write(f"  - {{id: gs-{p:04}, name: Personne {p}, role: gs, sites: [{sites}]}}\n")
        out.write("  - {id: dgls-1, name: Direction, role: dgls, sites: all}\n")
        out.write("residents:\n")
        for n in range(residents):
            contact = (
                f", contact: {{email: r{n}@example.org, phone: '06{n:08}'}}, consent: true"
                if n % 2
                else ""
            )
            out.write(
                f"  - {{id: r-{n:06}, name: Résident·e {n}, dwelling: log-{n:06}{contact}}}\n"
            )


def run_import(url: str, path: Path) -> tuple[float, float]:
    """`suivi directory import` in a process of its own: wall seconds and peak RSS in MB."""
    env = {**os.environ, "SUIVI_DATABASE_URL": url}
    started = time.perf_counter()
    # A fresh interpreter per run, so that ru_maxrss of the children is this run's alone.
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'suivi.cli', 'directory', 'import', "
        "'--json', sys.argv[1]], capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, cwd=ROOT, capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    returncode, peak_kb = done.stdout.split()
    if returncode != "0":
        raise SystemExit(f"import failed ({returncode}): {done.stderr}")
    return seconds, int(peak_kb) / 1024


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    url = f"sqlite:///{folder / 'suivi.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL skipped: {error.orig}")
        yield None
        return
    name = f"suivi_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(normalise_url(admin_url)).set(database=name)
    try:
        engine = make_engine(url.render_as_string(hide_password=False))
        upgrade(engine)
        engine.dispose()
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(label: str, url: str, path: Path, residents: int) -> None:
    first, first_mb = run_import(url, path)
    again, again_mb = run_import(url, path)
    print(
        f"{label:<10} {residents:,} residents: created in {first:5.1f} s "
        f"(peak {first_mb:4.0f} MB), re-imported (all updated) in {again:5.1f} s "
        f"(peak {again_mb:4.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument("--keep", type=Path, help="also keep the generated file here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="suivi-bench-") as tmp:
        folder = Path(tmp)
        path = args.keep or folder / "annuaire.yaml"
        started = time.perf_counter()
        write_directory(path, args.residents)
        size_mb = path.stat().st_size / 1e6
        print(
            f"directory file: {args.residents:,} residents and dwellings, {SITES} sites, "
            f"{STAFF + 1} staff, {size_mb:.1f} MB, written in {time.perf_counter() - started:.1f} s"
        )
        if args.backend in ("sqlite", "both"):
            with sqlite_database(folder) as url:
                report("SQLite", url, path, args.residents)
        if args.backend in ("postgresql", "both"):
            with postgres_database(args.postgres_url) as pg_url:
                if pg_url:
                    report("PostgreSQL", pg_url, path, args.residents)
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
