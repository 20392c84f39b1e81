"""What the landlord portal shows: its properties' cases (no asylum, no free text, no
resident), and the monthly exports kept for that landlord, each file found only inside the
landlord's own folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import AuditExport
from models.cases import Case
from models.directory import Dwelling, Landlord, Site
from notifications.audit_dispatch import exports_folder
from processes.read_policy import Viewer, visible_cases
from suivi.web.views.common import MONTHS_FR, definition_of, when
from suivi.web.views.words import english, label_of

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
SIDECAR = ".manifest.json"


@dataclass
class PortalCase:
    id: int
    reference: str
    process_label: str
    state_label: str
    site: str
    dwelling: str
    opened_at: str
    closed_at: str


@dataclass
class PortalExport:
    id: int
    month: str
    format: str
    cases: int
    events: int
    content_sha256: str
    with_manifest: bool


@dataclass
class Portal:
    landlord: str
    cases: list[PortalCase]
    exports: list[PortalExport]


def portal_cases(session: Session, viewer: Viewer) -> list[PortalCase]:
    # The read policy decides (landlord's dwellings, never a sensitive process).
    rows = session.execute(
        select(Case, Site.name, Dwelling.label)
        .join(Site, Site.id == Case.site_id)
        .outerjoin(Dwelling, Dwelling.id == Case.dwelling_id)
        .where(visible_cases(viewer))
        .order_by(Case.closed_at.is_not(None), Case.opened_at.desc(), Case.id.desc())
    )
    result = []
    for case, site, dwelling in rows:
        definition = definition_of(case)
        result.append(
            PortalCase(
                id=case.id, reference=case.reference, process_label=label_of(definition),
                state_label=label_of(definition.state(case.state)), site=site,
                dwelling=dwelling or "", opened_at=when(case.opened_at),
                closed_at=when(case.closed_at),
            )
        )
    return result


def export_file(session: Session, viewer: Viewer, export_id: int) -> tuple[AuditExport, Path]:
    """The export and its file if it is this landlord's and lies in its own exports folder;
    LookupError otherwise (another landlord's, a file moved, a path pointing elsewhere)."""
    if not viewer.is_landlord or viewer.landlord_id is None:
        raise LookupError(export_id)
    row = session.get(AuditExport, export_id)
    if row is None or row.landlord_id != viewer.landlord_id or not row.path:
        raise LookupError(export_id)
    own = (exports_folder(session) / viewer.landlord_id).resolve()
    path = Path(row.path).resolve()
    if not path.is_relative_to(own) or not path.is_file() or row.format not in MEDIA_TYPES:
        raise LookupError(export_id)
    return row, path


def _month(row: AuditExport) -> str:
    if english():
        return row.period_to.strftime("%B %Y")
    if row.period_from.day == 1 and row.period_from.month == row.period_to.month:
        return f"{MONTHS_FR[row.period_to.month - 1]} {row.period_to.year}"
    return f"du {row.period_from:%d/%m/%Y} au {row.period_to:%d/%m/%Y}"


def portal_exports(session: Session, viewer: Viewer) -> list[PortalExport]:
    if viewer.landlord_id is None:
        return []
    rows = session.scalars(
        select(AuditExport)
        .where(AuditExport.landlord_id == viewer.landlord_id, AuditExport.path.is_not(None))
        .order_by(AuditExport.period_to.desc(), AuditExport.format, AuditExport.id.desc())
    )
    found = []
    for row in rows:
        try:
            _, path = export_file(session, viewer, row.id)
        except LookupError:
            continue  # made elsewhere (a command's -o FILE) or removed: not served
        found.append(
            PortalExport(
                id=row.id, month=_month(row), format=row.format.upper(), cases=row.cases,
                events=row.events, content_sha256=row.content_sha256,
                with_manifest=path.with_name(path.name + SIDECAR).is_file(),
            )
        )
    return found


def portal(session: Session, viewer: Viewer) -> Portal:
    landlord = session.get(Landlord, viewer.landlord_id) if viewer.landlord_id else None
    return Portal(
        landlord=landlord.name if landlord else "",
        cases=portal_cases(session, viewer),
        exports=portal_exports(session, viewer),
    )
