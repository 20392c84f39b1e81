"""deploy/: the systemd units and the compose file say what the production test runs.

The units are checked by `systemd-analyze verify` (with this venv in place of /opt/suivi's,
since verify wants the programs to exist), else read as INI; the compose file as YAML (a
docker engine would be needed for `docker compose config`, and none answers here).
"""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED_VENV = "/opt/suivi/.venv/bin"
VENV_BIN = Path(sys.executable).parent
ENV_FILE = "/etc/suivi/suivi.env"


def env_names() -> set[str]:
    lines = (DEPLOY / "suivi.env.example").read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if line.strip() and not line.startswith("#")}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text(encoding="utf-8"))
    return parser


def command(name: str) -> list[str]:
    return shlex.split(unit(name)["Service"]["ExecStart"])


def test_each_unit_runs_a_program_of_the_venv_with_the_shared_environment_file() -> None:
    assert sorted(p.name for p in UNITS.iterdir()) == [
        "suivi-prefect-server.service", "suivi-web.service", "suivi-worker@.service"]
    for path in UNITS.iterdir():
        parsed = unit(path.name)
        assert parsed["Unit"]["Description"].startswith("suivi : ")
        service = parsed["Service"]
        assert (service["User"], service["EnvironmentFile"]) == ("suivi", ENV_FILE)
        program = Path(command(path.name)[0])
        assert str(program.parent) == INSTALLED_VENV, path.name
        assert (VENV_BIN / program.name).exists(), f"{program.name} is not installed by pip"
        assert parsed["Install"]["WantedBy"] == "multi-user.target"

    assert command("suivi-prefect-server.service")[1:] == [
        "server", "start", "--host", "127.0.0.1", "--port", "4200"]
    assert command("suivi-web.service")[1:] == ["web", "--host", "127.0.0.1", "--port", "8000"]


def test_a_worker_unit_stops_its_worker_with_sigint_and_lets_a_run_finish() -> None:
    worker = unit("suivi-worker@.service")
    assert command("suivi-worker@.service")[1:5] == ["worker", "start", "--pool", "suivi-process"]
    service = worker["Service"]
    assert (service["KillSignal"], service["KillMode"]) == ("SIGINT", "mixed")
    assert int(service["TimeoutStopSec"]) >= 60
    assert "suivi-prefect-server.service" in worker["Unit"]["After"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    for path in UNITS.iterdir():
        (tmp_path / path.name).write_text(
            path.read_text(encoding="utf-8").replace(INSTALLED_VENV, str(VENV_BIN)),
            encoding="utf-8",
        )
    names = [p.name.replace("@.service", "@1.service") for p in UNITS.iterdir()]
    checked = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in names)],
                             capture_output=True, text=True, timeout=60)
    assert (checked.returncode, checked.stderr, checked.stdout) == (0, "", "")


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_has_postgres_the_prefect_server_a_setup_step_workers_and_the_web_app() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"postgres", "prefect-server", "setup", "worker", "web"}
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, (name, needed)
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(("/", ".")) or source in spec["volumes"], (name, volume)
        assert all(p.startswith("127.0.0.1:") for p in service.get("ports", [])), name

    ours = {n: s for n, s in services.items() if n != "postgres"}
    for name, service in ours.items():
        assert service["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert set(service["environment"]) == env_names(), name
        program = service["command"][0] if service["command"][0] != "sh" else "suivi"
        assert (VENV_BIN / program).exists(), (name, program)
    assert ours["worker"]["stop_signal"] == "SIGINT"
    assert ours["worker"]["command"] == ["prefect", "worker", "start", "--pool", "suivi-process"]
    assert ours["web"]["command"][:2] == ["suivi", "web"]
    setup = " ".join(ours["setup"]["command"][2].split())
    assert "suivi db upgrade" in setup and "prefect deploy --all" in setup
    assert ours["worker"]["depends_on"] == {
        "setup": {"condition": "service_completed_successfully"}}
    assert (DEPLOY / "Dockerfile").exists()


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker") else True,
    reason="no `docker compose` here",
)
def test_docker_compose_accepts_the_file() -> None:
    checked = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config",
                              "--quiet"], capture_output=True, text=True, timeout=60,
                             env={"POSTGRES_PASSWORD": "x", "PATH": "/usr/bin:/usr/local/bin"})
    assert checked.returncode == 0, checked.stderr
