"""Clocks beside the states (an attestation's) are replaced by later triggers with the same
dates: an escalation that already fired for a moment must not fire again for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import at
from sqlalchemy import Engine, select

from models.cases import Clock, Notification
from models.db import session_scope
from processes import engine as wf
from processes import registry
from processes.context import FireContext
from processes.definition import (
    ClockDef,
    Delay,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.fields import Payload

NAME = "permit_stand_in"


class Permit(Payload):
    expires_at: str | None = None


def remember(ctx: FireContext) -> None:
    ctx.data.update(ctx.payload.model_dump(exclude_none=True))


PERMIT_ESCALATION = ClockDef(
    name="permit_escalation", kind="escalation", label="Titre expiré : alerter",
    anchor="data.expires_at", delay=Delay(amount=1, unit="days"),
    template="_generic", recipients=("rgls",),
)


@pytest.fixture
def permit_process() -> Iterator[None]:
    registry.register(
        ProcessDefinition(
            name=NAME, version=1, label="Titre de séjour (test)", label_en="Permit (test)",
            initial="followed",
            states=(StateDef(id="followed", label="Suivi", label_en="Followed"),),
            triggers=(
                TriggerDef(name="open", label="Ouvrir", label_en="Open", roles=("gs",),
                           payload=Permit, effect=remember, case_clocks=(PERMIT_ESCALATION,)),
                TriggerDef(name="note", label="Noter", label_en="Note", roles=("gs",),
                           payload=Permit, effect=remember, case_clocks=(PERMIT_ESCALATION,)),
            ),
            transitions=(TransitionDef(trigger="note", sources="followed", dest="="),),
        )
    )
    yield
    registry.unregister(NAME, 1)


def alerts(engine: Engine, case_id: int) -> int:
    with session_scope(engine) as s:
        return len(s.scalars(select(Notification).where(Notification.case_id == case_id)).all())


def test_a_replaced_escalation_that_already_fired_does_not_fire_again(
    engine: Engine, permit_process: None
) -> None:
    from processes.sweep import sweep_due_clocks

    with session_scope(engine) as s:
        case_id = wf.open_case(
            s, NAME, resident_id="r-0001", actor_id="gs-viala", now=at("2026-11-02 09:00"),
            payload={"expires_at": "2026-11-10T00:00"},
        ).id
    sweep_due_clocks(engine, at("2026-11-12 08:00"))
    assert alerts(engine, case_id) == 1

    # Something else is noted while the permit is still expired: same date, no new alert.
    with session_scope(engine) as s:
        wf.fire(s, case_id, "note", actor_id="gs-viala", now=at("2026-11-13 09:00"), payload={})
    assert sweep_due_clocks(engine, at("2026-11-14 08:00")).fired == 0
    assert alerts(engine, case_id) == 1

    # A new expiry date is a new moment: its escalation is planned and fires.
    with session_scope(engine) as s:
        wf.fire(s, case_id, "note", actor_id="gs-viala", now=at("2026-11-16 09:00"),
                payload={"expires_at": "2026-11-20T00:00"})
        pending = s.scalars(
            select(Clock.due_at).where(Clock.case_id == case_id, Clock.status == "pending")
        ).all()
        assert pending == [at("2026-11-21 00:00")]
    sweep_due_clocks(engine, at("2026-11-23 08:00"))
    assert alerts(engine, case_id) == 2
