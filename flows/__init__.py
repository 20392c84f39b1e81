"""Prefect flows: a few lines each, calling ordinary functions of `processes/` and `notifications/`.

Only this package (and what runs its flows) imports prefect: `import prefect` costs a second
and 80 MB that `suivi case fire` should not pay. `local_defaults()` must run before it.
"""

from __future__ import annotations

import importlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from models.db import SettingError

PREFECT_STATE = Path("var") / "prefect"


def local_defaults() -> None:
    """Prefect's settings for a laptop: its files under ./var/prefect, no network, patience.

    Read by prefect when it is imported, so call this first; anything already set wins.
    """
    home = Path(os.environ.setdefault("PREFECT_HOME", str(PREFECT_STATE.resolve())))
    # Prefect creates its home without parents and fails (late, obscurely) when ./var is missing.
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # The temporary server needs ~17 s on a fresh PREFECT_HOME (its own migrations).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "60")


# Prefect on its temporary local API, without its chatter: our commands print their own
# results and a failing flow still raises. That server dies with the process, so nobody can
# read its run history: its services that record task runs and events are off, which also
# removes the `Error flushing events` tracebacks it prints when it stops with events
# unwritten, and the 2-s stalls they cause now and then.
QUIET_TEMPORARY_SERVER = {
    "PREFECT_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}


def quiet_temporary_server() -> None:
    """Before prefect is imported, and only without a real server: anything set wins."""
    if os.environ.get("PREFECT_API_URL"):
        return
    for name, value in QUIET_TEMPORARY_SERVER.items():
        os.environ.setdefault(name, value)


def require_prefect_api() -> None:
    """PREFECT_API_URL, when set, must answer: otherwise Prefect retries for a long while and
    ends with a traceback. A SettingError (one French line, exit 2) instead."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if not url:
        return
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5):
            return
    except urllib.error.HTTPError:
        return  # it answers (behind a proxy that wants a login, say): Prefect will say more
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise SettingError(
            f"PREFECT_API_URL : le serveur Prefect {url} ne répond pas ({reason}) : "
            "démarrez-le (`prefect server start`, service suivi-prefect-server) ou corrigez "
            "l'adresse ; sans PREFECT_API_URL, suivi utilise un serveur local temporaire"
        ) from None


def run_once(entrypoint: str, **parameters: Any) -> Any:
    """Run one flow now (`module:function`), on `PREFECT_API_URL` or Prefect's local API."""
    require_prefect_api()
    local_defaults()
    quiet_temporary_server()
    from prefect.settings import temporary_settings

    module, name = entrypoint.split(":")
    flow = getattr(importlib.import_module(module), name)
    # A one-shot run needs no heartbeat; without this a sync flow waits ~1 s on exit.
    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        return flow(**parameters)
