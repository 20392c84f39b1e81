"""Who gets a notification: staff by role and site, the direction, the planner, the resident.

A role with nobody in it on the case's site falls back to the organisation's admins, and the
fallback is written on the notification so that someone fixes the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.cases import Case
from models.directory import Resident, Staff, StaffSite


@dataclass(frozen=True)
class Recipient:
    role: str
    staff: Staff | None = None
    resident: Resident | None = None
    note: str | None = None

    @property
    def key(self) -> str:
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        assert self.resident is not None
        return f"resident:{self.resident.id}"


def staff_with_role(session: Session, role: str, site_id: str) -> list[Staff]:
    """Active staff of a role whose reach includes the site: `sites: all`, or the site listed.
    The direction (every dgls, hygiene.md) is reached this way too: a dgls limited to some
    sites hears of those sites only."""
    covering = select(StaffSite.staff_id).where(StaffSite.site_id == site_id)
    query = select(Staff).where(
        Staff.role == role,
        Staff.active.is_(True),
        or_(Staff.all_sites.is_(True), Staff.id.in_(covering)),
    )
    return list(session.scalars(query.order_by(Staff.id)))


def admins(session: Session, site_id: str | None) -> list[Staff]:
    """The admins who answer for a site (or, without a site, those of every site)."""
    if site_id is None:
        query = select(Staff).where(
            Staff.role == "admin", Staff.active.is_(True), Staff.all_sites.is_(True)
        )
        return list(session.scalars(query.order_by(Staff.id)))
    return staff_with_role(session, "admin", site_id)


class Lookup(Protocol):
    """Where routing finds people: the session itself, or a batch's cache of it (the sweep)."""

    def resident(self, resident_id: str) -> Resident | None: ...
    def staff(self, staff_id: str) -> Staff | None: ...
    def staff_with_role(self, role: str, site_id: str) -> list[Staff]: ...
    def admins(self, site_id: str) -> list[Staff]: ...


class SessionLookup:
    def __init__(self, session: Session) -> None:
        self.session = session

    def resident(self, resident_id: str) -> Resident | None:
        return self.session.get(Resident, resident_id)

    def staff(self, staff_id: str) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def staff_with_role(self, role: str, site_id: str) -> list[Staff]:
        return staff_with_role(self.session, role, site_id)

    def admins(self, site_id: str) -> list[Staff]:
        return admins(self.session, site_id)


def resolve(
    session: Session, case: Case, recipients: Iterable[str], *, actor_id: str | None = None
) -> list[Recipient]:
    """The people behind a notice's recipient names, each once."""
    return resolve_with(
        SessionLookup(session),
        site_id=case.site_id,
        resident_id=case.resident_id,
        data=case.data,
        recipients=recipients,
        actor_id=actor_id,
    )


def resolve_with(
    lookup: Lookup,
    *,
    site_id: str,
    resident_id: str,
    data: dict[str, Any],
    recipients: Iterable[str],
    actor_id: str | None,
) -> list[Recipient]:
    found: dict[str, Recipient] = {}

    def add(recipient: Recipient) -> None:
        found.setdefault(recipient.key, recipient)

    for name in recipients:
        if name == "resident":
            resident = lookup.resident(resident_id)
            if resident is not None and resident.consent and (resident.email or resident.phone):
                add(Recipient("resident", resident=resident))
            continue
        if name in ("actor", "planner"):
            # The system (actor_id None) is nobody's colleague: only a planner can be reached.
            staff_id = actor_id if name == "actor" else planner_of(data)
            staff = lookup.staff(staff_id) if staff_id else None
            if staff is not None and staff.active:
                add(Recipient(staff.role, staff=staff))
            continue
        people = lookup.staff_with_role(name, site_id)
        if people:
            for staff in people:
                add(Recipient(name, staff=staff))
            continue
        note = f"aucun « {name} » pour le site {site_id} : envoyé à l'administration"
        for admin in lookup.admins(site_id):
            add(Recipient(name, staff=admin, note=note))
    return list(found.values())


def planner_of(data: dict[str, Any]) -> str | None:
    planner = data.get("visit_planned_by")
    return str(planner) if planner else None
