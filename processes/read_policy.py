"""Who may see what: one read policy for the web, the API, the command line and the exports.

Beside the engine's authority (who may *do* what, checked in `processes.engine`), this says
who may *read* a case, a resident or a message:

- staff see the cases of the sites they cover;
- a sensitive process (asylum) only the CADA's own staff (linked to its site by name, not by
  `sites: all`) and the direction (dgls, rgls) on the sites they cover;
- a landlord's users only the cases in their landlord's dwellings, never a sensitive process,
  and redacted: no free-text notes, contacts or nationality.

A case one may not see answers as one that does not exist (`NotFound`, the engine's own
words), and the attempt is logged on `suivi.access`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from models.cases import Case, Notification
from models.directory import Dwelling, Organisation, Resident, Site, Staff
from processes import registry
from processes.errors import NotFound

log = logging.getLogger("suivi.access")

DIRECTION_ROLES = ("dgls", "rgls")
LANDLORD_ROLE = "landlord"
CADA_KIND = "cada"
# Free text written by staff, contacts and nationality: never shown to a landlord's users.
# (Listed by name until payload fields declare themselves as free text.)
REDACTED_FIELDS = frozenset(
    {
        "description", "notes", "note", "obstacles", "reason", "grounds", "actions",
        "override_reason", "explained_by", "summary", "comment", "observations",
        "email", "phone", "contact", "nationality",
    }
)


@dataclass(frozen=True)
class Viewer:
    """A person reading: who, with which role, on which sites or for which landlord."""

    staff_id: str
    role: str
    site_ids: frozenset[str]
    all_sites: bool = False
    landlord_id: str | None = None
    language: str = "fr"

    @classmethod
    def of(cls, staff: Staff, default_language: str = "fr") -> Viewer:
        return cls(
            staff_id=staff.id,
            role=staff.role,
            site_ids=frozenset(staff.site_ids),
            all_sites=staff.all_sites,
            landlord_id=staff.landlord_id,
            language=staff.language or default_language,
        )

    @property
    def is_landlord(self) -> bool:
        return self.role == LANDLORD_ROLE

    @property
    def is_direction(self) -> bool:
        return self.role in DIRECTION_ROLES

    def covers(self, site_id: str) -> bool:
        return not self.is_landlord and (self.all_sites or site_id in self.site_ids)


def load_viewer(session: Session, staff_id: str) -> Viewer:
    """The viewer for an active staff member; NotFound (as the engine says it) otherwise."""
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotFound(f"membre du personnel inconnu ou inactif : « {staff_id} »")
    org = session.scalars(select(Organisation).limit(1)).first()
    return Viewer.of(staff, (org.language if org else None) or "fr")


@cache
def sensitive_processes() -> frozenset[str]:
    return frozenset(p.name for p in registry.latest_all() if p.definition.sensitive)


def _covered(viewer: Viewer, site_column: Any) -> ColumnElement[bool]:
    if viewer.is_landlord:
        return false()
    if viewer.all_sites:
        return true()
    return site_column.in_(sorted(viewer.site_ids)) if viewer.site_ids else false()


def _sensitive_allowed(viewer: Viewer, site_column: Any) -> ColumnElement[bool]:
    """Where this viewer may read a sensitive process: the direction on its sites, others
    only on the sites they are named on (an admin's `sites: all` is not the CADA's team)."""
    if viewer.is_direction:
        return _covered(viewer, site_column)
    if viewer.is_landlord or not viewer.site_ids:
        return false()
    return site_column.in_(sorted(viewer.site_ids))


def _landlord_dwellings(landlord_id: str) -> Any:
    # A dwelling may belong to another landlord than its site's (mixed residences).
    return (
        select(Dwelling.id)
        .join(Site, Site.id == Dwelling.site_id)
        .where(func.coalesce(Dwelling.landlord_id, Site.landlord_id) == landlord_id)
    )


def visible_cases(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on `Case`: the cases this viewer may read."""
    sensitive = sorted(sensitive_processes())
    not_sensitive = Case.process.not_in(sensitive) if sensitive else true()
    if viewer.is_landlord:
        if viewer.landlord_id is None:
            return false()
        return and_(not_sensitive, Case.dwelling_id.in_(_landlord_dwellings(viewer.landlord_id)))
    return and_(
        _covered(viewer, Case.site_id),
        or_(not_sensitive, _sensitive_allowed(viewer, Case.site_id)),
    )


