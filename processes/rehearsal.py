"""Identity and time on a production database, and the rehearsal databases where both are
free (DESIGN.md, rule 3).

On a production database (the default) a person's command may not be dated in the future
(`--now 2099-…` would put every later real action "before the last event" and lock the case)
and may not act as `system` (reserved to the flows). A rehearsal database (the demo's, a
training copy, marked when created) allows both, to replay a month in seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models.admin import is_rehearsal
from processes.calendar import format_local, to_utc
from processes.engine import SYSTEM_ACTOR
from processes.errors import Forbidden, Refusal

# Clocks of two machines differ by a little; a minute ahead is not "the future".
CLOCK_TOLERANCE = timedelta(minutes=1)


def check_command_moment(
    session: Session, *, asked: datetime | None, wall_clock: datetime
) -> None:
    """Refuse a future `--now` on a production database."""
    if asked is None or is_rehearsal(session):
        return
    if to_utc(asked) > to_utc(wall_clock) + CLOCK_TOLERANCE:
        raise Refusal(
            f"--now {format_local(asked)} est dans le futur : une base de production enregistre "
            "l'heure réelle (une date future n'est permise que sur une base de répétition, "
            "`suivi db upgrade --rehearsal`)"
        )


def check_command_actor(session: Session, actor_id: str | None) -> None:
    """Refuse `--actor system` from a person on a production database."""
    if actor_id == SYSTEM_ACTOR and not is_rehearsal(session):
        raise Forbidden(
            "l'acteur « system » est réservé aux traitements automatiques (balayage, envois) : "
            "agissez sous votre propre identifiant"
        )
