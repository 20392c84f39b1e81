"""What a stored text may contain: no control characters, a length the columns hold.

SQLite stores anything; PostgreSQL refuses a NUL character and a value longer than its
column. Checking here, at the edge, makes both databases refuse the same input with the
same French sentence, and keeps terminal escape sequences out of what staff later print.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (ESC, NUL, CR…), DEL, and the bidirectional overrides that make a
line read differently from what it holds. Tab and line feed are ordinary text."""
LINE_BREAK = re.compile(r"[\t\n]")

ID_MAX = 64
NAME_MAX = 200
TEXT_MAX = 5000


def strip_controls(text: str) -> str:
    """The text without control characters (line breaks and tabs kept)."""
    return CONTROL.sub("", text)


def control_problem(text: str, *, single_line: bool) -> str | None:
    """Why a text cannot be stored, in French, or None."""
    found = CONTROL.search(text) or (LINE_BREAK.search(text) if single_line else None)
    if found is None:
        return None
    return f"caractère de contrôle interdit (U+{ord(found.group()):04X})"


def _single_line(text: str) -> str:
    problem = control_problem(text, single_line=True)
    if problem:
        raise ValueError(problem)
    return text


def _multi_line(text: str) -> str:
    problem = control_problem(text, single_line=False)
    if problem:
        raise ValueError(problem)
    return text


Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=ID_MAX), AfterValidator(_single_line)
]
"""An id in the directory (r-0001, gs-viala): one line, 64 characters at most."""

Name = Annotated[str, StringConstraints(max_length=NAME_MAX), AfterValidator(_single_line)]
"""A name or label: one line, 200 characters at most."""


Address = Annotated[str, StringConstraints(max_length=400), AfterValidator(_single_line)]
"""An address or a base URL: one line, 400 characters at most."""

Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_single_line)]
"""An Apprise URL (a Teams webhook runs to a few hundred characters)."""

Town = Annotated[str, StringConstraints(max_length=120), AfterValidator(_single_line)]


FreeText = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_multi_line)]
"""Notes and descriptions: several lines allowed, 5,000 characters at most."""
