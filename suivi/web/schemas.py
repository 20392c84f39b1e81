"""The JSON API's inputs and outputs: every field named, French labels beside the codes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _process_names() -> list[JsonValue]:
    from processes import registry

    return list(registry.names())


class ErrorOut(BaseModel):
    detail: str = Field(description="Pourquoi, en français : le message du moteur.")


class OpenCaseIn(Strict):
    process: str = Field(
        description="Le processus à ouvrir.",
        max_length=64,
        json_schema_extra=lambda schema: schema.update(enum=_process_names()),
    )
    resident: str = Field(description="Identifiant du résident (r-0001).", max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, description="Données d'ouverture.")


class FireIn(Strict):
    trigger: str = Field(description="Déclencheur (voir `triggers` du dossier).", max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    expected_version: int = Field(
        description="`record_version` lu avec le dossier : refusé (409) s'il a changé depuis.",
        ge=0, le=2**31,
    )


class ClockOut(BaseModel):
    name: str
    kind: str
    kind_label: str
    label: str
    due_at: datetime
    rule: str = Field(description="La règle qui a fixé la date, en français.")


class EventOut(BaseModel):
    seq: int
    at: datetime
    recorded_at: datetime | None = Field(description="Heure du serveur à l'enregistrement.")
    trigger: str
    trigger_label: str
    from_state: str | None
    from_label: str | None
    to_state: str
    to_label: str
    actor: str
    role: str
    payload: dict[str, Any]


class TriggerOut(BaseModel):
    name: str
    label: str
    label_en: str
    fields: list[str] = Field(description="Les données que le déclencheur accepte.")
    required: list[str] = Field(description="Celles qu'il exige.")


class CaseSummary(BaseModel):
    id: int
    reference: str
    process: str
    process_label: str
    version: int
    state: str
    state_label: str
    state_label_en: str
    closed: bool
    resident: str
    resident_name: str
    site: str
    dwelling: str | None
    opened_at: datetime
    closed_at: datetime | None
    next_due_at: datetime | None
    next_due_label: str | None


class CaseDetail(CaseSummary):
    record_version: int
    data: dict[str, Any]
    history: list[EventOut]
    clocks: list[ClockOut]
    triggers: list[TriggerOut] = Field(description="Ce que la personne connectée peut faire.")


class ResidentOut(BaseModel):
    id: str
    name: str
    dwelling: str | None
    dwelling_label: str | None
    site: str | None
    cases: list[CaseSummary]


class AgendaItemOut(BaseModel):
    group: str = Field(description="overdue (en retard), today, visit, deadline (7 jours)")
    case_id: int
    case_ref: str
    kind: str
    kind_en: str
    due_at: datetime
    sensitive: bool
    resident: str
    dwelling: str
    site: str


class AgendaOut(BaseModel):
    now: datetime
    day: date
    items: list[AgendaItemOut]
