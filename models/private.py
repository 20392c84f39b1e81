"""Files suivi writes hold residents' names and breach details: owner-only, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create the folders up to `path` that do not exist yet, each readable by the owner only."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask


def _open(path: Path, flags: int) -> int:
    private_dir(path.parent)
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # os.open's mode too is filtered by the umask
    return fd


def write_private(path: Path, content: bytes) -> None:
    """Replace a file's content; the file is left 0600."""
    with os.fdopen(_open(path, os.O_WRONLY | os.O_TRUNC), "wb") as out:
        out.write(content)


def append_private(path: Path, text: str) -> None:
    """Add a line to a log file; the file is left 0600."""
    with os.fdopen(_open(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8") as out:
        out.write(text)


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file owner-only before SQLite does (its journal and WAL files
    then take the same mode)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:") or Path(path).exists():
        return
    os.close(_open(Path(path), os.O_WRONLY))
