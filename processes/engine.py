"""The engine: fire a trigger on a stored case, in one transaction.

One call checks who may do it, validates the payload, runs the shared state machine, appends
the hash-chained event, cancels the clocks of the state left, creates those of the state
entered and queues the notifications the transition causes. A refusal raises before anything
is written; the caller's unit of work (`models.db.session_scope`) commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.cases import Case, CaseEvent, Clock
from models.directory import Dwelling, Organisation, Resident, Staff
from models.text import ID_MAX, control_problem
from notifications.outbox import queue_notice
from processes import registry
from processes.audit import GENESIS, event_hash
from processes.calendar import format_local, to_utc
from processes.clocks import plan_clocks
from processes.context import FireContext
from processes.definition import ClockDef, Notice, ProcessDefinition, TriggerDef
from processes.errors import (
    Conflict,
    Forbidden,
    InvalidPayload,
    NotFound,
    Refusal,
    french_error,
)
from processes.machine import CompiledProcess

SYSTEM_ACTOR = "system"
SYSTEM_ROLE = "system"
CASE_SCOPE = "*"
"""Clock.state of a clock that runs beside the states (cancelled only when the case closes)."""
CLOCK_VERBS = ("notify", "fire")
"""What a clock's action may do: `notify:<template>` or `fire:<trigger>`."""


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    staff: Staff | None

    def covers(self, site_id: str) -> bool:
        return self.staff is None or self.staff.covers(site_id)


def load_actor(session: Session, actor_id: str) -> Actor:
    if actor_id == SYSTEM_ACTOR:
        return Actor(SYSTEM_ACTOR, SYSTEM_ROLE, None)
    staff = session.get(Staff, actor_id) if _is_identifier(actor_id) else None
    if staff is None or not staff.active:
        raise NotFound(f"membre du personnel inconnu ou inactif : « {actor_id} »")
    return Actor(staff.id, staff.role, staff)


def organisation_settings(session: Session) -> dict[str, Any]:
    org = session.scalars(select(Organisation).limit(1)).first()
    return dict(org.settings or {}) if org else {}


def _validate_payload(
    trigger: TriggerDef,
    raw: Mapping[str, Any],
    case_id: int | None,
    state: str | None,
    allowed: list[str],
) -> Any:
    try:
        return trigger.payload.model_validate(dict(raw))
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'données'} : {french_error(e)}"
            for e in error.errors()
        )
        raise InvalidPayload(
            f"données invalides pour « {trigger.name} » ({details})",
            case_id=case_id,
            state=state,
            allowed=allowed,
        ) from None


def _check_role(
    process: CompiledProcess,
    trigger: TriggerDef,
    actor: Actor,
    case_id: int | None,
    state: str | None,
) -> None:
    # No role overrides the definition, admin included: only the direction terminates.
    if actor.role in trigger.roles:
        return
    roles = ", ".join(trigger.roles)
    raise Forbidden(
        f"le rôle « {actor.role} » ({actor.id}) ne peut pas déclencher « {trigger.name} » "
        f"(rôles permis : {roles})",
        case_id=case_id,
        state=state,
        allowed=process.triggers_for(state, actor.role) if state else [],
    )


def _run_guards(trigger: TriggerDef, ctx: FireContext, allowed: list[str]) -> None:
    for guard in trigger.guards:
        message = guard(ctx)
        if message:
            raise Refusal(message, case_id=ctx.case_id, state=ctx.state, allowed=allowed)


def _append_event(
    session: Session,
    case: Case,
    *,
    now: datetime,
    actor: Actor,
    trigger: str,
    from_state: str | None,
    to_state: str,
    payload: dict[str, Any],
) -> CaseEvent:
    seq = case.last_seq + 1
    prev = case.last_hash or GENESIS
    digest = event_hash(
        case_id=case.id,
        seq=seq,
        at=now,
        actor_id=actor.id,
        role=actor.role,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        payload=payload,
        prev_hash=prev,
    )
    event = CaseEvent(
        case_id=case.id,
        seq=seq,
        at=now,
        actor_id=actor.id,
        role=actor.role,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        payload=payload,
        prev_hash=prev,
        hash=digest,
    )
    session.add(event)
    case.last_seq = seq
    case.last_hash = digest
    return event


