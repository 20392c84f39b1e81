"""The production path on real processes, as the README's deploy section types it.

`prefect server start` from this venv on a free 127.0.0.1 port with its own PREFECT_HOME, the
work pool, `prefect deploy --all` from prefect.yaml, and the server's own scheduler creating
`Scheduled` runs for every deployment; then `prefect worker start` with only the variables of
deploy/suivi.env.example, running a sweep and a delivery that reaches a webhook. And `suivi
serve`, which starts its own server: its schedules produce runs, SIGTERM stops both.

Nothing else in the suite runs Prefect's scheduler (the test harness does not): this file is
what fails when a dependency breaks scheduling again (SQLAlchemy 2.1 with prefect 3.8 did).
The two servers start side by side so that their start-ups (15-40 s each here) overlap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from conftest import DIRECTORY, _reset_postgres, at
from hygiene_walk import report_breach
from receivers import HttpReceiver, free_port, http_receiver, import_channels  # noqa: F401
from sqlalchemy import select

from models.cases import Clock, Notification
from models.db import make_engine, session_scope
from models.directory_io import import_directory, load_directory_file
from models.migrate import upgrade
from processes.sweep import sweep_due_clocks

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
ENV_EXAMPLE = ROOT / "deploy" / "suivi.env.example"
# Every deployment of prefect.yaml, as `prefect deploy --all` and `suivi serve` read it.
DEPLOYMENTS = {
    d["name"] for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
}
PARIS = ZoneInfo("Europe/Paris")
STARTUP_S = 150.0
SCHEDULED_WITHIN_S = 90.0
RUN_WITHIN_S = 120.0
BUSY_RETRIES = 6
T = TypeVar("T")


def documented_env(**values: str) -> dict[str, str]:
    """deploy/suivi.env.example, with these values for names it lists, and nothing else but
    PATH and HOME: what a systemd unit with that EnvironmentFile gives a service."""
    env: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    unknown = set(values) - set(env)
    assert not unknown, f"not in {ENV_EXAMPLE.name}: {unknown}"
    return {**env, **values, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": values.get("PREFECT_HOME", "/tmp")}


def wait_for(what: str, probe: Callable[[], T | None], timeout: float,
              alive: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if alive is not None and alive.poll() is not None:
            pytest.fail(f"{what}: the process stopped ({alive.returncode})\n{tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: nothing after {timeout:.0f} s\n{tail(log)}")
        time.sleep(0.5)


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def start(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # Its own process group: stopping it stops what it started (uvicorn, flow runs).
        return subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen[bytes], sig: signal.Signals, timeout: float = 30) -> int:
    """`sig` to the process; the whole group is killed if it is still there after `timeout`."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return -9
    with contextlib.suppress(ProcessLookupError):  # anything it left behind in its group
        os.killpg(process.pid, signal.SIGKILL)
    return int(process.returncode)


@dataclass
class Api:
    """Prefect's REST API, in a few JSON calls (no prefect import in the test process)."""

    url: str

    def call(self, path: str, body: dict[str, Any] | None = None, method: str = "") -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method or ("GET" if body is None else "POST"),
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        # Prefect's server answers 503 while its own database is busy (its scheduler writing
        # runs); Prefect's client retries those, and so does this one, a few times.
        for attempt in range(BUSY_RETRIES):
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt == BUSY_RETRIES - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def healthy(self) -> bool:
        try:
            return bool(self.call("/health"))
        except (urllib.error.URLError, OSError):
            return False

    def deployments(self) -> dict[str, dict[str, Any]]:
        return {d["name"]: d for d in self.call("/deployments/filter", {})}

    def scheduled_runs(self) -> dict[str, list[dict[str, Any]]]:
        """`Scheduled` runs by deployment name, made by the server's scheduler."""
        names = {d["id"]: name for name, d in self.deployments().items()}
        # One query per deployment: the sweep's and delivery's hundred runs each would fill
        # one shared page before the monthly export's three.
        runs = [run for deployment_id in names for run in self.call("/flow_runs/filter", {
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}},
                          "deployment_id": {"any_": [deployment_id]}},
            "limit": 20,
        })]
        found: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            if run.get("auto_scheduled"):
                found.setdefault(names[run["deployment_id"]], []).append(run)
        return found

    def run(self, deployment: str, parameters: dict[str, Any]) -> str:
        """A run of `deployment` now, as `prefect deployment run` or the UI make it."""
        created = self.call(f"/deployments/{self.deployments()[deployment]['id']}/create_flow_run",
                            {"parameters": parameters})
        return str(created["id"])

    def pause_schedules(self, paused: bool) -> None:
        """Pausing stops new runs; a run whose time has already come stays `Scheduled`
        (late) and a worker would take it: those are deleted too."""
        for deployment in self.deployments().values():
            self.call(f"/deployments/{deployment['id']}", {"paused": paused}, method="PATCH")
        if paused:
            for runs in self.scheduled_runs().values():
                for run in runs:
                    self.call(f"/flow_runs/{run['id']}", method="DELETE")

    def final_state(self, run_id: str) -> str | None:
        state = self.call(f"/flow_runs/{run_id}")["state"]
        return str(state["type"]) if state and state["type"] in {
            "COMPLETED", "FAILED", "CRASHED", "CANCELLED"} else None


