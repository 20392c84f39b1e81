"""Moving running cases to a new version of their process: explicit, audited, all or nothing.

A case keeps the version it started on (DESIGN rule 2). When the association changes a
process (evaluations after 21 days instead of 30), the direction may move running cases to
the new version. Each case gets one `migrate` event in its audit chain, and its clocks are
computed again under the new version from the dates the case holds (the day it entered its
state, the dates in its data): a timer left on the old rule would silently keep the old
deadline, which is what the big engines do and what a landlord could later hold against us.

The whole migration is planned before anything is written; if one case cannot move (its
state has no place in the new version, or a pending deadline would vanish without the
caller saying so), nothing moves and the refusal lists every case concerned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from processes import registry
from processes.calendar import format_local, to_utc
from processes.clocks import plan_clocks
from processes.definition import ClockDef, ProcessDefinition
from processes.engine import (
    CASE_SCOPE,
    Actor,
    _append_event,
    _cancel_clocks,
    _flush,
    load_actor,
    organisation_settings,
)
from processes.errors import Forbidden, Refusal

MIGRATE_TRIGGER = "migrate"
MIGRATING_ROLES = ("dgls", "admin")
# Losing one of these silently could let a legal or escalation date pass unseen.
GUARDED_KINDS = ("deadline", "escalation")


@dataclass(frozen=True)
class PlannedClock:
    name: str
    kind: str
    due_at: datetime
    action: str
    recipients: tuple[str, ...]
    rule: str

    def describe(self) -> str:
        return f"{self.name} ({self.kind}) le {format_local(self.due_at)}"


@dataclass
class CaseMigration:
    case_id: int
    resident_id: str
    from_state: str
    to_state: str
    state_entered_at: datetime
    cancelled: list[str] = field(default_factory=list)
    """Pending clocks of the old version that the migration cancels."""
    created: list[PlannedClock] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    """Deadlines or escalations with no counterpart, cancelled because the caller said so."""
    problems: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"C-{self.case_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_id,
            "reference": self.reference,
            "resident": self.resident_id,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "state_entered_at": self.state_entered_at.isoformat(),
            "cancelled": self.cancelled,
            "created": [
                {"name": c.name, "kind": c.kind, "due_at": c.due_at.isoformat(), "rule": c.rule}
                for c in self.created
            ],
            "dropped": self.dropped,
            "problems": self.problems,
        }


@dataclass
class MigrationReport:
    process: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    dry_run: bool
    cases: list[CaseMigration]

    @property
    def refused(self) -> list[CaseMigration]:
        return [c for c in self.cases if c.problems]

    @property
    def ok(self) -> bool:
        return not self.refused

    def as_dict(self) -> dict[str, Any]:
        return {
            "process": self.process,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "mapping": self.mapping,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "migrated": 0 if self.dry_run or not self.ok else len(self.cases),
            "cases": [c.as_dict() for c in self.cases],
        }


class MigrationRefused(Refusal):
    """At least one case cannot move; nothing was written. `report` says which and why."""

    code = "migration_refused"

    def __init__(self, report: MigrationReport) -> None:
        self.report = report
        lines = [
            f"{c.reference} ({c.from_state}) : {' ; '.join(c.problems)}" for c in report.refused
        ]
        super().__init__(
            f"migration de « {report.process} » v{report.from_version} → v{report.to_version} "
            f"refusée, rien n'a été modifié ; dossiers concernés : " + " | ".join(lines)
        )

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "cases": [c.as_dict() for c in self.report.refused]}


def migrate_cases(
    session: Session,
    process: str,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
    actor_id: str,
    now: datetime,
    dry_run: bool = False,
    drop_clocks: Collection[str] = (),
) -> MigrationReport:
    """Move every running case of `process` v`from_version` to v`to_version`.

    `mapping` sends old state ids to new ones; a state it does not name keeps its id.
    `drop_clocks` names pending deadlines or escalations that may vanish (no counterpart in
    the new version): saying so is what makes their loss deliberate, and it is audited.
    A dry run returns the same report, problems included, and writes nothing.
    """
    now = to_utc(now)
    actor = load_actor(session, actor_id)
    if actor.role not in MIGRATING_ROLES:
        raise Forbidden(
            f"le rôle « {actor.role} » ({actor.id}) ne peut pas migrer des dossiers "
            f"(rôles permis : {', '.join(MIGRATING_ROLES)})"
        )
    if from_version == to_version:
        raise Refusal(f"versions de départ et d'arrivée identiques (v{from_version})")
    source = registry.get(process, from_version).definition
    target = registry.get(process, to_version).definition
    unknown = sorted(set(mapping) - {s.id for s in source.states})
    if unknown:
        raise Refusal(
            f"correspondance : état(s) inconnu(s) en v{from_version} : {', '.join(unknown)}"
        )
    cases = session.scalars(
        select(Case)
        .where(
            Case.process == process,
            Case.process_version == from_version,
            Case.closed_at.is_(None),
        )
        .order_by(Case.id)
    ).all()
    settings = organisation_settings(session)
    report = MigrationReport(
        process=process, from_version=from_version, to_version=to_version,
        mapping=dict(mapping), dry_run=dry_run,
        cases=[
            _plan(session, case, target, mapping, actor, now, settings, set(drop_clocks))
            for case in cases
        ],
    )
    if dry_run:
        return report
    if not report.ok:
        raise MigrationRefused(report)
    for case, planned in zip(cases, report.cases, strict=True):
        _apply(session, case, planned, report, actor, now)
    return report


def _plan(
    session: Session, case: Case, target: ProcessDefinition, mapping: Mapping[str, str],
    actor: Actor, now: datetime, settings: Mapping[str, Any], drop: set[str],
) -> CaseMigration:
    dest = mapping.get(case.state, case.state)
    planned = CaseMigration(
        case_id=case.id, resident_id=case.resident_id, from_state=case.state, to_state=dest,
        state_entered_at=case.state_entered_at,
    )
    if not actor.covers(case.site_id):
        planned.problems.append(f"{actor.id} n'intervient pas sur le site « {case.site_id} »")
    states = {s.id: s for s in target.states}
    if dest not in states:
        planned.problems.append(
            f"l'état « {dest} » n'existe pas en v{target.version} "
            f"(états : {', '.join(states)})"
        )
        return planned
    if states[dest].final:
        planned.problems.append(
            f"« {dest} » est un état de clôture : une migration ne clôt pas un dossier"
        )
        return planned
    new_state_clocks = states[dest].clocks
    new_case_clocks = {c.name: c for t in target.triggers for c in t.case_clocks}
    pending = session.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.status == "pending").order_by(Clock.id)
    ).all()
    already_fired = set(
        session.scalars(
            select(Clock.name).where(
                Clock.case_id == case.id, Clock.status == "fired", Clock.state == case.state,
                Clock.created_at >= case.state_entered_at,
            )
        ).all()
    )
    counterparts = {c.name for c in new_state_clocks}
    for clock in pending:
        beside_states = clock.state == CASE_SCOPE
        if beside_states and clock.name in new_case_clocks:
            # Clocks beside the states (an attestation's expiry) keep their date.
            continue
        planned.cancelled.append(clock.name)
        if not beside_states and clock.name in counterparts:
            continue  # computed again below under the new version's rule
        if clock.kind not in GUARDED_KINDS:
            continue
        if clock.name in drop:
            planned.dropped.append(clock.name)
        else:
            planned.problems.append(
                f"l'échéance « {clock.name} » ({clock.kind}, {format_local(clock.due_at)}) "
                f"n'existe plus en v{target.version} dans l'état « {dest} » : "
                "indiquez --drop-clock si elle doit disparaître"
            )
    # A clock that already fired during this stay in the state must not fire a second time
    # because its new date is earlier than the old one.
    fresh = tuple(c for c in new_state_clocks if c.name not in already_fired)
    planned.created = _due_clocks(case, target.name, fresh, now, settings)
    return planned


def _due_clocks(
    case: Case, process: str, clocks: tuple[ClockDef, ...], now: datetime,
    settings: Mapping[str, Any],
) -> list[PlannedClock]:
    """The engine's rule (`plan_clocks`), kept as a plan so a dry run can show it."""
    return [
        PlannedClock(
            name=clock.name, kind=clock.kind, due_at=due,
            action=f"{clock.action}:{clock.template or clock.trigger}",
            recipients=clock.recipients, rule=rule,
        )
        for clock, due, rule in plan_clocks(
            clocks, process=process, entered_at=case.state_entered_at, data=case.data,
            now=now, settings=settings,
        )
    ]


