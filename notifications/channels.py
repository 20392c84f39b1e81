"""Sending one message to one Apprise URL, and the `console://` channel of the embedded default.

`Apprise.notify` answers a single bool for all its targets, so each outbox row is sent through
its own fresh `Apprise` object and apprise's own log lines become the error we record.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from notifications.render import scheme

CONSOLE_LOG = Path("var") / "console-notifications.log"
"""Where console messages stay readable; `SUIVI_CONSOLE_LOG` moves it (tests, packaging)."""
MAX_ERROR = 1000

console_logger = logging.getLogger("suivi.console")
# apprise.LogCapture swaps a handler and the level on apprise's one global logger: two sends
# capturing at once in one process would swap each other's error text (and leave the level
# changed). Sends in one process are therefore one at a time; parallelism is more runs.
_capture_lock = threading.Lock()


class SendResult(BaseModel):
    ok: bool
    scheme: str
    error: str | None = None


def console_log_path() -> Path:
    return Path(os.environ.get("SUIVI_CONSOLE_LOG") or CONSOLE_LOG)


def _one_line(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


def console_channel(body: str, title: str, notify_type: str, meta: dict[str, Any],
                    *args: Any, **kwargs: Any) -> bool:
    """Staff without a configured URL: one line in a log file, never a screenful on a terminal."""
    line = f"{_one_line(title)} — {_one_line(body)}" if title else _one_line(body)
    # INFO: Python's last-resort handler shows only warnings, so nothing reaches the terminal
    # unless someone configures the `suivi.console` logger on purpose.
    console_logger.info(line)
    path = console_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}\n")
    except OSError as error:
        console_logger.warning("console-notifications: %s", error)
        return False
    return True


_loaded: list[ModuleType] = []
_load_lock = threading.Lock()


def _apprise() -> ModuleType:
    """Apprise with our console channel, imported at the first send: loading its plugins costs
    most of a second that commands which send nothing (`suivi case show`) should not pay."""
    with _load_lock:
        if not _loaded:
            import apprise
            from apprise.decorators import notify

            notify(on="console", name="Console suivi")(console_channel)
            _loaded.append(apprise)
        return _loaded[0]


def send(url: str, title: str, body: str) -> SendResult:
    """Notify exactly one URL; the error text is what apprise logged while failing."""
    apprise = _apprise()
    kind = scheme(url)
    target = apprise.Apprise()
    if not target.add(url):
        # Never echo the URL itself: it may hold a password or a webhook token.
        return SendResult(ok=False, scheme=kind, error=f"adresse {kind}:// refusée par Apprise")
    try:
        with _capture_lock, apprise.LogCapture(
            level=logging.WARNING, fmt="%(message)s"
        ) as captured:
            ok = bool(target.notify(body=body, title=title))
            logged = _one_line(captured.getvalue())
    except Exception as error:  # a plugin bug must not stop the other rows of a batch
        text = f"{type(error).__name__}: {error}"
        return SendResult(ok=False, scheme=kind, error=text[:MAX_ERROR])
    if ok:
        return SendResult(ok=True, scheme=kind)
    return SendResult(ok=False, scheme=kind, error=(logged or "échec sans message")[:MAX_ERROR])
