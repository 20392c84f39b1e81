"""What every command shares: the clock, the database, output for people or machines, refusals."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy.orm import Session

from models.db import get_engine, session_scope
from processes.calendar import parse_moment
from processes.errors import Refusal

if TYPE_CHECKING:
    from processes.read_policy import Viewer

console = Console()
err_console = Console(stderr=True)

NowOption = typer.Option(
    None, "--now", help="Date-heure ISO (heure de Paris sans décalage) ; défaut : l'heure réelle."
)
JsonOption = typer.Option(False, "--json", help="Sortie JSON pour les programmes.")
DataOption = typer.Option(
    None, "--data", "-d", help="Donnée du déclencheur, clé=valeur (répétable)."
)


def resolve_now(now: str | None) -> datetime:
    """The one place the command line reads the wall clock: when no --now is given.

    A `--now` in the future is refused on a production database (rehearsals allow any)."""
    wall_clock = datetime.now(UTC)
    if now is None:
        return wall_clock
    try:
        moment = parse_moment(now)
    except ValueError:
        fail(f"--now : date-heure invalide « {now} » (attendu : 2026-11-30T10:00)")
    if moment > wall_clock:
        from processes.rehearsal import check_command_moment

        with unit_of_work(read_only=True) as session:
            check_command_moment(session, asked=moment, wall_clock=wall_clock)
    return moment


def check_actor(session: Session, actor: str) -> None:
    """`--actor system` is the flows' own: refused from a person on a production database."""
    from processes.rehearsal import check_command_actor

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
    from models.admin import is_rehearsal
    from processes.read_policy import load_viewer

    if actor is None:
        if is_rehearsal(session):
            return None
        fail(
            "--actor est obligatoire sur une base de production : indiquez qui consulte "
            "(votre identifiant de l'annuaire)"
        )
    return load_viewer(session, actor)


def parse_data(pairs: list[str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--data : « {pair} » n'est pas de la forme clé=valeur")
        data[key.strip()] = value
    return data


def fail(message: str, code: int = 2) -> NoReturn:
    # One line, never wrapped: scripts and people both read it.
    sys.stderr.write(" ".join(message.split()) + "\n")
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        text = value.model_dump_json(by_alias=True, indent=2)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(text + "\n")


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
