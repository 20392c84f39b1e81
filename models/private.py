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


def keep_sqlite_file_private(path: Path) -> None:
    """Make a SQLite database file owner-only as soon as a connection has opened it, before
    anything is written (SQLite gives its journal and WAL files the database file's mode).
    The file is not created here: a reading command must not create the database it was
    asked to read (models.db.refuse_missing_sqlite_file)."""
    if path.exists() and path.stat().st_mode & 0o777 != FILE_MODE:
        os.chmod(path, FILE_MODE)
