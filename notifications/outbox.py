"""The outbox: notification rows written in the engine's transaction, delivered later by a flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, Clock, Notification
from models.directory import Dwelling, Organisation, Resident, Site, Staff
from notifications.render import privacy_for, render
from notifications.routing import Recipient, resolve
from processes.calendar import format_local, parse_moment

CONSOLE_URL = "console://"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def channels_for(recipient: Recipient, settings: dict[str, Any]) -> list[str]:
    if recipient.staff is not None:
        return list(recipient.staff.notify or []) or [CONSOLE_URL]
    resident = recipient.resident
    assert resident is not None
    # Residents are reached through the organisation's own gateway, when it has one. Without
    # it nothing is queued: a console row would read `sent` though the resident got nothing.
    template = str(settings.get("resident_channel") or "")
    needs = [k for k in ("email", "phone") if "{" + k + "}" in template]
    if template and all(getattr(resident, k) for k in needs):
        # Encoded, so that a value can only ever be one value: `a@b.org&bcc=c@d.org` is
        # refused at import, and whatever got past it still cannot add a parameter.
        try:
            return [template.format(
                email=quote(resident.email or "", safe="@"),
                phone=quote(resident.phone or "", safe=""),
            )]
        except (KeyError, IndexError, ValueError):
            # A template stored before settings were checked at import (`{oops}`): like no
            # gateway at all, rather than every action on a resident's case failing.
            return []
    return []


def case_context(
    session: Session,
    case: Case,
    definition: Any,
    *,
    state: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    org = session.scalars(select(Organisation).limit(1)).first()
    return context_of(
        case,
        definition,
        organisation=org.name if org else "",
        base_url=base_url_of(org),
        resident=session.get(Resident, case.resident_id),
        dwelling=session.get(Dwelling, case.dwelling_id) if case.dwelling_id else None,
        site=session.get(Site, case.site_id),
        state=state,
        data=data,
    )


def base_url_of(org: Organisation | None) -> str:
    return (org.base_url if org and org.base_url else DEFAULT_BASE_URL).rstrip("/")


def context_of(
    case: Any,
    definition: Any,
    *,
    organisation: str,
    base_url: str,
    resident: Resident | None,
    dwelling: Dwelling | None,
    site: Site | None,
    state: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What every template may read about a case (a `Case` or the sweep's lighter head).

    `state`, `data`: the case as the message found it, when it has moved on since (a clock's
    notice, composed at delivery).
    """
    state_name = state or case.state
    current = definition.state(state_name)
    return {
        "organisation": organisation,
        "case_ref": case.reference,
        "case_id": case.id,
        "link": f"{base_url}/cases/{case.id}",
        "process": definition.name,
        "process_label": definition.label,
        "process_label_en": definition.label_en,
        "state": state_name,
        "state_label": current.label,
        "state_label_en": current.label_en,
        "resident": resident.name if resident else case.resident_id,
        "dwelling": dwelling.label if dwelling else "",
        "site": site.name if site else case.site_id,
        "data": case.data if data is None else data,
        "fmt": _format_any,
    }


def queue_notice(
    session: Session,
    *,
    case: Case,
    definition: Any,
    template: str,
    recipients: tuple[str, ...],
    source_key: str,
    now: datetime,
    actor_id: str | None,
    extra: dict[str, Any] | None = None,
) -> list[Notification]:
    """Route, render and store one notice: one outbox row per recipient and channel.

    A clock's notice (`extra={"clock": clock}`) is routed now and composed at delivery
    (notifications.compose), like the rows the sweep writes in bulk.
    """
    org = session.scalars(select(Organisation).limit(1)).first()
    settings = dict(org.settings or {}) if org else {}
    language = org.language if org else "fr"
    clock: Clock | None = (extra or {}).get("clock")
    context: dict[str, Any] = {}
    if clock is None:
        context = case_context(session, case, definition)
        context.update(extra or {})
        context["clock_label"] = ""
        context["due_at"] = ""
    rows: list[Notification] = []
    for recipient in resolve(session, case, recipients, actor_id=actor_id):
        person_language = (
            recipient.staff.language if recipient.staff and recipient.staff.language else language
        )
        for index, url in enumerate(channels_for(recipient, settings)):
            subject: str | None = None
            body: str | None = None
            if clock is None:
                subject, body = render(
                    template,
                    person_language,
                    dict(context, recipient=recipient_name(recipient),
                         recipient_role=recipient.role),
                    privacy=privacy_for(url, sensitive_process=definition.sensitive),
                )
            row = Notification(
                case_id=case.id,
                clock_id=clock.id if clock is not None else None,
                case_state=case.state if clock is not None else None,
                case_data=dict(case.data or {}) if clock is not None else None,
                recipient_staff_id=recipient.staff.id if recipient.staff else None,
                recipient_resident_id=recipient.resident.id if recipient.resident else None,
                recipient_role=recipient.role,
                channel_url=url,
                kind=template,
                subject=subject,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                idempotency_key=f"{source_key}:{recipient.key}:{index}",
                created_at=now,
                note=recipient.note,
            )
            session.add(row)
            rows.append(row)
    return rows


def queue_staff_notice(
    session: Session,
    *,
    staff: Staff,
    template: str,
    context: dict[str, Any],
    source_key: str,
    now: datetime,
) -> list[Notification]:
    """A notice about no single case (the morning agenda): one row per channel of one person.

    Not a sensitive process as such: a template that lists sensitive cases keeps their
    details out itself. The key must be unique per message (`source_key:index`).
    """
    org = session.scalars(select(Organisation).limit(1)).first()
    settings = dict(org.settings or {}) if org else {}
    language = staff.language or (org.language if org else "fr")
    recipient = Recipient(staff.role, staff=staff)
    rows: list[Notification] = []
    for index, url in enumerate(channels_for(recipient, settings)):
        privacy = privacy_for(url, sensitive_process=False)
        subject, body = render(
            template,
            language,
            dict(context, organisation=org.name if org else "", recipient_role=staff.role),
            privacy=privacy,
        )
        row = Notification(
            case_id=None,
            recipient_staff_id=staff.id,
            recipient_role=staff.role,
            channel_url=url,
            kind=template,
            subject=subject,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            idempotency_key=f"{source_key}:{index}",
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _format_any(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return format_local(parse_moment(value)) if value else ""
    return format_local(value)


def recipient_name(recipient: Recipient) -> str:
    if recipient.staff is not None:
        return recipient.staff.name
    assert recipient.resident is not None
    return recipient.resident.name