def _cancel_clocks(session: Session, case_id: int, now: datetime, *, all_scopes: bool) -> None:
    query = update(Clock).where(Clock.case_id == case_id, Clock.status == "pending")
    if not all_scopes:
        query = query.where(Clock.state != CASE_SCOPE)
    session.execute(
        query.values(status="cancelled", cancelled_at=now),
        execution_options={"synchronize_session": False},
    )


def _cancel_named(session: Session, case_id: int, names: list[str], now: datetime) -> None:
    if names:
        session.execute(
            update(Clock)
            .where(Clock.case_id == case_id, Clock.status == "pending", Clock.name.in_(names))
            .values(status="cancelled", cancelled_at=now),
            execution_options={"synchronize_session": False},
        )


def _fired_for(session: Session, case_id: int, name: str, due: datetime) -> bool:
    query = select(Clock.id).where(
        Clock.case_id == case_id, Clock.name == name, Clock.due_at == due, Clock.status == "fired"
    )
    return session.scalar(query.limit(1)) is not None


def _create_clocks(
    session: Session,
    case: Case,
    clocks: tuple[ClockDef, ...],
    *,
    scope: str,
    now: datetime,
    settings: Mapping[str, Any],
) -> None:
    planned = plan_clocks(
        clocks,
        process=case.process,
        entered_at=case.state_entered_at,
        data=case.data,
        now=now,
        settings=settings,
    )
    for clock, due, rule in planned:
        if due < now and _fired_for(session, case.id, clock.name, due):
            # A replaced clock (an attestation's, beside the states) keeps its date: what
            # already fired for that moment must not fire a second time.
            continue
        session.add(
            Clock(
                case_id=case.id,
                name=clock.name,
                kind=clock.kind,
                state=scope,
                due_at=due,
                action=f"{clock.action}:{clock.template or clock.trigger}",
                recipients=list(clock.recipients),
                rule=rule,
                status="pending",
                created_at=now,
            )
        )


def _queue(
    session: Session,
    case: Case,
    process: CompiledProcess,
    notices: list[tuple[Notice, dict[str, Any]]],
    *,
    source_key: str,
    now: datetime,
    actor: Actor,
) -> None:
    for notice, extra in notices:
        if notice.when is not None and not notice.when(case.data):
            continue
        queue_notice(
            session,
            case=case,
            definition=process.definition,
            template=notice.template,
            recipients=notice.recipients,
            source_key=source_key,
            now=now,
            actor_id=actor.id,
            extra=extra,
        )


@contextmanager
def _conflicts(session: Session, case: Case, *, rollback: bool = True) -> Iterator[None]:
    """A write that lost a race on the case becomes a clear Conflict.

    Any flush can meet the other writer (autoflush before a query, the flush that gives the
    event its id), not only the last one: PostgreSQL blocks on the case row and then finds
    its version gone.
    """
    case_id = case.id
    try:
        yield
    except (StaleDataError, IntegrityError):
        # The sweep fires each clock in a SAVEPOINT: rolling back the whole transaction there
        # would also undo the clocks fired before this one.
        if rollback:
            session.rollback()
        raise Conflict(
            "le dossier a été modifié par quelqu'un d'autre entre-temps ; rechargez-le et "
            "recommencez",
            case_id=case_id,
        ) from None


def _flush(session: Session, case: Case, *, rollback: bool = True) -> None:
    with _conflicts(session, case, rollback=rollback):
        session.flush()


