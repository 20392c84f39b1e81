"""Sending one message to one Apprise URL, and the `console://` channel of the embedded default.

`Apprise.notify` answers a single bool for all its targets, so each outbox row is sent through
its own fresh `Apprise` object and apprise's own log lines become the error we record.

Our messages are plain text, and a resident's name is whatever was typed: each is sent as
text (`body_format=text`), which Apprise escapes for the channels that render HTML (email),
and escaped here for those that render Markdown (Slack, Teams workflows…). A channel URL may
hold a password or a webhook token: it is never printed or recorded in clear (`mask_url`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel

from models.private import append_private
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


FOR_WHOM = "pour"
"""Query parameter naming the recipient of a console message (added at send time only)."""
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#|!~])")
SECRET_MASK = "****"


def console_channel(body: str, title: str, notify_type: str, meta: dict[str, Any],
                    *args: Any, **kwargs: Any) -> bool:
    """Staff without a configured URL: one line in a log file, never a screenful on a terminal.
    Each line says for whom it was (`pour gs-viala`)."""
    line = f"{_one_line(title)} — {_one_line(body)}" if title else _one_line(body)
    whom = str((meta.get("qsd") or {}).get(FOR_WHOM) or "")
    if whom:
        line = f"pour {whom} : {line}"
    # INFO: Python's last-resort handler shows only warnings, so nothing reaches the terminal
    # unless someone configures the `suivi.console` logger on purpose.
    console_logger.info(line)
    path = console_log_path()
    try:
        append_private(path, f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}\n")
    except OSError as error:
        console_logger.warning("console-notifications: %s", error)
        return False
    return True


def escape_markdown(text: str) -> str:
    """Text that a Markdown channel shows as typed: no link, no image, no emphasis."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def secrets_of(url: str) -> list[str]:
    """The parts of a channel URL that may be credentials: password, query values,
    long path segments (webhook tokens), both as written and decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    password = parts.password or ""
    found = [value for _, _, value in (p.partition("=") for p in parts.query.split("&"))]
    found += [segment for segment in parts.path.split("/") if len(segment) >= 8]
    # A host long enough to be a token (some schemes put the key where the host goes).
    if len(parts.hostname or "") >= 20 and "." not in (parts.hostname or ""):
        found.append(parts.hostname or "")
    decoded = [unquote(s) for s in found]
    secrets = {s for s in found + decoded if len(s) >= 3} | ({password} if password else set())
    return sorted(secrets, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` without any credential of `url` (an error message that quoted it)."""
    for secret in secrets_of(url):
        text = text.replace(secret, SECRET_MASK)
    return text


def mask_url(url: str) -> str:
    """A channel URL fit to print: Apprise's own privacy form when it knows the scheme
    (`mailtos://user:****@smtp…`), else every credential replaced by `****`."""
    try:
        plugin = _apprise().Apprise.instantiate(url, suppress_exceptions=True)
        if plugin:
            return str(plugin.url(privacy=True))
    except Exception:  # noqa: BLE001, S110 - an odd URL is masked by hand below
        pass
    return scrub(url, url)


def mask_urls(value: Any) -> Any:
    """Any JSON-like value with every string that holds a URL masked (settings, lists)."""
    if isinstance(value, str):
        return mask_url(value) if "://" in value else value
    if isinstance(value, list):
        return [mask_urls(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_urls(v) for k, v in value.items()}
    return value


def _with_recipient(url: str, recipient: str | None) -> str:
    if recipient is None or scheme(url) != "console":
        return url
    joiner = "&" if "?" in url else ("?" if url.endswith("/") else "/?")
    return f"{url}{joiner}{FOR_WHOM}={quote(recipient, safe='')}"


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


def send(url: str, title: str, body: str, *, recipient: str | None = None) -> SendResult:
    """Notify exactly one URL; the error text is what apprise logged while failing, without
    the URL's credentials."""
    apprise = _apprise()
    kind = scheme(url)
    target = apprise.Apprise()
    if not target.add(_with_recipient(url, recipient)):
        # Never echo the URL itself: it may hold a password or a webhook token.
        return SendResult(ok=False, scheme=kind, error=f"adresse {kind}:// refusée par Apprise")
    if target[0].notify_format == apprise.NotifyFormat.MARKDOWN:
        title, body = escape_markdown(title), escape_markdown(body)
    try:
        with _capture_lock, apprise.LogCapture(
            level=logging.WARNING, fmt="%(message)s"
        ) as captured:
            ok = bool(target.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
            logged = _one_line(captured.getvalue())
    except Exception as error:  # a plugin bug must not stop the other rows of a batch
        text = scrub(f"{type(error).__name__}: {error}", url)
        return SendResult(ok=False, scheme=kind, error=text[:MAX_ERROR])
    if ok:
        return SendResult(ok=True, scheme=kind)
    error = scrub(logged, url) if logged else "échec sans message"
    return SendResult(ok=False, scheme=kind, error=error[:MAX_ERROR])
