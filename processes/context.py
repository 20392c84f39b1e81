"""What a guard or an effect sees when a trigger fires on a case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from processes.definition import Notice


@dataclass
class FireContext:
    case_id: int | None
    process: str
    state: str | None
    trigger: str
    payload: BaseModel
    data: dict[str, Any]
    """A copy of the case data: effects change it; it is saved only if the transition happens."""
    now: datetime
    actor_id: str
    role: str
    settings: dict[str, Any] = field(default_factory=dict)
    notices: list[tuple[Notice, dict[str, Any]]] = field(default_factory=list)

    def notify(self, template: str, *recipients: str, **context: Any) -> None:
        """Queue a message caused by this trigger (sent with the event, in its transaction)."""
        self.notices.append((Notice(template=template, recipients=recipients), context))

    def value(self, key: str) -> Any:
        return getattr(self.payload, key, None)


def log_step(ctx: FireContext) -> None:
    """An effect: keep what was done, when and by whom in the case's `steps` (letters read it)."""
    entry = ctx.payload.model_dump(mode="json", exclude_none=True)
    entry.update(trigger=ctx.trigger, at=ctx.now.isoformat(), by=ctx.actor_id)
    ctx.data.setdefault("steps", []).append(entry)