def _transition(
    session: Session,
    process: CompiledProcess,
    case: Case,
    trigger_name: str,
    raw_payload: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> CaseEvent:
    """Everything `fire` does once the case is loaded and the actor known."""
    definition = process.definition
    state = case.state
    allowed = process.triggers_for(state, actor.role)
    if trigger_name not in process.triggers_in(state):
        known = trigger_name in {t.name for t in definition.triggers}
        why = (
            f"« {definition.trigger(trigger_name).label} » ({trigger_name}) n'est pas possible "
            "dans cet état"
            if known
            else f"déclencheur inconnu « {trigger_name} »"
        )
        raise Refusal(why, case_id=case.id, state=state, allowed=allowed)
    trigger = definition.trigger(trigger_name)
    _check_role(process, trigger, actor, case.id, state)
    if not actor.covers(case.site_id):
        raise Forbidden(
            f"{actor.id} n'intervient pas sur le site « {case.site_id} »",
            case_id=case.id,
            state=state,
            allowed=[],
        )
    payload = _validate_payload(trigger, raw_payload, case.id, state, allowed)
    settings = organisation_settings(session)
    ctx = FireContext(
        case_id=case.id,
        process=case.process,
        state=state,
        trigger=trigger_name,
        payload=payload,
        data=_copy(case.data),
        now=now,
        actor_id=actor.id,
        role=actor.role,
        settings=settings,
    )
    _run_guards(trigger, ctx, allowed)
    if trigger.effect is not None:
        trigger.effect(ctx)
    dest = process.next_state(state, trigger_name, ctx)
    if dest is None:
        raise Refusal(
            f"aucune issue de « {trigger_name} » ne s'applique à ces données",
            case_id=case.id,
            state=state,
            allowed=allowed,
        )
    taken = process.transition_taken(state, trigger_name, dest, ctx)
    event_payload = payload.model_dump(mode="json", exclude_none=True)
    event = _append_event(
        session,
        case,
        now=now,
        actor=actor,
        trigger=trigger_name,
        from_state=state,
        to_state=dest,
        payload=event_payload,
    )
    case.data = ctx.data
    moved = dest != state
    dest_def = definition.state(dest)
    if moved:
        case.state = dest
        case.state_entered_at = now
    if dest_def.final:
        case.closed_at = now
        _cancel_clocks(session, case.id, now, all_scopes=True)
    elif moved or trigger.replan_clocks:
        _cancel_clocks(session, case.id, now, all_scopes=False)
        _create_clocks(session, case, dest_def.clocks, scope=dest, now=now, settings=settings)
    if trigger.case_clocks and not dest_def.final:
        _cancel_named(session, case.id, [c.name for c in trigger.case_clocks], now)
        _create_clocks(
            session, case, trigger.case_clocks, scope=CASE_SCOPE, now=now, settings=settings
        )
    session.flush()
    notices: list[tuple[Notice, dict[str, Any]]] = [
        (n, {}) for n in (*trigger.notify, *taken.notify)
    ] + ctx.notices
    if moved:
        notices = [(n, {}) for n in dest_def.on_enter] + notices
    _queue(session, case, process, notices, source_key=f"event:{event.id}", now=now, actor=actor)
    return event


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(dict(data or {}))


def _require_aware(now: datetime) -> datetime:
    return to_utc(now)


def _is_identifier(value: Any) -> bool:
    """A value that can name a row: looked up as typed, it could crash PostgreSQL."""
    return (
        isinstance(value, str)
        and len(value) <= ID_MAX
        and control_problem(value, single_line=True) is None
    )


@contextmanager
def _said_in_words(definition: ProcessDefinition) -> Iterator[None]:
    """A refusal leaves the engine naming the case's state and the allowed triggers by the
    labels staff read (DESIGN rule 8): one place, whatever raised it."""
    try:
        yield
    except Refusal as refusal:
        if refusal.state is not None:
            try:
                state_label: str | None = definition.state(refusal.state).label
            except KeyError:
                state_label = None
            labels = {t.name: t.label for t in definition.triggers}
            refusal.in_words(state_label, labels)
        raise


def open_case(
    session: Session,
    process_name: str,
    *,
    resident_id: str,
    actor_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    version: int | None = None,
) -> Case:
    """Open a case of the latest version of a process (or `version`) for a resident."""
    now = _require_aware(now)
    process = registry.get(process_name, version)
    definition = process.definition
    actor = load_actor(session, actor_id)
    trigger = definition.trigger(definition.open_trigger)
    _check_role(process, trigger, actor, None, None)
    resident = session.get(Resident, resident_id) if _is_identifier(resident_id) else None
    if resident is None:
        raise NotFound(f"résident inconnu : « {resident_id} »")
    raw = dict(payload)
    asked = raw.get("dwelling")
    if asked is not None and not _is_identifier(asked):
        raise InvalidPayload(f"dwelling : identifiant de logement invalide « {str(asked)[:64]} »")
    if asked and session.get(Dwelling, asked) is None:
        raise InvalidPayload(f"logement inconnu : « {asked} »")
    if asked and resident.dwelling_id and asked != resident.dwelling_id:
        # A case on someone else's dwelling would route and write letters to the wrong site.
        raise InvalidPayload(
            f"le logement « {asked} » n'est pas celui du résident {resident_id} "
            f"({resident.dwelling_id}) : corrigez l'annuaire s'il a déménagé"
        )
    dwelling_id = asked or resident.dwelling_id
    if "dwelling" in trigger.payload.model_fields and dwelling_id:
        raw["dwelling"] = dwelling_id
    dwelling = session.get(Dwelling, dwelling_id) if dwelling_id else None
    if dwelling is None:
        raise InvalidPayload(
            f"le résident {resident_id} n'a pas de logement connu : précisez dwelling=<id>"
        )
    site = dwelling.site
    if site.kind not in definition.site_kinds:
        raise Refusal(
            f"le processus « {definition.name} » ne s'applique pas au site « {site.id} » "
            f"({site.kind}) ; sites permis : {', '.join(definition.site_kinds)}"
        )
    if not actor.covers(site.id):
        raise Forbidden(f"{actor.id} n'intervient pas sur le site « {site.id} »")
    parsed = _validate_payload(trigger, raw, None, None, [])
    settings = organisation_settings(session)
    ctx = FireContext(
        case_id=None,
        process=definition.name,
        state=None,
        trigger=trigger.name,
        payload=parsed,
        data={},
        now=now,
        actor_id=actor.id,
        role=actor.role,
        settings=settings,
    )
    _run_guards(trigger, ctx, [])
    if trigger.effect is not None:
        trigger.effect(ctx)
    case = Case(
        process=definition.name,
        process_version=definition.version,
        state=definition.initial,
        resident_id=resident.id,
        dwelling_id=dwelling.id,
        site_id=site.id,
        data=ctx.data,
        opened_at=now,
        state_entered_at=now,
        last_seq=0,
        last_hash="",
    )
    session.add(case)
    session.flush()
    event = _append_event(
        session,
        case,
        now=now,
        actor=actor,
        trigger=trigger.name,
        from_state=None,
        to_state=definition.initial,
        payload=parsed.model_dump(mode="json", exclude_none=True),
    )
    initial = definition.state(definition.initial)
    _create_clocks(session, case, initial.clocks, scope=initial.id, now=now, settings=settings)
    _create_clocks(session, case, trigger.case_clocks, scope=CASE_SCOPE, now=now, settings=settings)
    session.flush()
    notices: list[tuple[Notice, dict[str, Any]]] = [
        (n, {}) for n in (*initial.on_enter, *trigger.notify)
    ] + ctx.notices
    _queue(session, case, process, notices, source_key=f"event:{event.id}", now=now, actor=actor)
    _flush(session, case)
    return case


def load_case(session: Session, case_id: int) -> Case:
    # Beyond a signed 64-bit integer no row exists, and asking would overflow the driver.
    case = session.get(Case, case_id) if 0 < case_id < 2**63 else None
    if case is None:
        raise NotFound(f"dossier inconnu : C-{case_id}")
    return case


def fire(
    session: Session,
    case_id: int,
    trigger: str,
    *,
    payload: Mapping[str, Any] | None = None,
    actor_id: str,
    now: datetime,
    expected_version: int | None = None,
) -> Case:
    """Fire `trigger` on a stored case as `actor_id` at `now`; returns the updated case."""
    now = _require_aware(now)
    case = load_case(session, case_id)
    process = registry.get(case.process, case.process_version)
    with _said_in_words(process.definition):
        return _fire_loaded(
            session, process, case, trigger, payload=payload, actor_id=actor_id, now=now,
            expected_version=expected_version,
        )


def _fire_loaded(
    session: Session,
    process: CompiledProcess,
    case: Case,
    trigger: str,
    *,
    payload: Mapping[str, Any] | None,
    actor_id: str,
    now: datetime,
    expected_version: int | None,
) -> Case:
    if expected_version is not None and case.version != expected_version:
        raise Conflict(
            f"version {expected_version} attendue, le dossier est en version {case.version} "
            "(modifié entre-temps)",
            case_id=case.id,
            state=case.state,
            allowed=process.staff_triggers_in(case.state),
        )
    actor = load_actor(session, actor_id)
    if case.closed_at is not None:
        raise Refusal("le dossier est clos", case_id=case.id, state=case.state, allowed=[])
    _refuse_backdating(session, process, case, now)
    with _conflicts(session, case):
        _transition(session, process, case, trigger, payload or {}, actor, now)
        session.flush()
    return case


def _refuse_backdating(
    session: Session, process: CompiledProcess, case: Case, now: datetime
) -> None:
    """A history is written in time order: nothing may be recorded before its last event."""
    last = session.scalar(
        select(CaseEvent.at).where(CaseEvent.case_id == case.id, CaseEvent.seq == case.last_seq)
    )
    if last is not None and now < last:
        raise Refusal(
            f"la date de l'action ({format_local(now)}) précède le dernier événement du dossier "
            f"({format_local(last)}) : un historique s'écrit dans l'ordre",
            case_id=case.id,
            state=case.state,
            allowed=process.staff_triggers_in(case.state),
        )


def fire_clock(session: Session, clock: Clock, now: datetime) -> str:
    """Fire one due clock as the system actor. Returns what happened, for the sweep's summary.

    A reminder or escalation appends a `clock:<name>` event (the audit trail shows who was told
    and when) and queues its notifications; a `fire:` clock runs its trigger through the engine.
    """
    now = _require_aware(now)
    case = load_case(session, clock.case_id)
    if case.closed_at is not None or (clock.state not in (CASE_SCOPE, case.state)):
        clock.status = "cancelled"
        clock.cancelled_at = now
        return "stale"
    process = registry.get(case.process, case.process_version)
    actor = Actor(SYSTEM_ACTOR, SYSTEM_ROLE, None)
    verb, _, target = clock.action.partition(":")
    if verb not in CLOCK_VERBS or not target:
        raise ValueError(
            f"action inconnue « {clock.action} » (attendu : notify:<modèle> ou fire:<déclencheur>)"
        )
    clock.status = "fired"
    clock.fired_at = now
    if verb == "fire":
        with _conflicts(session, case, rollback=False):
            _transition(session, process, case, target, {}, actor, now)
    else:
        _append_event(
            session,
            case,
            now=now,
            actor=actor,
            trigger=f"clock:{clock.name}",
            from_state=case.state,
            to_state=case.state,
            payload={"clock": clock.id, "kind": clock.kind, "due_at": clock.due_at.isoformat()},
        )
        _flush(session, case, rollback=False)
        notice = Notice(template=target, recipients=tuple(clock.recipients))
        _queue(
            session,
            case,
            process,
            [(notice, {"clock": clock})],
            source_key=f"clock:{clock.id}",
            now=now,
            actor=actor,
        )
    _flush(session, case, rollback=False)
    return clock.kind
