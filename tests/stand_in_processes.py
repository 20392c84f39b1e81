"""Stand-in versions (99) of the arrears and insurance processes, for the letters and the
resident's page, until the real processes land (shared/processes/arrears.md, insurance.md).

They hold the states the letters need and the data they read (balance, monthly amount,
payments; insurer, certificate expiry); version 99 never clashes with a real version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
from processes.fields import Empty, Payload

VERSION = 99


class _Open(Payload):
    dwelling: str | None = None
    balance: str | None = None
    monthly_amount: str | None = None
    insurer: str | None = None
    valid_until: str | None = None


def _remember(ctx: FireContext) -> None:
    ctx.data.update(ctx.payload.model_dump(exclude_none=True, exclude={"dwelling"}))
    if ctx.process == "arrears":
        ctx.data["payments"] = [{"paid_at": "2026-09-15T10:00", "amount": "100"}]


def stand_in(name: str) -> ProcessDefinition:
    return ProcessDefinition(
        name=name, version=VERSION, label=f"{name} (remplaçant de test)", label_en=name,
        initial="detected",
        states=(
            StateDef(id="detected", label="Constaté", label_en="Detected"),
            StateDef(id="formal_notice", label="Mise en demeure", label_en="Formal notice",
                     clocks=(ClockDef(name="notice_expired", kind="deadline",
                                      label="Fin du délai de la mise en demeure",
                                      delay=Delay(amount=1, unit="months"),
                                      template="notice_expired", recipients=("rgls",)),)),
            StateDef(id="withdrawn", label="Clôturé", label_en="Closed", final=True),
        ),
        triggers=(
            TriggerDef(name="open", label="Constater", label_en="Open", roles=("gs",),
                       payload=_Open, effect=_remember),
            TriggerDef(name="send_formal_notice", label="Mise en demeure envoyée",
                       label_en="Formal notice sent", roles=("rgls",), payload=Empty),
        ),
        transitions=(TransitionDef(trigger="send_formal_notice", sources="detected",
                                   dest="formal_notice"),),
    )


@contextmanager
def stand_in_versions() -> Iterator[None]:
    for name in ("arrears", "insurance"):
        registry.register(stand_in(name))
    try:
        yield
    finally:
        for name in ("arrears", "insurance"):
            registry.unregister(name, VERSION)