def _apply(
    session: Session, case: Case, planned: CaseMigration, report: MigrationReport, actor: Actor,
    now: datetime,
) -> None:
    _append_event(
        session, case, now=now, actor=actor, trigger=MIGRATE_TRIGGER,
        from_state=planned.from_state, to_state=planned.to_state,
        payload={
            "from_version": report.from_version,
            "to_version": report.to_version,
            "mapping": report.mapping,
            "cancelled": planned.cancelled,
            "dropped": planned.dropped,
            "created": {c.name: c.due_at.isoformat() for c in planned.created},
        },
    )
    case.process_version = report.to_version
    case.state = planned.to_state
    _cancel_clocks(session, case.id, now, all_scopes=False)
    for name in planned.cancelled:
        # Case-scope clocks the new version no longer knows (the state ones are gone above).
        for clock in session.scalars(
            select(Clock).where(
                Clock.case_id == case.id, Clock.status == "pending", Clock.name == name,
                Clock.state == CASE_SCOPE,
            )
        ):
            clock.status = "cancelled"
            clock.cancelled_at = now
    for c in planned.created:
        session.add(Clock(
            case_id=case.id, name=c.name, kind=c.kind, state=planned.to_state, due_at=c.due_at,
            action=c.action, recipients=list(c.recipients), rule=c.rule, status="pending",
            created_at=now,
        ))
    _flush(session, case)
