"""`suivi serve`: the deployments of prefect.yaml on their schedules, in this one process.

`serve` needs a real Prefect server (the temporary one never creates scheduled runs). Without
`PREFECT_API_URL` one is started here on 127.0.0.1, its files under ./var/prefect, and stopped
on the way out. The schedules are read from prefect.yaml so that they live in one place.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow, serve
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import PREFECT_STATE, require_prefect_api

ROOT = Path(__file__).resolve().parents[1]
PREFECT_YAML = ROOT / "prefect.yaml"
HEALTH_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Planned:
    """One deployment of prefect.yaml."""

    name: str
    entrypoint: str
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[dict[str, Any], ...] = ()


def planned_deployments(path: Path = PREFECT_YAML) -> list[Planned]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Planned(
            name=d["name"], entrypoint=d["entrypoint"], description=d.get("description") or "",
            tags=tuple(d.get("tags") or ()), parameters=dict(d.get("parameters") or {}),
            schedules=tuple(d.get("schedules") or ()),
        )
        for d in spec["deployments"]
    ]


def load_flow(entrypoint: str) -> object:
    """`flows/sweep.py:followup_sweep` -> what that module calls so (a flow, unless wrong)."""
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def schedules_of(planned: Planned) -> list[Any]:
    return [
        Cron(s["cron"], timezone=s.get("timezone", "Europe/Paris"), slug=s.get("slug"),
             active=s.get("active", True), parameters=s.get("parameters") or {})
        for s in planned.schedules
    ]


def runner_deployments(planned: list[Planned]) -> tuple[list[Any], list[str]]:
    """What can be served now, and why the rest cannot (a flow not written yet)."""
    ready: list[Any] = []
    missing: list[str] = []
    for p in planned:
        try:
            flow = load_flow(p.entrypoint)
        except Exception as error:  # noqa: BLE001 - a flow being written may fail any way
            missing.append(
                f"« {p.name} » non servi : {p.entrypoint} ne s'importe pas encore "
                f"({type(error).__name__} : {error})"
            )
            continue
        if not isinstance(flow, Flow):
            missing.append(f"« {p.name} » non servi : {p.entrypoint} n'est pas un flux Prefect")
            continue
        ready.append(flow.to_deployment(
            name=p.name, description=p.description, tags=list(p.tags),
            parameters=p.parameters, schedules=schedules_of(p),
        ))
    return ready, missing


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> None:
    """In the server's process: be stopped by the kernel if `suivi serve` dies unwarned."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextmanager
def prefect_server(home: Path | None = None, log: Path | None = None) -> Iterator[str]:
    """The API URL of a Prefect server: PREFECT_API_URL's, or one started here until exit."""
    existing = os.environ.get("PREFECT_API_URL")
    if existing:
        require_prefect_api()
        yield existing
        return
    home = (home or Path(os.environ.get("PREFECT_HOME") or PREFECT_STATE)).resolve()
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1"}
    log_file = (log or home / "server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log_file, stderr=subprocess.STDOUT,
        # Its own session: Ctrl-C reaches us, and we stop it in order, after the runner.
        start_new_session=True, preexec_fn=_die_with_parent,
    )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while not _healthy(api_url):
            if server.poll() is not None:
                raise RuntimeError(f"le serveur Prefect s'est arrêté (journal : {log_file.name})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"le serveur Prefect ne répond pas sur {api_url}")
            time.sleep(0.5)
        yield api_url
    finally:
        _stop(server)
        log_file.close()


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def serve_all(on_ready: Any = print) -> None:
    """Serve every deployment of prefect.yaml until interrupted (Ctrl-C, SIGTERM)."""
    # Without this, SIGTERM before the runner installs its own handler would skip the
    # `finally` that stops the server.
    signal.signal(signal.SIGTERM, _interrupt)
    started_here = not os.environ.get("PREFECT_API_URL")
    if started_here:
        on_ready("démarrage du serveur Prefect local (127.0.0.1, fichiers sous "
                 f"{Path(os.environ.get('PREFECT_HOME') or PREFECT_STATE)})…")
    try:
        with prefect_server() as api_url, temporary_settings({PREFECT_API_URL: api_url}):
            ready, missing = runner_deployments(planned_deployments())
            for why in missing:
                on_ready(why)
            if not ready:
                raise RuntimeError("aucun flux à servir")
            on_ready(f"serveur Prefect : {api_url.removesuffix('/api')}")
            serve(*ready)
    except SystemExit as exit_:
        # Once serving, Prefect's runner takes SIGTERM over and ends with sys.exit(0); the
        # server has been stopped on the way out all the same.
        if exit_.code not in (0, None):
            raise
    if started_here:
        on_ready("serveur Prefect local arrêté")


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
