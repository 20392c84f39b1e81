"""A clock's notification gets its text when delivery claims it, not when the clock fires.

The sweep writes a clock's outbox rows (who, which channel, which kind, which clock) in the
transaction of its event, and leaves the text for later: rendering while the batch holds
the database was half of the sweep's time, for messages nobody reads before delivery.
Delivery composes each row from its clock, its case and the directory, and stores the text
on the row before sending it, so the outbox keeps exactly what went out.

The row keeps the case's state and data as the clock found them, and the clock row never
changes once fired (kind, due date, rule): a reminder says what was true when it fell due,
even if the case has moved on since. Names and places come from the directory as it is
when the message leaves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, Clock, Notification
from models.directory import Organisation, Resident, Staff
from notifications.outbox import case_context
from notifications.render import privacy_for, render
from processes.calendar import format_local


class ComposeError(Exception):
    """A row that cannot be composed: its clock or case is missing, or its template fails."""


def clock_values(clock: Clock) -> dict[str, Any]:
    """What a clock adds to its case's template context."""
    return {
        "clock_label": clock.rule.split(" : ", 1)[0],
        "due_at": format_local(clock.due_at),
        "clock_kind": clock.kind,
    }


def message_of(session: Session, row: Notification) -> tuple[str, str]:
    """(subject, body) of a row: as stored, or composed now from its clock (not stored)."""
    if row.subject is not None and row.body is not None:
        return row.subject, row.body
    return compose(session, row)


def compose(session: Session, row: Notification) -> tuple[str, str]:
    """The text of a clock's row, for its recipient, language and channel."""
    # Imported here: the registry compiles every process.
    from processes import registry

    clock = session.get(Clock, row.clock_id) if row.clock_id is not None else None
    case = session.get(Case, row.case_id) if row.case_id is not None else None
    if clock is None or case is None:
        raise ComposeError(
            f"notification n° {row.id} : ni texte ni horloge pour le composer "
            f"(horloge {row.clock_id}, dossier {row.case_id})"
        )
    definition = registry.get(case.process, case.process_version).definition
    context = case_context(session, case, definition, state=row.case_state, data=row.case_data)
    context.update(clock_values(clock))
    context["recipient"], language = _recipient(session, row)
    context["recipient_role"] = row.recipient_role or ""
    privacy = privacy_for(row.channel_url, sensitive_process=definition.sensitive)
    try:
        return render(row.kind, language, context, privacy=privacy)
    except Exception as error:  # a template error is a bug: said on the row, never hidden
        raise ComposeError(
            f"notification n° {row.id} : modèle « {row.kind} » illisible "
            f"({type(error).__name__} : {error})"
        ) from error


def _recipient(session: Session, row: Notification) -> tuple[str, str]:
    """The name a message greets, and the language it is written in."""
    org = session.scalars(select(Organisation).limit(1)).first()
    language = org.language if org else "fr"
    if row.recipient_staff_id is not None:
        staff = session.get(Staff, row.recipient_staff_id)
        if staff is not None:
            return staff.name, staff.language or language
    if row.recipient_resident_id is not None:
        resident = session.get(Resident, row.recipient_resident_id)
        if resident is not None:
            return resident.name, language
    return "", language
