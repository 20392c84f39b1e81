"""How long the command line takes to answer, start-up included, as a person at a terminal.

    .venv/bin/python bench/startup.py [--runs 7]

Times `suivi --help`, `suivi case show 1` and `suivi case list` (each a fresh process of the
installed entry point, on a throwaway SQLite database holding the test directory and one
case), prints the median and the fastest run, the CPU time of the median run, and what the
slowest imports cost (`python -X importtime`). Targets (issue 12.6): `suivi --help` at most
0.5 s, `suivi case show` at most 0.8 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUIVI = Path(sys.executable).with_name("suivi")
DIRECTORY = ROOT / "tests" / "data" / "directory.yaml"
COMMANDS = {
    "suivi --help": ["--help"],
    "suivi case show 1": ["case", "show", "1"],
    "suivi case list": ["case", "list"],
}


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(SUIVI), *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"suivi {' '.join(args)} failed: {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def slowest_imports(args: list[str], env: dict[str, str], count: int = 6) -> str:
    """The top-level packages that cost the most to import, cumulative microseconds."""
    code = "import sys; from suivi.cli import main; sys.argv = ['suivi', *sys.argv[1:]]; main()"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        env=env, capture_output=True, text=True,
    )
    costs: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # imported by the script
            top = name.strip().split(".")[0]
            costs[top] = costs.get(top, 0) + int(cumulative)
    ranked = sorted(costs.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in ranked)


def prepare(folder: Path) -> dict[str, str]:
    env = {**os.environ, "SUIVI_DATABASE_URL": f"sqlite:///{folder / 'suivi.db'}"}
    for args in (
        ["db", "upgrade"],
        ["directory", "import", str(DIRECTORY)],
        ["case", "open", "hygiene", "--resident", "r-0001", "--actor", "gs-viala",
         "--now", "2026-11-23T09:00", "--data", "observed_at=2026-11-20T10:00",
         "--data", "description=odeurs"],
    ):
        run(args, env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="suivi-startup-") as tmp:
        env = prepare(Path(tmp))
        for label, command in COMMANDS.items():
            run(command, env)  # warm the file cache and the bytecode
            samples = sorted(run(command, env) for _ in range(args.runs))
            median_wall, median_cpu = samples[len(samples) // 2]
            print(
                f"{label:<20} median {median_wall:5.2f} s (CPU {median_cpu:4.2f} s), "
                f"fastest {samples[0][0]:5.2f} s over {args.runs} runs"
            )
            print(f"{'':<20} slowest imports: {slowest_imports(command, env)}")
    load = os.getloadavg()[0]
    print(f"load average during the run: {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