def can_see_case(session: Session, viewer: Viewer, case: Case) -> bool:
    return (
        session.scalar(select(Case.id).where(Case.id == case.id, visible_cases(viewer)))
        is not None
    )


def unknown_case(case_id: int) -> NotFound:
    """The answer for a case one may not see: word for word the engine's for a missing one."""
    return NotFound(f"dossier inconnu : C-{case_id}")


def readable_case(session: Session, viewer: Viewer, case_id: int) -> Case:
    """The case if this viewer may read it; otherwise NotFound, as if it did not exist."""
    case = session.scalar(select(Case).where(Case.id == case_id, visible_cases(viewer)))
    if case is None:
        if session.get(Case, case_id) is not None:
            log.warning("lecture refusée : %s (%s) a demandé C-%s", viewer.staff_id,
                        viewer.role, case_id)
        raise unknown_case(case_id)
    return case


def visible_residents(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on `Resident`: housed where the viewer may read (a CADA's residents
    only by those who may read its asylum cases), or with a case the viewer may read."""
    with_visible_case = Resident.id.in_(select(Case.resident_id).where(visible_cases(viewer)))
    if viewer.is_landlord:
        if viewer.landlord_id is None:
            return false()
        housed = (
            _landlord_dwellings(viewer.landlord_id)
            .where(Site.kind != CADA_KIND)
        )
    else:
        housed = (
            select(Dwelling.id)
            .join(Site, Site.id == Dwelling.site_id)
            .where(
                _covered(viewer, Dwelling.site_id),
                or_(Site.kind != CADA_KIND, _sensitive_allowed(viewer, Dwelling.site_id)),
            )
        )
    return or_(Resident.dwelling_id.in_(housed), with_visible_case)


def can_see_resident(session: Session, viewer: Viewer, resident: Resident) -> bool:
    query = select(Resident.id).where(Resident.id == resident.id, visible_residents(viewer))
    return session.scalar(query) is not None


def readable_resident(session: Session, viewer: Viewer, resident_id: str) -> Resident:
    resident = session.scalar(
        select(Resident).where(Resident.id == resident_id, visible_residents(viewer))
    )
    if resident is None:
        if session.get(Resident, resident_id) is not None:
            log.warning("lecture refusée : %s (%s) a demandé le résident %s",
                        viewer.staff_id, viewer.role, resident_id)
        raise NotFound(f"résident inconnu : « {resident_id} »")
    return resident


def visible_notifications(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on `Notification`: those sent to the viewer, and (staff only) those
    about a case the viewer may read."""
    mine = Notification.recipient_staff_id == viewer.staff_id
    if viewer.is_landlord:
        return mine
    about_visible = Notification.case_id.in_(select(Case.id).where(visible_cases(viewer)))
    return or_(mine, about_visible)


def can_see_notification(session: Session, viewer: Viewer, notification: Notification) -> bool:
    query = select(Notification.id).where(
        Notification.id == notification.id, visible_notifications(viewer)
    )
    return session.scalar(query) is not None


def redact(viewer: Viewer, data: Mapping[str, Any]) -> dict[str, Any]:
    """A payload or case data as this viewer may read it: without free text and contacts
    for a landlord's users, unchanged for staff."""
    if not viewer.is_landlord:
        return dict(data)
    return {k: _redact_value(v) for k, v in data.items() if k not in REDACTED_FIELDS}


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items() if k not in REDACTED_FIELDS}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def redacted_all(viewer: Viewer, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [redact(viewer, item) for item in items]
