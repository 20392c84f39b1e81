"""What every command shares: the clock, the database, output for people or machines, refusals."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.text import Text
from sqlalchemy.orm import Session

from models.admin import is_rehearsal
from models.db import get_engine, session_scope
from models.text import ID_MAX, control_problem, strip_controls
from processes.calendar import parse_moment
from processes.errors import Refusal
from processes.fields import year_problem
from processes.read_policy import Viewer, load_viewer
from processes.rehearsal import check_command_actor, check_command_moment

MAX_ROW_ID = 2**63 - 1
"""The largest id either database can hold: a bigger number names no row."""


class PlainConsole(Console):
    """Prints every string as the text it is: a resident called `[bold]` or `[/]` is shown,
    not interpreted (Rich markup raised *after* a commit), and terminal escape sequences
    stored in a name (ESC[2J, OSC-8 links) are dropped instead of reaching the terminal.
    Our own emphasis is built with `styled`, never with markup."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False)
        return super().render_str(strip_controls(text), **kwargs)


console = PlainConsole()
err_console = PlainConsole(stderr=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of plain parts and `(text, style)` parts; every text stripped of controls."""
    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(strip_controls(text), style=style)
    return line


@contextmanager
def after_commit(summary: str) -> Iterator[None]:
    """Printing what a committed command did: if that fails, the command still succeeded,
    so it says so in one line and exits 0 (a retry would act twice)."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the work is done; only its display failed
        sys.stderr.write(
            f"affichage impossible ({type(error).__name__}) ; l'action est enregistrée.\n"
        )
        sys.stdout.write(strip_controls(summary) + "\n")

NowOption = typer.Option(
    None, "--now", help="Date-heure ISO (heure de Paris sans décalage) ; défaut : l'heure réelle."
)
JsonOption = typer.Option(False, "--json", help="Sortie JSON pour les programmes.")
DataOption = typer.Option(
    None,
    "--data",
    "-d",
    help="Donnée du déclencheur, clé=valeur (répétable ; une clé répétée fait une liste ; "
    "une valeur JSON entre [ ] ou { } est lue comme une liste ou un objet : "
    "'unpaid_months=[\"2027-01\",\"2027-02\"]').",
)


def resolve_now(now: str | None) -> datetime:
    """The one place the command line reads the wall clock: when no --now is given.

    A `--now` in the future is refused on a production database (rehearsals allow any)."""
    wall_clock = datetime.now(UTC)
    if now is None:
        return wall_clock
    try:
        moment = parse_moment(now)
    except (ValueError, OverflowError):
        fail(f"--now : date-heure invalide « {now} » (attendu : 2026-11-30T10:00)")
    if moment > wall_clock:
        with unit_of_work(read_only=True) as session:
            check_command_moment(session, asked=moment, wall_clock=wall_clock)
    # After the production database's own answer (no future at all), a rehearsal's limit.
    problem = year_problem(moment)
    if problem:
        fail(f"--now : {problem}")
    return moment


def check_actor(session: Session, actor: str) -> None:
    """`--actor system` is the flows' own: refused from a person on a production database."""
    check_command_actor(session, actor)


ReaderOption = typer.Option(
    None,
    "--actor",
    "-a",
    help="Qui consulte : la politique de lecture s'applique (obligatoire sur une base de "
    "production, facultatif sur une base de répétition).",
)


def reader(session: Session, actor: str | None) -> Viewer | None:
    """The person reading, whose read policy applies; None (everything) only on a rehearsal
    database without --actor."""
    if actor is None:
        if is_rehearsal(session):
            return None
        fail(
            "--actor est obligatoire sur une base de production : indiquez qui consulte "
            "(votre identifiant de l'annuaire)"
        )
    return load_viewer(session, actor)


def identifier(value: str, option: str) -> str:
    """An id typed on the command line: what the directory could hold, else exit 2."""
    problem = control_problem(value, single_line=True)
    if problem is None and not 0 < len(value) <= ID_MAX:
        problem = f"identifiant de 1 à {ID_MAX} caractères attendu"
    if problem:
        fail(f"{option} : {problem}")
    return value


def row_id(text: str, what: str, example: str = "un numéro, ex. 12") -> int:
    """A row number typed by a person: digits, within what a database can hold."""
    cleaned = text.strip()
    if not cleaned.isascii() or not cleaned.isdigit() or int(cleaned) > MAX_ROW_ID:
        fail(f"{what} invalide : « {text} » (attendu : {example})")
    return int(cleaned)


def data_value(value: str) -> Any:
    """A list or an object written in JSON is taken as one; anything else stays the text
    typed (the payload reads dates, amounts, yes/no from it), so that a description « 123 »
    or « [urgent] odeurs » is not turned into a number or refused."""
    if value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_data(pairs: list[str] | None) -> dict[str, Any]:
    """`--data key=value` pairs; a key given twice or more builds a list, in the order typed."""
    data: dict[str, Any] = {}
    repeated: set[str] = set()
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--data : « {pair} » n'est pas de la forme clé=valeur")
        key = identifier(key.strip(), "--data")
        parsed = data_value(value)
        if key not in data:
            data[key] = parsed
            continue
        if key not in repeated:
            data[key], repeated = [data[key]], repeated | {key}
        data[key].append(parsed)
    return data


def fail(message: str, code: int = 2) -> NoReturn:
    # One line, never wrapped: scripts and people both read it.
    sys.stderr.write(" ".join(strip_controls(message).split()) + "\n")
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(by_alias=True, indent=2)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    # JSON escapes C0 controls itself; C1 controls and bidi overrides are escaped here so
    # that a terminal showing the JSON is not driven by a stored name. Values are unchanged.
    sys.stdout.write(_TERMINAL_CONTROL.sub(_escape, text) + "\n")


_TERMINAL_CONTROL = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


@contextmanager
def unit_of_work(as_json: bool = False, *, read_only: bool = False) -> Iterator[Session]:
    """A transaction; a refusal becomes exit code 2 and one line, and nothing is written."""
    try:
        with session_scope(get_engine(), read_only=read_only) as session:
            yield session
    except Refusal as refusal:
        if as_json:
            print_json(refusal.as_dict())
            raise typer.Exit(2) from None
        fail(refusal.full_message())