@dataclass
class Servers:
    api: Api
    home: Path
    log: Path
    serve: subprocess.Popen[bytes]
    serve_log: Path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Our `prefect server start`, and `suivi serve` with the server it starts for itself."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}/api")
    log = home / "server.log"
    server = start(
        [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        documented_env(PREFECT_HOME=str(home / "home"), PREFECT_API_URL=api.url), log, cwd=home,
    )

    serve_dir = tmp_path_factory.mktemp("suivi-serve")
    database = f"sqlite:///{serve_dir / 'suivi.db'}"
    serve_env = documented_env(PREFECT_HOME=str(serve_dir / "prefect"),
                               SUIVI_DATABASE_URL=database,
                               SUIVI_CONSOLE_LOG=str(serve_dir / "console.log"))
    del serve_env["PREFECT_API_URL"]  # `suivi serve` starts its own server
    serve_log = serve_dir / "serve.log"
    serve = start([str(VENV_BIN / "suivi"), "serve"], serve_env, serve_log, cwd=ROOT)
    # Its flows may fire on their real schedules while the test runs: give them a database.
    engine = make_engine(database)
    upgrade(engine)
    engine.dispose()
    try:
        wait_for("prefect server start", api.healthy, STARTUP_S, alive=server, log=log)
        yield Servers(api, home, log, serve, serve_log)
    finally:
        stop(serve, signal.SIGTERM)
        # `prefect server start` passes SIGTERM on to uvicorn, then ends by it (-15).
        assert stop(server, signal.SIGTERM) in {0, -signal.SIGTERM}, tail(log)


@pytest.fixture(scope="module")
def deployed(servers: Servers) -> Api:
    """The README's two commands, in the clone, against our server."""
    env = documented_env(PREFECT_HOME=str(servers.home / "home"), PREFECT_API_URL=servers.api.url)
    for command in (["work-pool", "create", "suivi-process", "--type", "process"],
                    ["deploy", "--all"]):
        done = subprocess.run([str(VENV_BIN / "prefect"), *command], env=env, cwd=ROOT,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=180)
        assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    return servers.api


def test_the_server_schedules_every_deployment_of_prefect_yaml_in_paris_time(
    deployed: Api, servers: Servers,
) -> None:
    deployments = deployed.deployments()
    assert set(deployments) == DEPLOYMENTS
    for deployment in deployments.values():
        # The clone's directory, recorded by `prefect deploy`: a worker needs no variable.
        assert deployment["pull_steps"] == [{
            "prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}
        }]
        assert deployment["work_pool_name"] == "suivi-process"

    runs = wait_for("Scheduled runs for each deployment",
                    lambda: (lambda r: r if set(r) == DEPLOYMENTS else None)(
                        deployed.scheduled_runs()),
                    SCHEDULED_WITHIN_S, log=servers.log)

    def paris(run: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(run["expected_start_time"]).astimezone(PARIS)

    agenda = [paris(r) for r in runs["daily-agenda"]]
    assert agenda and all((t.hour, t.minute, t.weekday() < 5) == (7, 30, True) for t in agenda)
    sweeps = [paris(r) for r in runs["followup-sweep"]]
    assert all(t.minute % 15 == 0 and (7 <= t.hour <= 19 or (t.hour, t.minute) == (20, 0))
               for t in sweeps)
    assert all(paris(r).minute % 5 == 0 for r in runs["deliver-notifications"])
    assert all((paris(r).hour, paris(r).minute) == (2, 30) for r in runs["audit-checkpoint"])
    assert all((paris(r).day, paris(r).hour, paris(r).minute) == (1, 6, 0)
               for r in runs["monthly-exports"])
    assert all((paris(r).day, paris(r).hour, paris(r).minute) == (2, 4, 0)
               for r in runs["retention"])


def test_a_worker_with_the_documented_environment_runs_a_sweep_and_a_delivery(
    deployed: Api, servers: Servers, postgres_server: sa.URL, http_receiver: HttpReceiver,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = postgres_server.render_as_string(hide_password=False)
    engine = make_engine(url)
    _reset_postgres(engine)
    upgrade(engine)
    with session_scope(engine) as s:
        import_directory(s, load_directory_file(DIRECTORY))
    import_channels(engine, {"gs-viala": [http_receiver.url("gs-viala")]})
    with session_scope(engine) as s:
        # Reported on Monday 23 November 2026: the reminder to plan a visit fell due on the
        # 30th at 09:00 and an earlier sweep queued it for the site manager's webhook.
        reminded = report_breach(s, "r-0001", "2026-11-23").id
        # Reported on Tuesday 24: its reminder falls due on Tuesday 1 December at 09:00.
        due_tuesday = report_breach(s, "r-0003", "2026-11-24").id
    assert sweep_due_clocks(engine, at("2026-11-30 09:00")).fired == 1

    # Only our two runs, at the moments they name: the real-time schedules wait meanwhile.
    deployed.pause_schedules(True)
    # Both runs at once, as the schedules would have them: the worker takes both.
    sweep = deployed.run("followup-sweep", {"now": "2026-12-01T10:00:00+01:00"})
    delivery = deployed.run("deliver-notifications", {"now": "2026-11-30T10:05:00+01:00"})
    log = tmp_path / "worker.log"
    # Started away from the clone, with the env file's names only: the pull step finds the code.
    worker = start([str(VENV_BIN / "prefect"), "worker", "start", "--pool", "suivi-process"],
                   documented_env(SUIVI_DATABASE_URL=url, PREFECT_API_URL=deployed.url,
                                  PREFECT_HOME=str(tmp_path / "prefect"),
                                  SUIVI_CONSOLE_LOG=str(tmp_path / "console.log")),
                   log, cwd=tmp_path)
    try:
        for run in (sweep, delivery):
            assert wait_for("the runs", lambda run=run: deployed.final_state(run),
                            RUN_WITHIN_S, alive=worker, log=log) == "COMPLETED", tail(log)
    finally:
        # A worker ignores SIGTERM's default meaning; SIGINT stops it (deploy/ units say so).
        stopped = stop(worker, signal.SIGINT)
        deployed.pause_schedules(False)
    assert stopped != -9, f"the worker did not stop on SIGINT\n{tail(log)}"

    assert [(p.path, p.payload["title"]) for p in http_receiver.posts] == [
        ("/gs-viala", f"[C-{reminded}] Planifier la 1re visite")]
    with session_scope(engine) as s:
        fired = s.execute(select(Clock.case_id, Clock.fired_at).where(
            Clock.name == "plan_first_visit", Clock.status == "fired")).all()
        assert sorted(fired) == [(reminded, at("2026-11-30 09:00")),
                                 (due_tuesday, at("2026-12-01 10:00"))]
        sent = s.execute(select(Notification.case_id, Notification.status)).all()
        assert sorted(sent) == [(reminded, "sent"), (due_tuesday, "pending")]
    engine.dispose()


def test_suivi_serve_schedules_its_flows_and_sigterm_stops_it_and_its_server(
    servers: Servers,
) -> None:
    def announced() -> str | None:
        for line in tail(servers.serve_log, 200).splitlines():
            if line.startswith("serveur Prefect : http://"):
                return line.split(" : ", 1)[1].strip()
        return None

    base = wait_for("suivi serve's server", announced, STARTUP_S, alive=servers.serve,
                    log=servers.serve_log)
    api = Api(f"{base}/api")
    runs = wait_for("Scheduled runs of suivi serve",
                    lambda: (lambda r: r if set(r) == DEPLOYMENTS else None)(api.scheduled_runs()),
                    SCHEDULED_WITHIN_S, alive=servers.serve, log=servers.serve_log)
    assert all(runs[name] for name in DEPLOYMENTS)

    code = stop(servers.serve, signal.SIGTERM, timeout=40)

    assert code == 0, tail(servers.serve_log)
    assert "serveur Prefect local arrêté" in tail(servers.serve_log)
    assert not api.healthy()
