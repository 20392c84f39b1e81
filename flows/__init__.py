"""Prefect flows: a few lines each, calling ordinary functions of `processes/` and `notifications/`.

Only this package (and what runs its flows) imports prefect: `import prefect` costs a second
and 80 MB that `suivi case fire` should not pay. `local_defaults()` must run before it.
"""

from __future__ import annotations

import os
from pathlib import Path

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
